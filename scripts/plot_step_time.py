#!/usr/bin/env python3
"""Plots time per training step against step, one line per variant.

Reads the files `microgpt-bench --step-times FILE` writes (every step's time
of one train_full run per variant; several files, e.g. one per round, are
drawn in the same colour per variant) and writes a PNG: a rolling median of
--window steps per run, log y axis, so that a drift across the run (a
variant getting slower as it goes) shows as a rising line and a noisy minute
as a bump in every variant that ran in it. Byte-stable for the same input
(matplotlib Agg, no Software metadata); written atomically.

Importable: rolling_median(values, window), plot_step_time(paths, output, window).
Exit status: 0 on success, 2 on unreadable input or an unwritable output.
"""
import argparse
import io
import json
import os
import statistics
import sys
import tempfile

DEFAULT_WINDOW = 25


class StepTimeError(Exception):
    """Bad input or output: one line for stderr."""


def rolling_median(values, window):
    """Median of each value and the window - 1 before it (fewer at the start)."""
    return [statistics.median(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]


def read_runs(paths):
    """[(path, variant, seconds per step)] from step-time files, in order."""
    runs = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as text:
                document = json.load(text)
            for variant, run in sorted(document["variants"].items()):
                runs.append((path, variant, [float(seconds) for seconds in run["seconds"]]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise StepTimeError(f"cannot read step times from {path}: {error}") from error
    if not any(seconds for _, _, seconds in runs):
        raise StepTimeError("no step times in " + ", ".join(paths))
    return runs


def pyplot():
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise StepTimeError(f"{sys.executable} cannot import matplotlib (Debian: apt-get install "
                            "--no-install-recommends python3-matplotlib, for /usr/bin/python3)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    return plt


def plot_step_time(paths, output, window=DEFAULT_WINDOW):
    runs = read_runs(paths)
    plt = pyplot()
    variants = sorted({variant for _, variant, _ in runs})
    colours = plt.get_cmap("tab10")
    figure, axes = plt.subplots(figsize=(9, 5.5))
    labelled = set()
    for path, variant, seconds in runs:
        if not seconds:
            continue
        colour = colours(variants.index(variant) % 10)
        milliseconds = [1e3 * value for value in seconds]
        label = None if variant in labelled else variant
        labelled.add(variant)
        axes.plot(range(1, len(milliseconds) + 1), rolling_median(milliseconds, window), color=colour,
                  linewidth=1.2, alpha=0.85, label=label)
    axes.set_yscale("log")
    axes.set_xlabel("training step")
    axes.set_ylabel(f"time per step, ms (rolling median of {window} steps, log scale)")
    run_count = len(paths)
    axes.set_title("Time per step across the run" + (f" ({run_count} runs per variant)" if run_count > 1 else ""))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    plt.close(figure)
    directory = os.path.dirname(os.path.abspath(output))
    try:
        handle, temporary = tempfile.mkstemp(prefix=os.path.basename(output) + ".tmp-", dir=directory)
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getvalue())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would follow the file into git
        os.replace(temporary, output)
    except OSError as error:
        raise StepTimeError(f"cannot write {output}: {error}") from error


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
    try:
        plot_step_time(args.step_times, args.output, args.window)
    except StepTimeError as error:
        print(f"plot_step_time: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
