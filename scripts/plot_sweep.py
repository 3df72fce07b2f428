#!/usr/bin/env python3
"""Tables and plots of one `make sweep` run (matplotlib, Agg backend).

From results/sweep.json (Google Benchmark, one sweep/<variant>/<size> entry
per point) and results/sweep_run.json, writes
  sweep.csv                 one row per variant and size: time per step,
                            graph nodes, edges and bytes per step, sort depth,
                            peak RSS, ns per node;
  sweep_time_vs_nodes.png   log-log, time per step against the variant's own
                            graph nodes per step, one line per variant, with
                            the fitted slope; variants without a graph (0
                            nodes, e.g. floor) cannot be placed and are named
                            in a note;
  sweep_ns_per_node.png     ns per node of the variant's own graph, and ns per
                            node of the reference graph (the one naive builds
                            at that size: the same unit of work for every
                            variant, floor included), against the size;
  sweep_memory.png          peak RSS and graph bytes per step against the size;
  sweep_table.md            the table of the README's sweep section: each
                            variant at the smallest and the largest size, and
                            its fitted slopes; with --readme, also written
                            between that file's sweep-table markers.
"The size" on an x axis is the reference graph's nodes per step. Files are
written atomically and are byte-stable for the same input.
"""
import argparse
import csv
import io
import math
import os
import sys

import bench_results
import make_table
import plot_results

SWEEP_FILE = "sweep.json"
SWEEP_RUN_FILE = "sweep_run.json"
CSV_FILE = "sweep.csv"
CSV_COLUMNS = ("variant", "n_embd", "n_head", "n_layer", "block_size", "parameters", "status", "steps", "runs",
               "ms_per_step", "forward_ms_per_step", "backward_ms_per_step", "update_ms_per_step",
               "nodes_per_step", "nodes_max", "edges_per_step", "graph_bytes_per_step", "graph_bytes_max",
               "graph_bytes_per_node", "reference_nodes_per_step", "ns_per_node", "ns_per_reference_node",
               "sort_depth_max", "sort_depth_bound", "peak_rss_bytes", "rss_before_run_bytes", "ru_maxrss_bytes",
               "point_seconds")
WRONG_COLOR = "#8c8c8c"
TABLE_FILE = "sweep_table.md"
README_MARKERS = ("<!-- sweep-table:begin -->", "<!-- sweep-table:end -->")
README_WHAT = "the sweep table"


def sweep_entries(sweep_json):
    """{(variant, size name): entry}: the median aggregate, or the single run."""
    return bench_results.median_entries(
        sweep_json, lambda parts: (parts[1], parts[2]) if len(parts) >= 3 and parts[0] == "sweep" else None)


def _point_row(outcome, entry):
    row = {column: None for column in CSV_COLUMNS}
    row.update(variant=outcome["variant"], shape=outcome["shape"], n_embd=outcome["n_embd"],
               n_layer=outcome["n_layer"], status=outcome["status"], point_seconds=outcome.get("seconds"))
    if outcome["status"] != "ok":
        return row
    if entry is None:
        row["status"] = "failed: no sweep result in the benchmark JSON"
        return row
    steps = int(entry["steps"])
    seconds = bench_results.entry_seconds(entry)
    nodes = entry["nodes_per_step"]
    row.update(
        status=entry.get("label", "") or "unchecked", steps=steps, runs=int(entry["iterations"]),
        n_head=int(entry["n_head"]), block_size=int(entry["block_size"]), parameters=int(entry["parameters"]),
        ms_per_step=1e3 * seconds / steps,
        forward_ms_per_step=1e3 * entry["forward_seconds"] / steps,
        backward_ms_per_step=1e3 * entry["backward_seconds"] / steps,
        update_ms_per_step=1e3 * entry["update_seconds"] / steps,
        nodes_per_step=nodes, nodes_max=int(entry["nodes_max"]), edges_per_step=entry["edges_per_step"],
        graph_bytes_per_step=entry["bytes_per_step"], graph_bytes_max=int(entry["bytes_max"]),
        graph_bytes_per_node=entry["bytes_per_step"] / nodes if nodes > 0 else None,
        ns_per_node=1e9 * seconds / (steps * nodes) if nodes > 0 else None,
        sort_depth_max=int(entry["sort_depth_max"]), sort_depth_bound=int(entry["sort_depth_bound"]),
        peak_rss_bytes=int(entry["max_rss_bytes"]), rss_before_run_bytes=int(entry["rss_before_run_bytes"]),
        ru_maxrss_bytes=int(entry["ru_maxrss_bytes"]))
    return row


def rows(sweep_json, run_json):
    """One row per point of the run (sweep_run.json's order), each a dict of
    the CSV columns plus `shape`; None where not measured. The reference
    columns divide by naive's nodes per step at the same size."""
    entries = sweep_entries(sweep_json)
    result = [_point_row(outcome, entries.get((outcome["variant"], outcome["shape"])))
              for outcome in run_json.get("points", [])]
    reference = {row["shape"]: row["nodes_per_step"] for row in result
                 if row["variant"] == bench_results.REFERENCE_VARIANT and row["nodes_per_step"]}
    for row in result:
        nodes = reference.get(row["shape"])
        if nodes and row["ms_per_step"] is not None:
            row["reference_nodes_per_step"] = nodes
            row["ns_per_reference_node"] = 1e6 * row["ms_per_step"] / nodes
    return result


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_text(all_rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in all_rows:
        writer.writerow([_csv_value(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def fitted_slope(points):
    """Least-squares slope of log y against log x; None for fewer than 2 sizes."""
    points = [(math.log(x), math.log(y)) for x, y in points if x and y and x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = sum((x - mean_x) ** 2 for x, _ in points)
    return covariance / variance


def is_measured(row):
    return row["ms_per_step"] is not None


def is_wrong(row):
    return row["status"].startswith("wrong gradients")


def by_variant(all_rows):
    """{variant: its measured rows}, variants in the run's order."""
    grouped = {}
    for row in all_rows:
        grouped.setdefault(row["variant"], [])
        if is_measured(row):
            grouped[row["variant"]].append(row)
    return grouped


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


def plot_ns_per_node(plt, all_rows, run_json):
    grouped = by_variant(all_rows)
    colors = variant_colors(list(grouped), plt)
    figure, (own, reference) = plt.subplots(1, 2, figsize=(12, 5))
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
    for axes in (own, reference):
        log_log_axes(axes)
        axes.set_xlabel("reference graph nodes per step (naive's graph at that size)")
    own.set_ylabel("ns per node of the variant's own graph")
    own.set_title("cost per node of the variant's graph", fontsize=10)
    reference.set_ylabel("ns per reference node (step time / naive's nodes)")
    reference.set_title("cost per unit of model work (same unit for every variant)", fontsize=10)
    figure.suptitle("microgpt sweep: " + title_suffix(run_json), fontsize=10)
    notes = [f"left: {', '.join(without_graph)} has no graph (0 nodes); it is on the right"] if without_graph else []
    notes += failed_note(all_rows)
    finish_two_panels(figure, reference, notes)
    return figure


def plot_memory(plt, all_rows, run_json):
    grouped = by_variant(all_rows)
    colors = variant_colors(list(grouped), plt)
    figure, (rss, graph) = plt.subplots(1, 2, figsize=(12, 5))
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
    for axes in (rss, graph):
        log_log_axes(axes)
        axes.set_xlabel("reference graph nodes per step (naive's graph at that size)")
    rss.set_ylabel("peak RSS of the process (MB, VmHWM)")
    rss.set_title("peak resident memory", fontsize=10)
    graph.set_ylabel("graph memory per step (MB, mean over the steps)")
    graph.set_title("memory the step's graph holds (variant's own count)", fontsize=10)
    figure.suptitle("microgpt sweep: " + title_suffix(run_json), fontsize=10)
    notes = [f"right: {', '.join(without_bytes)} reports no graph bytes"] if without_bytes else []
    finish_two_panels(figure, rss, notes + failed_note(all_rows))
    return figure


def render(sweep_json, run_json):
    """{file name: bytes or text} of the CSV and every plot."""
    plt = plot_results.pyplot()
    all_rows = rows(sweep_json, run_json)
    outputs = {CSV_FILE: csv_text(all_rows),
               TABLE_FILE: "# microgpt sweep\n\nGenerated by `scripts/plot_sweep.py` from this run; do not edit.\n\n" +
               table_block(all_rows, run_json)}
    for name, plot in (("sweep_time_vs_nodes.png", plot_time_vs_nodes), ("sweep_ns_per_node.png", plot_ns_per_node),
                       ("sweep_memory.png", plot_memory)):
        figure = plot(plt, all_rows, run_json)
        outputs[name] = plot_results.figure_bytes(figure, "png")
        plt.close(figure)
    return outputs


def _number(value, digits=3):
    if value is None:
        return make_table.MISSING
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}g}"


def table_lines(all_rows, run_json):
    """The README's sweep table: per variant (slowest first) the smallest and
    the largest size of the run, and the slopes over all sizes; then notes."""
    grouped = {variant: rows_ for variant, rows_ in by_variant(all_rows).items() if rows_}
    if not grouped:
        return ["No point of the sweep was measured."]
    sizes = sorted({row["shape"]: (row["reference_nodes_per_step"] or 0, row["n_embd"], row["n_layer"])
                    for row in all_rows if is_measured(row)}.items(), key=lambda item: item[1])
    small, large = sizes[0][0], sizes[-1][0]
    short_small, short_large = (f"e{size[1][1]} l{size[1][2]}" for size in (sizes[0], sizes[-1]))
    lines = [f"| variant | ms/step {short_small} | ms/step {short_large} | ns per reference node "
             f"({short_small} → {short_large}) | own nodes/step {short_large} | ns per own node "
             f"({short_small} → {short_large}) | slope vs own nodes | slope vs reference nodes | "
             f"graph bytes/node {short_large} | peak RSS {short_large} | status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    at = {(row["variant"], row["shape"]): row for row in all_rows if is_measured(row)}
    order = sorted(grouped, key=lambda variant: -max(row["ms_per_step"] for row in grouped[variant]))
    for variant in order:
        first, last = at.get((variant, small)), at.get((variant, large))
        own = fitted_slope([(row["nodes_per_step"], row["ms_per_step"]) for row in grouped[variant]])
        work = fitted_slope([(row["reference_nodes_per_step"], row["ms_per_step"]) for row in grouped[variant]])

        def pair(column):
            values = [row[column] if row else None for row in (first, last)]
            if all(value is None for value in values):
                return make_table.MISSING
            return f"{_number(values[0])} → {_number(values[1])}"

        status = sorted({row["status"] for row in grouped[variant]})
        lines.append("| " + " | ".join([
            variant, _number(first and first["ms_per_step"]), _number(last and last["ms_per_step"], 4),
            pair("ns_per_reference_node"), f"{last['nodes_per_step']:,.0f}" if last else make_table.MISSING,
            pair("ns_per_node"), make_table.MISSING if own is None else f"{own:.2f}",
            make_table.MISSING if work is None else f"{work:.2f}",
            _number(last and last["graph_bytes_per_node"]),
            f"{last['peak_rss_bytes'] / 2**20:,.0f} MB" if last else make_table.MISSING,
            "; ".join(status)]) + " |")
    settings, machine = run_json["settings"], run_json.get("machine", {})
    depth = [row for row in all_rows if row["shape"] == large and row["sort_depth_max"]]
    lines += ["", f"Measured {run_json.get('date', '?')} on {machine.get('cpu_model', '?')} "
                  f"({machine.get('cpus', '?')} CPUs{make_table.load_text(machine)}), commit "
                  f"{run_json.get('git', {}).get('commit', 'unknown')[:12]}"
                  f"{' (with uncommitted changes)' if run_json.get('git', {}).get('dirty') else ''}; "
                  f"`make sweep` took {run_json.get('wall_seconds', 0):.0f} s; C compiled by "
                  f"{run_json.get('c_compiler', '?')} with `{run_json.get('c_flags', '?')}`.", ""]
    lines.append(f"- Sizes: n_embd {', '.join(map(str, settings['n_embd']))} × n_layer "
                 f"{', '.join(map(str, settings['n_layer']))}, n_head {settings['n_head']}, block_size "
                 f"{settings['block_size']} (e16 l1 is the reference's size; {short_small} is {small}, "
                 f"{short_large} is {large}). Each point is a fresh process "
                 f"(`microgpt-bench --sweep`) training {settings['steps']} steps (the run's first documents), "
                 f"repeated for at least {settings.get('min_time', 0):g} s and averaged (one run where one run "
                 "takes longer); the gradient check runs first, at "
                 f"{settings.get('gradient_check_shape') or '?'}.")
    lines.append("- Reference nodes: the nodes naive's graph has at that size (every scalar op a node), the same "
                 "unit of model work for every variant; own nodes: the variant's graph (0 for floor, which has "
                 "none). Slopes: least squares of log time per step against log nodes per step over all sizes.")
    lines.append("- Peak RSS: the harness process's VmHWM (`getrusage`'s `ru_maxrss` is in `sweep.csv` too; "
                 "it also counts the Python that started the process). Graph bytes: what the variant reports "
                 "its step's graph holds, per own node.")
    if depth:
        lines.append(f"- Depth of the depth-first topological sort at {large}: " + ", ".join(
            f"{row['variant']} {row['sort_depth_max']:,} (bound {row['sort_depth_bound']:,})" for row in depth) + ".")
    lines.append("- Google Benchmark is Debian's build (`library_build_type: debug`); that is the framework's own "
                 "code. Raw data: `results/sweep.json` (Google Benchmark JSON), `results/sweep_run.json`, "
                 "`results/sweep.csv`; plots: `results/sweep_time_vs_nodes.png`, `results/sweep_ns_per_node.png`, "
                 "`results/sweep_memory.png`.")
    return lines


def table_block(all_rows, run_json):
    return "\n".join(table_lines(all_rows, run_json)) + "\n"


def summary_lines(all_rows):
    """What the sweep shows, in a few lines: slopes and the largest size."""
    lines = []
    grouped = by_variant(all_rows)
    slopes = []
    for variant, variant_rows in grouped.items():
        slope = fitted_slope([(row["nodes_per_step"], row["ms_per_step"]) for row in variant_rows])
        work_slope = fitted_slope([(row["reference_nodes_per_step"], row["ms_per_step"]) for row in variant_rows])
        if slope is not None or work_slope is not None:
            slopes.append(f"{variant} {'-' if slope is None else f'{slope:.2f}'}/"
                          f"{'-' if work_slope is None else f'{work_slope:.2f}'}")
    if slopes:
        lines.append("slope of log time per step against log nodes per step (own graph/reference graph): " +
                     ", ".join(slopes))
    measured = [row for row in all_rows if is_measured(row)]
    if measured:
        largest = max(measured, key=lambda row: (row["reference_nodes_per_step"] or 0, row["parameters"]))["shape"]
        at_largest = sorted((row for row in measured if row["shape"] == largest), key=lambda row: row["ms_per_step"])
        lines.append(f"at {largest}: " + ", ".join(
            f"{row['variant']} {row['ms_per_step']:.4g} ms/step" +
            (f" (sort depth {row['sort_depth_max']:,})" if row["sort_depth_max"] else "") for row in at_largest))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help=f"directory of {SWEEP_FILE} and {SWEEP_RUN_FILE}")
    parser.add_argument("--output-dir", help="where the CSV and plots go (default: RESULTS_DIR)")
    parser.add_argument("--readme", help="also replace the table between this file's sweep-table markers")
    args = parser.parse_args(argv)
    try:
        if args.readme:
            make_table.check_readme(args.readme, README_MARKERS, README_WHAT)
        for name in (SWEEP_FILE, SWEEP_RUN_FILE):
            if not os.path.exists(os.path.join(args.results_dir, name)):
                raise bench_results.ResultsError(f"{os.path.join(args.results_dir, name)}: not found "
                                                 "(run `make sweep` first)")
        sweep_json = bench_results.load_json(os.path.join(args.results_dir, SWEEP_FILE))
        run_json = bench_results.load_json(os.path.join(args.results_dir, SWEEP_RUN_FILE))
        output_dir = args.output_dir or args.results_dir
        os.makedirs(output_dir, exist_ok=True)
        for name, data in render(sweep_json, run_json).items():
            bench_results.atomic_write(os.path.join(output_dir, name), data)
        if args.readme:
            make_table.update_readme(args.readme, table_block(rows(sweep_json, run_json), run_json), README_MARKERS,
                                     README_WHAT)
    except bench_results.ResultsError as error:
        print(f"plot_sweep: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
