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
from microgpt_bench.files import ResultsError, atomic_write
from microgpt_bench.processes import log


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of run.json and the rounds' JSON")
    parser.add_argument("--output", help="table file (default: RESULTS_DIR/table.md)")
    parser.add_argument("--readme", help="also replace the table between the markers of this file")
    parser.add_argument("--readme-if-default", help="the same, for a run with the default settings in results/")
    args = parser.parse_args(argv)
    try:
        run = bench_run.load_run(args.results_dir)
        target = args.readme
        if not target and args.readme_if_default:
            differ = bench_run.non_default_settings(run.run["settings"], args.results_dir)
            if differ:
                log(f"{args.readme_if_default} left as it is: not the default settings ({' '.join(differ)})")
            else:
                target = args.readme_if_default
        if target:
            readme.check_readme(target, readme.RESULTS_TABLE)
        block = bench_table.render(run)
        atomic_write(args.output or os.path.join(args.results_dir, "table.md"), bench_table.table_document(block))
        if target:
            readme.update_readme(target, readme.RESULTS_TABLE, block)
    except ResultsError as error:
        print(f"make_table: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
