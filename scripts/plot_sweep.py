#!/usr/bin/env python3
"""Plots one `make sweep` run (matplotlib, Agg backend).

From results/sweep.json and results/sweep_run.json, writes
sweep_time_vs_nodes.png, sweep_ns_per_node.png and sweep_memory.png (see
scripts/microgpt_bench/sweep_plots.py); the CSV and the table are
scripts/make_sweep_table.py's. Atomic and byte-stable.
"""
import argparse
import sys

from microgpt_bench import sweep_plots, sweep_run
from microgpt_bench.files import write_outputs
from microgpt_bench.processes import run_guarded


def plot(args):
    sweep_json, run_json = sweep_run.load_sweep(args.results_dir)
    write_outputs(sweep_plots.render(sweep_json, run_json), args.output_dir or args.results_dir)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results",
                        help=f"directory of {sweep_run.SWEEP_FILE} and {sweep_run.SWEEP_RUN_FILE}")
    parser.add_argument("--output-dir", help="where the plots go (default: RESULTS_DIR)")
    args = parser.parse_args(argv)
    return run_guarded("plot_sweep", args.output_dir or args.results_dir, lambda: plot(args))


if __name__ == "__main__":
    sys.exit(main())
