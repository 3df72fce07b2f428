"""The plots of one `make sweep` run (matplotlib, Agg backend):
  sweep_time_vs_nodes.png   log-log, time per step against the variant's own
                            graph nodes per step, one line per variant, with
                            the fitted slope; variants without a graph (0
                            nodes, e.g. floor) cannot be placed and are named
                            in a note;
  sweep_ns_per_node.png     ns per node of the variant's own graph, and ns per
                            node of the reference graph (the one naive builds
                            at that size: the same unit of work for every
                            variant, floor included), against the size;
  sweep_memory.png          peak RSS and graph bytes per step against the size.
"The size" on an x axis is the reference graph's nodes per step. Byte-stable
for the same input.
"""
from .plotting import pyplot, render_figures
from .sweep_run import by_variant, fitted_slope, is_measured, is_wrong, rows

WRONG_COLOR = "#8c8c8c"


def variant_colors(variants, plt):
    """A color per variant, kept across the plots; grey is for wrong gradients."""
    palette = [color for color in plt.rcParams["axes.prop_cycle"].by_key()["color"] if color != "#7f7f7f"]
    return {variant: palette[index % len(palette)] for index, variant in enumerate(variants)}


def log_log_axes(axes):
    """Both axes logarithmic, ticks labelled as plain numbers (30, not 3x10^1)."""
    from matplotlib import ticker

    axes.set_xscale("log")
    axes.set_yscale("log")
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(ticker.LogFormatter())
        axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.5)))
    axes.grid(True, which="both", linestyle=":", linewidth=0.5)


def line_style(variant, variant_rows, colors):
    if any(is_wrong(row) for row in variant_rows):
        return {"color": WRONG_COLOR, "linestyle": "--", "marker": "x"}
    return {"color": colors[variant], "linestyle": "-", "marker": "o"}


def legend_name(variant, variant_rows, slope=None):
    text = variant
    if slope is not None:
        text += f" (slope {slope:.2f})"
    if any(is_wrong(row) for row in variant_rows):
        text += ", wrong gradients"
    return text


def notes_text(notes):
    return "\n".join(notes)


def title_suffix(run_json):
    settings = run_json["settings"]
    return (f"n_embd {','.join(map(str, settings['n_embd']))} x n_layer {','.join(map(str, settings['n_layer']))}, "
            f"n_head {settings['n_head']}, block_size {settings['block_size']}, runs of {settings['steps']} steps")


def finish_two_panels(figure, axes_with_every_variant, notes):
    """One legend below both panels (the panel that has every variant gives
    the entries), the notes under it."""
    handles, labels = axes_with_every_variant.get_legend_handles_labels()
    columns = min(len(labels), 5) or 1
    legend_rows = (len(labels) + columns - 1) // columns
    bottom = 0.02 + 0.05 * legend_rows + 0.035 * len(notes)
    figure.tight_layout(rect=(0, bottom, 1, 1))
    figure.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False,
                  bbox_to_anchor=(0.5, 0.035 * len(notes)))
    if notes:
        figure.text(0.01, 0.01, notes_text(notes), fontsize=8, color="#555555")


def failed_note(all_rows):
    failed = [f"{row['variant']} {row['shape']}" for row in all_rows if not is_measured(row)]
    return ["not plotted (failed): " + ", ".join(failed)] if failed else []


def plot_time_vs_nodes(plt, all_rows, run_json):
    grouped = by_variant(all_rows)
    colors = variant_colors(list(grouped), plt)
    figure, axes = plt.subplots(figsize=(8, 5.5))
    log_log_axes(axes)
    without_graph = []
    for variant, variant_rows in grouped.items():
        points = sorted((row["nodes_per_step"], row["ms_per_step"]) for row in variant_rows if row["nodes_per_step"])
        if not points:
            if variant_rows:
                without_graph.append(variant)
            continue
        slope = fitted_slope(points)
        axes.plot([p[0] for p in points], [p[1] for p in points], label=legend_name(variant, variant_rows, slope),
                  **line_style(variant, variant_rows, colors))
    axes.set_xlabel("graph nodes per step (the variant's own graph; mean over the steps)")
    axes.set_ylabel("time per training step (ms)")
    axes.set_title("microgpt sweep: time per step against graph size\n" + title_suffix(run_json), fontsize=10)
    axes.legend(fontsize=8, loc="upper left")
    notes = [f"{', '.join(without_graph)}: no graph (0 nodes), so no place on this plot; "
             "see sweep_ns_per_node.png"] if without_graph else []
    notes += failed_note(all_rows)
    figure.tight_layout(rect=(0, 0.05 * len(notes), 1, 1))
    if notes:
        figure.text(0.01, 0.01, notes_text(notes), fontsize=8, color="#555555")
    return figure


def two_panels_by_reference_size(plt, all_rows, run_json, texts):
    """(rows by variant, their colors, a figure, its two log-log panels
    against the reference graph's size); texts: (y label, title) a panel."""
    grouped = by_variant(all_rows)
    figure, panels = plt.subplots(1, 2, figsize=(12, 5))
    for axes, (label, title) in zip(panels, texts):
        log_log_axes(axes)
        axes.set_xlabel("reference graph nodes per step (naive's graph at that size)")
        axes.set_ylabel(label)
        axes.set_title(title, fontsize=10)
    figure.suptitle("microgpt sweep: " + title_suffix(run_json), fontsize=10)
    return grouped, variant_colors(list(grouped), plt), figure, panels


def plot_ns_per_node(plt, all_rows, run_json):
    grouped, colors, figure, (own, reference) = two_panels_by_reference_size(plt, all_rows, run_json, (
        ("ns per node of the variant's own graph", "cost per node of the variant's graph"),
        ("ns per reference node (step time / naive's nodes)", "cost per unit of model work (same unit for every variant)")))
    without_graph = []
    for variant, variant_rows in grouped.items():
        style = line_style(variant, variant_rows, colors)
        with_reference = sorted(((row["reference_nodes_per_step"], row["ns_per_node"], row["ns_per_reference_node"])
                                 for row in variant_rows if row["reference_nodes_per_step"] is not None),
                                key=lambda point: point[0])
        graph_points = [(x, y) for x, y, _ in with_reference if y is not None]
        if graph_points:
            own.plot([p[0] for p in graph_points], [p[1] for p in graph_points],
                     label=legend_name(variant, variant_rows), **style)
        elif variant_rows:
            without_graph.append(variant)
        reference.plot([p[0] for p in with_reference], [p[2] for p in with_reference],
                       label=legend_name(variant, variant_rows), **style)
    notes = [f"left: {', '.join(without_graph)} has no graph (0 nodes); it is on the right"] if without_graph else []
    notes += failed_note(all_rows)
    finish_two_panels(figure, reference, notes)
    return figure


def plot_memory(plt, all_rows, run_json):
    grouped, colors, figure, (rss, graph) = two_panels_by_reference_size(plt, all_rows, run_json, (
        ("peak RSS of the process (MB, VmHWM)", "peak resident memory"),
        ("graph memory per step (MB, mean over the steps)", "memory the step's graph holds (variant's own count)")))
    without_bytes = []
    for variant, variant_rows in grouped.items():
        style = line_style(variant, variant_rows, colors)
        points = sorted(((row["reference_nodes_per_step"], row["peak_rss_bytes"] / 2**20, row["graph_bytes_per_step"])
                         for row in variant_rows if row["reference_nodes_per_step"] is not None),
                        key=lambda point: point[0])
        rss.plot([p[0] for p in points], [p[1] for p in points], label=legend_name(variant, variant_rows), **style)
        graph_points = [(x, b / 2**20) for x, _, b in points if b > 0]
        if graph_points:
            graph.plot([p[0] for p in graph_points], [p[1] for p in graph_points],
                       label=legend_name(variant, variant_rows), **style)
        elif points:
            without_bytes.append(variant)
    notes = [f"right: {', '.join(without_bytes)} reports no graph bytes"] if without_bytes else []
    finish_two_panels(figure, rss, notes + failed_note(all_rows))
    return figure


def render(sweep_json, run_json):
    """{file name: bytes} of every plot."""
    plt = pyplot()
    all_rows = rows(sweep_json, run_json)
    return render_figures(plt, [(plot(plt, all_rows, run_json), (name,)) for name, plot in (
        ("sweep_time_vs_nodes.png", plot_time_vs_nodes), ("sweep_ns_per_node.png", plot_ns_per_node),
        ("sweep_memory.png", plot_memory))])

