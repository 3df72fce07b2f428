#!/usr/bin/env python3
"""Plots time per training step against step, one line per variant.

Reads the files `microgpt-bench --step-times FILE` writes (every step's time
of one train_full run per variant; several files, e.g. one per round, are
drawn in the same colour per variant) and writes a PNG: a rolling median of
--window steps per run, log y axis (scripts/microgpt_bench/step_times.py).
`make bench` draws results/step_time.png itself, from its round 1. Byte-stable
for the same input (matplotlib Agg, no Software metadata); written atomically.

Importable: rolling_median(values, window), plot_step_time(paths, output, window).
Exit status: 0 on success, 2 on unreadable input or an unwritable output.
"""
import argparse
import os
import sys

from microgpt_bench.processes import run_guarded
from microgpt_bench.step_times import DEFAULT_WINDOW, rolling_median
from microgpt_bench.step_times import plot_files as plot_step_time

# Importable from here, as before the library held them.
__all__ = ["rolling_median", "plot_step_time", "main"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="\n".join(__doc__.split("\n")[2:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step_times", nargs="+", metavar="FILE", help="microgpt-bench --step-times output")
    parser.add_argument("--output", default=os.path.join("results", "step_time.png"),
                        help="PNG to write (default: results/step_time.png)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help=f"steps in the rolling median (default {DEFAULT_WINDOW})")
    args = parser.parse_args(argv)
    if args.window < 1:
        parser.error("--window must be at least 1")

    def plot():
        plot_step_time(args.step_times, args.output, args.window)
        print(f"wrote {args.output}")
        return 0

    return run_guarded("plot_step_time", args.output, plot)


if __name__ == "__main__":
    sys.exit(main())
