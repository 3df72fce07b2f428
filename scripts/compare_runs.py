#!/usr/bin/env python3
"""Compares two `make bench` runs: row order, ratio changes, instruction counts.

Reads the runs in A_DIR and B_DIR (results directories: run.json and the
rounds' JSON) and prints a Markdown block (microgpt_bench/run_comparison.py
says what is in it); --output writes it to a file, and --readme replaces the
block between the lines <!-- stability:begin --> and <!-- stability:end -->
of that file with it. Exit status 1 when a variant's instructions per step
differ by more than 0.1% between runs of the same commit and build (after
writing the block), 2 on bad input (one line on stderr).
"""
import argparse
import sys

from microgpt_bench import readme, run_comparison
from microgpt_bench.files import atomic_write
from microgpt_bench.processes import run_guarded


def compare(args):
    if args.readme:
        readme.check_readme(args.readme, run_comparison.STABILITY)
    result = run_comparison.compare(args.a_dir, args.b_dir)
    if args.output:
        atomic_write(args.output, result.markdown)
    else:
        sys.stdout.write(result.markdown)
    if args.readme:
        readme.update_readme(args.readme, run_comparison.STABILITY, result.markdown)
    if result.instruction_failures:
        print(f"compare_runs: instruction counts disagree between runs of the same build: "
              f"{'; '.join(result.instruction_failures)}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a_dir", help="the first run's results directory")
    parser.add_argument("b_dir", help="the second run's results directory")
    parser.add_argument("--readme", help="also replace the block between the stability markers of this file")
    parser.add_argument("--output", help="write the block to this file instead of stdout")
    args = parser.parse_args(argv)
    return run_guarded("compare_runs", args.output or "README", lambda: compare(args))


if __name__ == "__main__":
    sys.exit(main())
