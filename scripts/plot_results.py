#!/usr/bin/env python3
"""Plots one `make bench` run (matplotlib, Agg backend).

From the run in --results-dir, writes graph_size_vs_runtime.png and .svg
(time per step against graph size, median and min-max over the rounds),
phases.png (forward / backward / update per C variant), and step_time.png
when the run has step_times.json; see scripts/microgpt_bench/bench_plots.py
and step_times.py. Atomic and byte-stable.
"""
import argparse
import os
import sys

from microgpt_bench import bench_plots, bench_run, step_times
from microgpt_bench.files import load_json, write_outputs
from microgpt_bench.processes import run_guarded


def plot(args):
    outputs = bench_plots.render(bench_run.load_run(args.results_dir))
    steps_path = os.path.join(args.results_dir, step_times.FILE)
    if os.path.exists(steps_path):
        outputs.update(step_times.plot_outputs(load_json(steps_path), steps_path))
    write_outputs(outputs, args.output_dir or args.results_dir)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of run.json and the rounds' JSON")
    parser.add_argument("--output-dir", help="where the plots go (default: RESULTS_DIR)")
    args = parser.parse_args(argv)
    return run_guarded("plot_results", args.output_dir or args.results_dir, lambda: plot(args))


if __name__ == "__main__":
    sys.exit(main())
