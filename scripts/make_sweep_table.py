#!/usr/bin/env python3
"""Turns one `make sweep` run into sweep.csv and sweep_table.md.

From results/sweep.json and results/sweep_run.json, writes sweep.csv (one
row per variant and size) and sweep_table.md (each variant at the smallest
and the largest size, and its fitted slopes), and with --readme replaces
the block between that file's sweep-table markers with the same table.
"""
import argparse
import sys

from microgpt_bench import readme, sweep_run, sweep_table
from microgpt_bench.files import write_outputs
from microgpt_bench.processes import run_guarded


def table(args):
    if args.readme:
        readme.check_readme(args.readme, readme.SWEEP_TABLE)
    sweep_json, run_json = sweep_run.load_sweep(args.results_dir)
    write_outputs(sweep_table.render(sweep_json, run_json), args.output_dir or args.results_dir)
    if args.readme:
        readme.update_readme(args.readme, readme.SWEEP_TABLE,
                             sweep_table.table_block(sweep_run.rows(sweep_json, run_json), run_json))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results",
                        help=f"directory of {sweep_run.SWEEP_FILE} and {sweep_run.SWEEP_RUN_FILE}")
    parser.add_argument("--output-dir", help="where the CSV and the table go (default: RESULTS_DIR)")
    parser.add_argument("--readme", help="also replace the table between this file's sweep-table markers")
    args = parser.parse_args(argv)
    return run_guarded("make_sweep_table", args.output_dir or args.results_dir, lambda: table(args))


if __name__ == "__main__":
    sys.exit(main())
