#!/usr/bin/env python3
"""Plots one `make bench` run (matplotlib, Agg backend).

From the run in --results-dir, writes graph_size_vs_runtime.png and .svg
(time per step against graph size, median and min-max over the rounds) and
phases.png (forward / backward / update per C variant); see
scripts/microgpt_bench/bench_plots.py. Atomic and byte-stable.
"""
import argparse
import sys

from microgpt_bench import bench_plots, bench_run
from microgpt_bench.files import ResultsError, write_outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of run.json and the rounds' JSON")
    parser.add_argument("--output-dir", help="where the plots go (default: RESULTS_DIR)")
    args = parser.parse_args(argv)
    try:
        run = bench_run.load_run(args.results_dir)
        write_outputs(bench_plots.render(run), args.output_dir or args.results_dir)
    except ResultsError as error:
        print(f"plot_results: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
