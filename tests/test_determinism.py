#!/usr/bin/env python3
"""test_determinism: two runs of the same variant program give byte-identical
losses files and the same output, the summary's timing lines aside.

The second run differs in everything that should not matter: working
directory, environment size, and MALLOC_PERTURB_ (glibc fills fresh and freed
memory with a byte pattern), so a read of uninitialised memory or an order
that depends on heap addresses shows up as a difference.

Usage: test_determinism.py BUILD_DIR DATASET VARIANT... [--steps N] [--samples K]"""
import argparse
import os
import subprocess
import sys
import tempfile

TIMING_PREFIXES = ("wall time:", "time per step:")


def run_once(program, dataset, steps, samples, losses_path, work_dir, extra_env):
    environment = dict(os.environ)
    environment.pop("MICROGPT_DATA", None)
    environment.update(extra_env)
    command = [program, "--data", dataset, "--steps", str(steps), "--samples", str(samples), "--losses", losses_path]
    result = subprocess.run(command, capture_output=True, text=True, cwd=work_dir, env=environment, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}")
    with open(losses_path, "rb") as f:
        losses = f.read()
    output = [line for line in result.stdout.splitlines() if not line.startswith(TIMING_PREFIXES)]
    return losses, output, result.stderr


def check_variant(build_dir, dataset, variant, steps, samples):
    """Returns a list of problems (empty when the two runs agree)."""
    program = os.path.join(build_dir, f"microgpt-{variant}")
    with tempfile.TemporaryDirectory() as first_dir, tempfile.TemporaryDirectory() as second_dir:
        first = run_once(program, dataset, steps, samples, os.path.join(first_dir, "losses.txt"), first_dir, {})
        padding = {"MICROGPT_DETERMINISM_PADDING": "x" * 4099, "MALLOC_PERTURB_": "165"}
        second = run_once(program, dataset, steps, samples, os.path.join(second_dir, "losses.txt"), second_dir, padding)
    problems = []
    losses, output, stderr = first
    if len(losses.splitlines()) != steps:
        problems.append(f"{variant}: {len(losses.splitlines())} losses written, expected {steps}")
    if sum(line.startswith("step ") for line in output) != steps:
        problems.append(f"{variant}: expected {steps} step lines")
    if sum(line.startswith("sample ") for line in output) != samples:
        problems.append(f"{variant}: expected {samples} sample lines")
    if second[0] != losses:
        problems.append(f"{variant}: the losses files differ")
    if second[1] != output:
        differing = [(a, b) for a, b in zip(output, second[1]) if a != b][:3]
        problems.append(f"{variant}: the outputs differ (first lines: {differing}, lengths {len(output)} "
                        f"and {len(second[1])})")
    if stderr or second[2]:
        problems.append(f"{variant}: unexpected stderr: {stderr!r} {second[2]!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("dataset")
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    dataset = os.path.abspath(args.dataset)
    build_dir = os.path.abspath(args.build_dir)
    failures = 0
    for variant in args.variants:
        problems = check_variant(build_dir, dataset, variant, args.steps, args.samples)
        for problem in problems:
            print(f"FAIL: {problem}")
        if not problems:
            print(f"ok: microgpt-{variant}: two runs of {args.steps} steps and {args.samples} samples are identical")
        failures += bool(problems)
    print(f"{len(args.variants) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
