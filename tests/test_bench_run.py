#!/usr/bin/env python3
"""tool.bench_run: `make bench`'s publishing is all or nothing.

Each case runs `scripts/bench run` with tiny settings against copies of the
committed results/, README.md and docs/results.md, told to publish there:
  a run whose variant fails (a harness that fails for floor)  -> exit 1, copies unchanged byte for byte;
  a run without a dataset                                     -> exit 2, one line naming MICROGPT_DATA, unchanged;
  a dataset that is not the reference's                       -> refused (exit 2); with --allow-other-dataset
                                                                 it runs, marked, and README.md is not written;
  VARIANTS= (two variants)                                     -> exit 0, the factor chain skipped in one line;
  the same run as the first without the failure               -> exit 0 and the copies change (the check can fail).
Usage: test_bench_run.py BUILD_DIR DATASET"""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(PROJECT_DIR, "scripts", "bench")
TINY = ["--steps", "3", "--k-steps", "2", "--rounds", "1", "--phase-iterations", "2", "--instruction-steps", "0",
        "--factor-sizes", "", "--skip-baselines"]
FAILURES = []


def expect(label, condition, output=""):
    print(f"{'ok' if condition else 'FAILED'}: {label}")
    if not condition:
        FAILURES.append(label)
        print(output[-3000:])


def published_copy(work):
    """A copy of what a run publishes: results/, README.md, docs/results.md."""
    shutil.copytree(os.path.join(PROJECT_DIR, "results"), os.path.join(work, "results"))
    os.makedirs(os.path.join(work, "docs"))
    for name in ("README.md", "docs/results.md"):
        shutil.copy2(os.path.join(PROJECT_DIR, name), os.path.join(work, name))
    return ["--output-dir", os.path.join(work, "results"), "--readme", os.path.join(work, "README.md")]


def unchanged(work):
    comparison = filecmp.dircmp(os.path.join(PROJECT_DIR, "results"), os.path.join(work, "results"))
    files = [filecmp.cmp(os.path.join(PROJECT_DIR, n), os.path.join(work, n), shallow=False)
             for n in ("README.md", "docs/results.md")]
    return (not comparison.diff_files and not comparison.left_only and not comparison.right_only and all(files) and
            all(filecmp.cmp(os.path.join(comparison.left, n), os.path.join(comparison.right, n), shallow=False)
                for n in comparison.common_files))


def bench(arguments, env=None):
    done = subprocess.run([sys.executable, TOOL, "run", *arguments], capture_output=True, text=True,
                          env=env or os.environ)
    return done.returncode, done.stdout + done.stderr


def failing_build(work, build_dir):
    """BUILD_DIR's programs, but a harness that fails for floor (as a crash would)."""
    fake = os.path.join(work, "build")
    os.makedirs(fake)
    for name in os.listdir(build_dir):
        if name.startswith("microgpt-"):
            os.symlink(os.path.join(build_dir, name), os.path.join(fake, name))
    os.unlink(os.path.join(fake, "microgpt-bench"))
    with open(os.path.join(fake, "microgpt-bench"), "w") as f:
        f.write(f'#!/bin/sh\ncase " $* " in *" --variant floor "*) echo "injected failure" >&2; exit 1;; esac\n'
                f'exec {os.path.join(build_dir, "microgpt-bench")} "$@"\n')
    os.chmod(os.path.join(fake, "microgpt-bench"), 0o755)
    return os.path.join(fake, "microgpt-bench")


def main():
    build_dir, data = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    harness = os.path.join(build_dir, "microgpt-bench")
    with tempfile.TemporaryDirectory(prefix="test-bench-run-") as work:
        targets = published_copy(work)
        code, output = bench(TINY + targets + ["--bench", failing_build(work, build_dir), "--data", data,
                                               "--run-dir", os.path.join(work, "failed")])
        expect("a failing variant: exit 1, where the partial outputs are", code == 1 and "injected failure" in output
               and f"partial outputs in {os.path.join(work, 'failed')}" in output, output)
        expect("a failing variant leaves results/, README.md and docs/results.md as they were", unchanged(work))

        env = {k: v for k, v in os.environ.items() if k != "MICROGPT_DATA"}
        code, output = bench(TINY + targets + ["--bench", harness, "--data", os.path.join(work, "no-such-file")], env)
        lines = [line for line in output.splitlines() if line.strip()]
        expect("no dataset: exit 2, one line naming MICROGPT_DATA", code == 2 and len(lines) == 1 and
               "MICROGPT_DATA" in lines[0], output)
        expect("no dataset leaves the published files as they were", unchanged(work))

        small = os.path.join(work, "names-1000.txt")
        with open(data) as source, open(small, "w") as target:
            target.writelines(source.readlines()[:1000])
        code, output = bench(TINY + targets + ["--bench", harness, "--data", small])
        expect("another dataset is refused, saying how to allow it", code == 2 and "--allow-other-dataset" in output,
               output)
        code, output = bench(TINY + targets + ["--bench", harness, "--data", small, "--allow-other-dataset",
                                               "--variants", "floor,naive", "--run-dir", os.path.join(work, "other")])
        with open(os.path.join(work, "other", "table.md")) as f:
            marked = "Not the reference's dataset" in f.read()
        expect("allowed, another dataset runs, is marked in its table and leaves README.md alone",
               code == 0 and marked and unchanged(work) and "the dataset is not the reference's" in output, output)

        code, output = bench(TINY + ["--bench", harness, "--data", data, "--variants", "floor,naive",
                                     "--run-dir", os.path.join(work, "two")])
        expect("VARIANTS= runs what it names and skips the factor chain in one line",
               code == 0 and "speed factors left out: VARIANTS=" in output and
               os.path.exists(os.path.join(work, "two", "table.md")), output)

        code, output = bench(TINY + targets + ["--bench", harness, "--data", data])
        expect("the same run without the failure publishes (the checks above can fail)",
               code == 0 and not unchanged(work), output)
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
