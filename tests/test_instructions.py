#!/usr/bin/env python3
"""test_instructions: the instruction-count check (scripts/bench instructions
--check) fails on an injected slowdown, and only then.

A baseline of naive is made in this build (so the test does not depend on the
committed baseline's compiler), then checked against:
  naive itself                       passes;
  test_slowed_naive (variants/slowed_naive.c: naive with an extra loop, about 14% more
  instructions per step)             fails, printing both numbers;
  a baseline 10% dearer than naive   passes, saying naive got cheaper;
  a baseline without naive           passes, saying naive is not in it;
and --help works.
Skipped (77) without valgrind or in a sanitizer build.

Usage: test_instructions.py BUILD_DIR SLOWED_PROGRAM"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(PROJECT_DIR, "scripts", "bench")
SKIP_EXIT = 77
STEPS = 3


def run_script(*arguments):
    completed = subprocess.run([sys.executable, SCRIPT, "instructions", *arguments], capture_output=True, text=True,
                               check=False)
    return completed.returncode, completed.stdout + completed.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("slowed_program")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(SCRIPT))
    from microgpt_bench import instructions  # pylint: disable=import-outside-toplevel

    if not instructions.shutil.which("valgrind"):
        print("skipped: valgrind is not installed")
        return SKIP_EXIT
    if instructions.build_identity(args.build_dir)["sanitize"]:
        print("skipped: a sanitizer build")
        return SKIP_EXIT

    failures = []

    def expect(label, condition, output):
        print(f"{'ok' if condition else 'FAILED'}: {label}")
        if not condition:
            failures.append(label)
            print(output)

    code, output = run_script("--help")
    expect("--help prints the usage", code == 0 and "--check FILE" in output, output)

    with tempfile.TemporaryDirectory(prefix="test-instructions-") as work:
        baseline = os.path.join(work, "baseline.json")
        code, output = run_script("--build-dir", args.build_dir, "--variant", "naive", "--steps", str(STEPS),
                                  "--write-baseline", baseline)
        if code != 0:
            print(f"FAILED: writing a baseline of naive (exit {code}):\n{output}")
            return 1
        with open(baseline, encoding="utf-8") as text:
            document = json.load(text)
        naive = document["variants"]["naive"]["instructions_per_step"]
        print(f"baseline: naive {naive:,.0f} instructions/step over {STEPS} steps")

        code, output = run_script("--build-dir", args.build_dir, "--variant", "naive", "--check", baseline)
        expect("naive against its own baseline passes", code == 0 and "REGRESSION" not in output, output)

        code, output = run_script("--build-dir", args.build_dir, "--variant", "naive",
                                  "--program", f"naive={args.slowed_program}", "--check", baseline)
        match = re.search(r"REGRESSION naive: ([\d,]+) instructions/step, baseline ([\d,]+)", output)
        expect("the slowed build fails the check with both numbers", code == 1 and match is not None, output)
        if match:
            slowed, recorded = (int(group.replace(",", "")) for group in match.groups())
            print(f"  slowed {slowed:,} vs baseline {recorded:,} instructions/step ({slowed / recorded - 1:+.1%})")

        dearer = dict(document, variants={"naive": dict(document["variants"]["naive"],
                                                        instructions_per_step=naive * 1.1)})
        with open(baseline, "w", encoding="utf-8") as text:
            json.dump(dearer, text)
        code, output = run_script("--build-dir", args.build_dir, "--variant", "naive", "--check", baseline)
        expect("a variant 9% cheaper than its baseline passes and says so",
               code == 0 and "cheaper; make instructions-baseline" in output, output)

        with open(baseline, "w", encoding="utf-8") as text:
            json.dump(dict(document, variants={}), text)
        code, output = run_script("--build-dir", args.build_dir, "--variant", "naive", "--check", baseline)
        expect("a variant missing from the baseline passes and says so",
               code == 0 and "not in the baseline" in output, output)

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
