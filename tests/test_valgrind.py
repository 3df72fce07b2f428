#!/usr/bin/env python3
"""test_valgrind: every variant program under valgrind memcheck over a short
training run: no memory error, no byte definitely or indirectly lost.

The programs are BUILD_DIR/microgpt-<name> for every variant of the build's
registry (microgpt-variants), or the variants named; one that was not built
is a failure. `make valgrind`
and ctest (test `valgrind`) run this; it needs valgrind (apt-get install
valgrind) and a build without sanitizers.

Usage: test_valgrind.py BUILD_DIR DATASET [VARIANT...] [--steps N] [--samples K] [--jobs J]"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

from registry import variant_facts

VALGRIND_ERROR_EXIT = 99
VALGRIND_FLAGS = [
    "--tool=memcheck",
    f"--error-exitcode={VALGRIND_ERROR_EXIT}",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect",
    "--num-callers=30",
]


def lost_bytes(log, kind):
    match = re.search(rf"{kind} lost: ([\d,]+) bytes", log)
    return int(match.group(1).replace(",", "")) if match else 0


def check_variant(build_dir, dataset, variant, steps, samples):
    """Returns (problem or None, one-line summary)."""
    program = os.path.join(build_dir, f"microgpt-{variant}")
    if not os.access(program, os.X_OK):
        return f"{program} is missing: build it first (make)", ""
    with tempfile.TemporaryDirectory() as directory:
        log_path = os.path.join(directory, "memcheck.log")
        command = ["valgrind", *VALGRIND_FLAGS, f"--log-file={log_path}", program, "--data", dataset,
                   "--steps", str(steps), "--samples", str(samples), "--quiet",
                   "--losses", os.path.join(directory, "losses.txt")]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        with open(log_path) as f:
            log = f.read()
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", log)
    usage = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees", log)
    definite, indirect = lost_bytes(log, "definitely"), lost_bytes(log, "indirectly")
    summary = (f"{errors.group(1) if errors else '?'} errors, {definite} bytes definitely and {indirect} "
               f"indirectly lost, {usage.group(1) if usage else '?'} allocs / {usage.group(2) if usage else '?'} frees")
    if result.returncode != 0 or not errors or errors.group(1) != "0" or definite or indirect:
        detail = "memcheck found errors" if result.returncode == VALGRIND_ERROR_EXIT else f"exit {result.returncode}"
        return f"microgpt-{variant}: {detail}: {summary}\n{result.stderr}{log}", summary
    return None, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("dataset")
    parser.add_argument("variants", nargs="*", help="default: every variant of the build (microgpt-variants)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="variants run at once")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("test_valgrind: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    build_dir, dataset = os.path.abspath(args.build_dir), os.path.abspath(args.dataset)
    variants = args.variants or [facts["name"] for facts in variant_facts(build_dir)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda v: check_variant(build_dir, dataset, v, args.steps, args.samples), variants))
    failures = 0
    for variant, (problem, summary) in zip(variants, outcomes):
        if problem:
            failures += 1
            print(f"FAIL: {problem}")
        else:
            print(f"ok: microgpt-{variant} --steps {args.steps} --samples {args.samples}: {summary}")
    print(f"{len(variants) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
