#!/usr/bin/env python3
"""Turns one `make bench` run into the comparison table.

Reads the run in --results-dir (run.json, benchmark-round-NN.json,
instructions.json), writes its table.md, and with --readme replaces the
block between the lines <!-- results-table:begin --> and
<!-- results-table:end --> of that file with the same table (touching
nothing else; it fails if the markers are missing). --readme-if-default
does so only for a run with the default settings in results/. Generated,
never edited by hand: rerun after `make bench`.
"""
import argparse
import os
import sys

from microgpt_bench import bench_run, bench_table, readme
from microgpt_bench.files import atomic_write
from microgpt_bench.processes import run_guarded


def table(args):
    run = bench_run.load_run(args.results_dir)
    target = bench_run.readme_target(args.readme, args.readme_if_default, run.run["settings"], args.results_dir)
    if target:
        readme.check_readme(target, readme.RESULTS_TABLE)
    block = bench_table.render(run)
    atomic_write(args.output or os.path.join(args.results_dir, "table.md"), bench_table.table_document(block))
    if target:
        readme.update_readme(target, readme.RESULTS_TABLE, block)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of run.json and the rounds' JSON")
    parser.add_argument("--output", help="table file (default: RESULTS_DIR/table.md)")
    parser.add_argument("--readme", help="also replace the table between the markers of this file")
    parser.add_argument("--readme-if-default", help="the same, for a run with the default settings in results/")
    args = parser.parse_args(argv)
    return run_guarded("make_table", args.results_dir, lambda: table(args))


if __name__ == "__main__":
    sys.exit(main())
