"""Time across the run: the per-step times the harness records and their plot.

`microgpt-bench --step-times FILE` writes, for the first train_full run of
each variant it runs, every step's time (and CPU time, nodes, page faults,
heap snapshots):
  {"steps": N, "heap_interval": K, "variants": {name: {"seconds": [...], ...}}}
A `make bench` run passes it to each variant's process of round 1 and merges
the files into one (merge). The plot: a rolling median of `window` steps per
run and variant against the step, log y, so that a drift across the run (a
variant getting slower as it goes) shows as a rising line and a noisy minute
as a bump in every variant that ran in it.
"""
import statistics

from .files import ResultsError, atomic_write, load_json
from .plotting import figure_bytes, pyplot

DEFAULT_WINDOW = 25
FILE = "step_times.json"
PLOT = "step_time.png"


def rolling_median(values, window):
    """Median of each value and the window - 1 before it (fewer at the start)."""
    return [statistics.median(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]


def merge(documents):
    """One step-times document from several processes' ones (one variant
    each, or several): the first's settings and every variant's run."""
    merged = None
    for document in documents:
        if merged is None:
            merged = dict(document, variants={})
        merged["variants"].update(document.get("variants", {}))
    return merged


def runs(document, source):
    """[(variant, seconds per step)] of one document, by variant name."""
    try:
        return [(variant, [float(seconds) for seconds in run["seconds"]])
                for variant, run in sorted(document["variants"].items())]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ResultsError(f"cannot read step times from {source}: {error!r}") from None


def read_runs(paths):
    """[(variant, seconds per step)] from step-time files, in order."""
    result = []
    for path in paths:
        result += runs(load_json(path, hint="microgpt-bench --step-times FILE writes it"), path)
    return result


def render(all_runs, window=DEFAULT_WINDOW, run_count=1):
    """PNG bytes of the plot of [(variant, seconds per step)]; run_count:
    runs per variant, said in the title when more than one."""
    if not any(seconds for _, seconds in all_runs):
        raise ResultsError("no step times to plot")
    plt = pyplot()
    variants = sorted({variant for variant, _ in all_runs})
    # Ten colours, then the same ten dashed: every variant its own line.
    colours, styles = plt.get_cmap("tab10"), ("-", "--", ":")
    figure, axes = plt.subplots(figsize=(9, 5.5))
    labelled = set()
    for variant, seconds in all_runs:
        if not seconds:
            continue
        milliseconds = [1e3 * value for value in seconds]
        axes.plot(range(1, len(milliseconds) + 1), rolling_median(milliseconds, window),
                  color=colours(variants.index(variant) % 10), linestyle=styles[variants.index(variant) // 10 % 3],
                  linewidth=1.2, alpha=0.85,
                  label=None if variant in labelled else variant)
        labelled.add(variant)
    axes.set_yscale("log")
    axes.set_xlabel("training step")
    axes.set_ylabel(f"time per step, ms (rolling median of {window} steps, log scale)")
    axes.set_title("Time per step across the run" + (f" ({run_count} runs per variant)" if run_count > 1 else ""))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    figure.tight_layout()
    data = figure_bytes(figure, "png")
    plt.close(figure)
    return data


def plot_outputs(document, source):
    """{step_time.png: bytes} of a `make bench` run's step-times document."""
    return {PLOT: render(runs(document, source))}


def plot_files(paths, output, window=DEFAULT_WINDOW):
    """Draws the step-time files (several: e.g. one per round, in the same
    colour per variant) into the PNG output, atomically."""
    data = render(read_runs(paths), window, len(paths))
    try:
        atomic_write(output, data)
    except OSError as error:
        raise ResultsError(f"cannot write {output}: {error.strerror or error}") from None
