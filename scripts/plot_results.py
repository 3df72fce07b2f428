#!/usr/bin/env python3
"""Plots one `make bench` run (matplotlib, Agg backend).

From results/benchmark.json and results/run.json, writes
  graph_size_vs_runtime.png and .svg: log-log, time per training step
      against graph nodes per step, one labelled point per version, Python
      baselines included, all on the first K steps (equal work);
  phases.png: stacked forward / backward / Adam update time per C variant,
      from the phase micro-benchmarks on one fixed document.
Files are written atomically and are byte-stable for the same input.
"""
import argparse
import io
import os
import sys

import bench_results

PHASES = (("forward", "forward", "#4c72b0"), ("backward", "backward (incl. graph release)", "#dd8452"),
          ("update", "Adam update", "#55a868"))


def pyplot():
    """matplotlib.pyplot with the Agg backend and reproducible output."""
    try:
        import matplotlib
    except ImportError:
        raise bench_results.ResultsError(
            f"{sys.executable} cannot import matplotlib (Debian: apt-get install --no-install-recommends "
            "python3-matplotlib, for /usr/bin/python3)") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "microgpt"  # stable SVG ids
    import matplotlib.pyplot as plt

    return plt


def figure_bytes(figure, file_format):
    buffer = io.BytesIO()
    metadata = {"Software": None} if file_format == "png" else {"Creator": None, "Date": None}
    figure.savefig(buffer, format=file_format, dpi=120, metadata=metadata)
    return buffer.getvalue()


def graph_size_points(all_rows, settings):
    """(label, nodes per step, ms per step) on the first K steps, and the
    versions left out (failed)."""
    points, left_out = [], []
    k_steps = settings["k_steps"]
    for row in all_rows:
        if row["k_seconds"] is None or row["k_nodes_per_step"] is None:
            left_out.append(row["version"])
            continue
        points.append((row["version"], row["k_nodes_per_step"], 1e3 * row["k_seconds"] / k_steps))
    return points, left_out


def label_offsets(points):
    """Text offsets (in points) that keep apart the labels of points that
    nearly coincide (same graph size, times within a factor 1.5): the
    slowest above, the next below, and so on."""
    clusters = []
    for label, nodes, milliseconds in sorted(points, key=lambda p: (p[1], -p[2])):
        for cluster in clusters:
            _, first_nodes, first_milliseconds = cluster[0]
            if abs(nodes - first_nodes) <= 0.02 * first_nodes and first_milliseconds <= 1.5 * milliseconds:
                cluster.append((label, nodes, milliseconds))
                break
        else:
            clusters.append([(label, nodes, milliseconds)])
    offsets = {}
    for cluster in clusters:
        for rank, (label, _, _) in enumerate(cluster):
            offsets[label] = (6, 4 + 12 * (rank // 2)) if rank % 2 == 0 else (6, -12 - 12 * (rank // 2))
    return offsets


def plot_graph_size(plt, all_rows, settings):
    points, left_out = graph_size_points(all_rows, settings)
    offsets = label_offsets(points)
    figure, axes = plt.subplots(figsize=(7, 5))
    wrong = {row["version"] for row in all_rows if row["status"].startswith("wrong gradients")}
    for label, nodes, milliseconds in points:
        python = label in dict(bench_results.PYTHON_BASELINES)
        marker, color = ("s", "#c44e52") if python else ("o", "#4c72b0")
        text = f"{label} ({milliseconds:.3g} ms)"
        if label in wrong:  # trains a different model: shown, but not as a result
            marker, color, text = "x", "#8c8c8c", f"{label} ({milliseconds:.3g} ms, wrong gradients)"
        axes.scatter([nodes], [milliseconds], marker=marker, color=color, zorder=3)
        axes.annotate(text, (nodes, milliseconds), textcoords="offset points", xytext=offsets[label], fontsize=9,
                      color="#8c8c8c" if label in wrong else "black")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("graph nodes per step (mean)")
    axes.set_ylabel("time per training step (ms)")
    axes.set_title(f"microgpt: graph size vs runtime (first {settings['k_steps']} steps, "
                   f"C: median of {settings['repetitions']})", fontsize=10)
    axes.grid(True, which="both", linestyle=":", linewidth=0.5)
    if points:
        xs = [p[1] for p in points]
        ys = [p[2] for p in points]
        axes.set_xlim(min(xs) / 1.6, max(xs) * 2.5)
        axes.set_ylim(min(ys) / 2, max(ys) * 2)
    if left_out:
        figure.text(0.01, 0.01, "not plotted (failed): " + ", ".join(left_out), fontsize=8, color="#c44e52")
    figure.tight_layout()
    return figure


def plot_phases(plt, all_rows, benchmark_json, settings):
    rows = [row for row in all_rows if row["kind"] == "c" and row["phases"]]
    context = benchmark_json.get("context", {})
    figure, axes = plt.subplots(figsize=(7, 4.5))
    labels = [row["version"] + ("\n(wrong)" if row["status"].startswith("wrong gradients") else "") for row in rows]
    bottoms = [0.0] * len(rows)
    for phase, legend, color in PHASES:
        heights = [1e3 * row["phases"].get(phase, 0.0) for row in rows]
        axes.bar(labels, heights, bottom=bottoms, label=legend, color=color)
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    for x, total in enumerate(bottoms):
        axes.annotate(f"{total:.3g}", (x, total), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=9)
    axes.set_ylabel("time (ms)")
    axes.set_ylim(0, max(bottoms, default=1.0) * 1.12 or 1.0)
    document = context.get("microgpt_phase_document", "?")
    axes.set_title(f"microgpt: one training step's phases on the document \"{document}\"\n"
                   f"(mean of {context.get('microgpt_phase_iterations', '?')} iterations, median of "
                   f"{settings['repetitions']} repetitions)", fontsize=10)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    failed = [row["version"] for row in all_rows if row["kind"] == "c" and not row["phases"]]
    if failed:
        figure.text(0.01, 0.01, "not plotted (failed): " + ", ".join(failed), fontsize=8, color="#c44e52")
    figure.tight_layout()
    return figure


def render(benchmark_json, run_json):
    """{file name: bytes} of every plot."""
    plt = pyplot()
    all_rows = bench_results.rows(benchmark_json, run_json)
    settings = run_json["settings"]
    outputs = {}
    figure = plot_graph_size(plt, all_rows, settings)
    outputs["graph_size_vs_runtime.png"] = figure_bytes(figure, "png")
    outputs["graph_size_vs_runtime.svg"] = figure_bytes(figure, "svg")
    plt.close(figure)
    figure = plot_phases(plt, all_rows, benchmark_json, settings)
    outputs["phases.png"] = figure_bytes(figure, "png")
    plt.close(figure)
    return outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of benchmark.json and run.json")
    parser.add_argument("--output-dir", help="where the plots go (default: RESULTS_DIR)")
    args = parser.parse_args(argv)
    try:
        benchmark_json, run_json = bench_results.load_run(args.results_dir)
        for name, data in render(benchmark_json, run_json).items():
            bench_results.atomic_write(os.path.join(args.output_dir or args.results_dir, name), data)
    except bench_results.ResultsError as error:
        print(f"plot_results: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
