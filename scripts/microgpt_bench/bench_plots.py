"""The plots of one `make bench` run (matplotlib, Agg backend):
  graph_size_vs_runtime.png and .svg: log-log, time per training step
      against graph nodes per step, one labelled point per version (the
      median over the rounds, a bar from min to max), baselines included,
      all on the first K steps (equal work);
  phases.png: stacked forward / backward / Adam update time per C variant,
      from the phase micro-benchmarks on one fixed document (medians).
Byte-stable for the same input.
"""
from . import checks
from .bench_run import rows, run_context
from .plotting import pyplot, render_figures

PHASES = (("forward", "forward", "#4c72b0"), ("backward", "backward (incl. graph release)", "#dd8452"),
          ("update", "Adam update", "#55a868"))
# Where a version without a graph (0 nodes, e.g. floor) stands on the log axis.
NO_GRAPH_NODES = 1.0


def graph_size_points(all_rows, settings):
    """(label, nodes per step, ms per step, (low ms, high ms)) on the first K
    steps, and the versions left out (failed). A version with no graph is
    placed at NO_GRAPH_NODES, which a log axis can show."""
    points, left_out = [], []
    k_steps = settings["k_steps"]
    for row in all_rows:
        summary = row["k_spread"]
        if summary is None or row["k_nodes_per_step"] is None:
            left_out.append(row["version"])
            continue
        nodes = row["k_nodes_per_step"] if row["k_nodes_per_step"] > 0 else NO_GRAPH_NODES
        per_step = [1e3 * seconds / k_steps for seconds in (summary.median, summary.low, summary.high)]
        points.append((row["version"], nodes, per_step[0], (per_step[1], per_step[2])))
    return points, left_out


def label_offsets(points, to_display, points_per_pixel, spacing=13.0):
    """Text offsets (in points) for the labels: each to the right of its
    point, and where points share a graph size (within 2%), stacked from the
    top down at least `spacing` points apart so that none overlap.
    to_display maps (nodes, ms) to display pixels."""
    columns = []
    for label, nodes, milliseconds in sorted(((p[0], p[1], p[2]) for p in points), key=lambda p: (p[1], -p[2])):
        for column in columns:
            if abs(nodes - column[0][1]) <= 0.02 * column[0][1]:
                column.append((label, nodes, milliseconds))
                break
        else:
            columns.append([(label, nodes, milliseconds)])
    offsets = {}
    for column in columns:
        previous = None  # label height of the point above, in points
        for label, nodes, milliseconds in sorted(column, key=lambda p: -p[2]):  # highest first
            height = to_display(nodes, milliseconds)[1] * points_per_pixel
            text = height if previous is None else min(height, previous - spacing)
            offsets[label] = (8, text - height)
            previous = text
    return offsets


def plot_graph_size(plt, all_rows, settings):
    points, left_out = graph_size_points(all_rows, settings)
    wrong = {row["version"] for row in all_rows if checks.is_wrong(row["check"])}
    baselines = {row["version"] for row in all_rows if row["kind"] == "baseline"}
    figure, axes = plt.subplots(figsize=(7.5, 5))
    axes.set_xscale("log")
    axes.set_yscale("log")
    if points:
        xs = [p[1] for p in points]
        axes.set_xlim(min(xs) / 1.6, max(xs) * 150)  # room on the right for the labels
        axes.set_ylim(min(p[3][0] for p in points) / 2, max(p[3][1] for p in points) * 2)
    axes.set_xlabel("graph nodes per step (mean)")
    axes.set_ylabel("time per training step (ms)")
    axes.set_title(f"microgpt: graph size vs runtime (first {settings['k_steps']} steps, "
                   f"median and min–max of {settings['rounds']} rounds)", fontsize=10)
    axes.grid(True, which="both", linestyle=":", linewidth=0.5)
    figure.tight_layout()  # before placing labels: it moves the axes
    offsets = label_offsets(points, lambda x, y: axes.transData.transform((x, y)), 72.0 / figure.dpi)
    for label, nodes, milliseconds, (low, high) in points:
        marker, color = ("s", "#c44e52") if label in baselines else ("o", "#4c72b0")
        text = f"{label} ({milliseconds:.3g} ms){'*' if nodes == NO_GRAPH_NODES else ''}"
        if label in wrong:  # trains a different model: shown, but not as a result
            marker, color, text = "x", "#8c8c8c", f"{label} (wrong gradients)"
        axes.errorbar([nodes], [milliseconds], yerr=[[milliseconds - low], [high - milliseconds]], fmt=marker,
                      color=color, ecolor=color, elinewidth=1, capsize=2, zorder=3)
        dx, dy = offsets[label]
        axes.annotate(text, (nodes, milliseconds), textcoords="offset points", xytext=(dx, dy), fontsize=9,
                      va="center", color="#8c8c8c" if label in wrong else "black",
                      arrowprops={"arrowstyle": "-", "color": "#b0b0b0", "linewidth": 0.6} if abs(dy) > 6 else None)
    if any(p[1] == NO_GRAPH_NODES for p in points):
        figure.text(0.99, 0.01, f"* no graph: drawn at {NO_GRAPH_NODES:g} node", fontsize=8, ha="right")
    if left_out:
        figure.text(0.01, 0.01, "not plotted (failed): " + ", ".join(left_out), fontsize=8, color="#c44e52")
    return figure


def plot_phases(plt, all_rows, context, settings):
    phase_rows = [row for row in all_rows if row["kind"] == "c" and row["phases"]]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    labels = [row["version"] + ("\n(wrong)" if checks.is_wrong(row["check"]) else "") for row in phase_rows]
    bottoms = [0.0] * len(phase_rows)
    for phase, legend, color in PHASES:
        heights = [1e3 * row["phase_medians"].get(phase, 0.0) for row in phase_rows]
        axes.bar(labels, heights, bottom=bottoms, label=legend, color=color)
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    for x, total in enumerate(bottoms):
        axes.annotate(f"{total:.3g}", (x, total), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=9)
    axes.set_ylabel("time (ms)")
    axes.set_ylim(0, max(bottoms, default=1.0) * 1.12 or 1.0)
    document = context.get("microgpt_phase_document", "?")
    axes.set_title(f"microgpt: one training step's phases on the document \"{document}\"\n"
                   f"(mean of {context.get('microgpt_phase_iterations', '?')} iterations, median of "
                   f"{settings['rounds']} rounds)", fontsize=10)
    figure.legend(loc="lower center", ncol=3, frameon=False)
    failed = [row["version"] for row in all_rows if row["kind"] == "c" and not row["phases"]]
    if failed:
        figure.text(0.01, 0.01, "not plotted (failed): " + ", ".join(failed), fontsize=8, color="#c44e52")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return figure


def render(run):
    """{file name: bytes} of every plot."""
    plt = pyplot()
    all_rows = rows(run)
    settings = run.run["settings"]
    context = run_context(run)
    return render_figures(plt, [
        (plot_graph_size(plt, all_rows, settings), ("graph_size_vs_runtime.png", "graph_size_vs_runtime.svg")),
        (plot_phases(plt, all_rows, context, settings), ("phases.png",)),
    ])
