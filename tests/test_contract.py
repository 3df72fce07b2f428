#!/usr/bin/env python3
"""test_contract: engine/variant_contract.h catches a broken variant at its
own line. Each tests/contract/<case>.c is a variant with one mistake and a
first comment line `/* expect: REGEX`: compiling engine/model.c against it
must fail, and the first error must be in variant_contract.h and match REGEX
(not somewhere in the model, far from the contract).

Usage: test_contract.py C_COMPILER PROJECT_DIR"""
import argparse
import glob
import os
import re
import subprocess
import sys


def expected_error(path):
    with open(path) as f:
        first = f.readline()
    match = re.match(r"/\* expect: (.*)$", first.rstrip("\n"))
    if not match:
        raise SystemExit(f"{path}: the first line must be '/* expect: REGEX'")
    return match.group(1)


def first_error(compiler, project, case):
    command = [compiler, "-std=c11", "-fsyntax-only", "-D_POSIX_C_SOURCE=200809L",
               "-I", project, "-I", os.path.join(project, "engine"), "-I", os.path.join(project, "data"),
               f'-DMICROGPT_VARIANT_FILE="{case}"', '-DMICROGPT_VARIANT_NAME="contract_case"',
               "-DMICROGPT_VARIANT_SYMBOL=contract_case", os.path.join(project, "engine", "model.c")]
    # LC_ALL=C: GCC quotes names with ASCII quotes, as the patterns do.
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ, LC_ALL="C"))
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    return result.returncode, errors[0] if errors else None, result.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("compiler")
    parser.add_argument("project_dir")
    args = parser.parse_args()
    cases = sorted(glob.glob(os.path.join(args.project_dir, "tests", "contract", "*.c")))
    failures = 0
    for case in cases:
        name = os.path.basename(case)
        pattern = expected_error(case)
        returncode, error, stderr = first_error(args.compiler, args.project_dir, case)
        if returncode == 0:
            failures += 1
            print(f"FAIL: {name} compiled")
        elif not error or "variant_contract.h:" not in error.split(": error: ")[0] or not re.search(pattern, error):
            failures += 1
            print(f"FAIL: {name}: the first error is not the contract's /{pattern}/:\n{stderr}")
        else:
            print(f"{name}: {os.path.basename(error)}")
    if not cases:
        failures += 1
        print("FAIL: no tests/contract/*.c")
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
