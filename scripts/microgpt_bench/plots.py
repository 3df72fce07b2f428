"""The one plotting module (matplotlib, Agg backend, byte-stable output).

Labels never sit on the data: a scatter's labels stand in a column beside
the axes, each joined to its point by a thin line, and the axes end near
the data; phase times are drawn on a log axis beside each row's shares."""
import io
import statistics

from . import factors, rows
from .runner import BASELINE_BY_KEY
from .util import ResultsError, number

PHASES = (("forward", "forward", "#4c72b0"), ("backward", "backward (incl. release)", "#dd8452"),
          ("update", "Adam update", "#55a868"))
GREY, RED, BLUE = "#8c8c8c", "#c44e52", "#4c72b0"


def pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ResultsError("this python3 cannot import matplotlib (Debian: apt-get install --no-install-recommends "
                           "python3-matplotlib, for /usr/bin/python3)") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "microgpt"  # stable SVG ids
    import matplotlib.pyplot as plt
    return plt


def render(plt, figures):
    """{file name: bytes} of (figure, names); closes each figure."""
    out = {}
    for figure, names in figures:
        for name in names:
            buffer, kind = io.BytesIO(), name.rsplit(".", 1)[1]
            figure.savefig(buffer, format=kind, dpi=120,
                           metadata={"Software": None} if kind == "png" else {"Creator": None, "Date": None})
            out[name] = buffer.getvalue()
        plt.close(figure)
    return out


def log_axes(axes, x=True, y=True):
    from matplotlib import ticker
    for on, axis, set_scale in ((x, axes.xaxis, axes.set_xscale), (y, axes.yaxis, axes.set_yscale)):
        if on:
            set_scale("log")
            axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}"))
            axis.set_minor_formatter(ticker.NullFormatter())
    axes.grid(True, which="major", linestyle=":", linewidth=0.5)


def label_column(figure, axes, points, x_text=1.03):
    """Each (label, x, y, color) as text in a column right of the axes, in
    the points' vertical order, evenly spaced, joined to its point."""
    to_axes = axes.transAxes.inverted()
    placed = sorted(((to_axes.transform(axes.transData.transform((x, y)))[1], label, x, y, color)
                     for label, x, y, color in points))
    count = len(placed)
    for index, (_, label, x, y, color) in enumerate(placed):
        height = (index + 0.5) / count if count > 1 else 0.5
        axes.annotate(label, (x, y), xytext=(x_text, height), textcoords="axes fraction", fontsize=8, va="center",
                      color=color, annotation_clip=False,
                      arrowprops={"arrowstyle": "-", "color": "#c0c0c0", "linewidth": 0.6, "shrinkB": 3})


def graph_size(plt, all_rows, settings):
    """Time per step against graph nodes per step, log-log, one point per row with its min–max."""
    figure, axes = plt.subplots(figsize=(9, 5.5))
    figure.subplots_adjust(left=0.09, right=0.62, bottom=0.11, top=0.9)
    points, missing = [], []
    for row in all_rows:
        use_k = row["k_spread"] is not None and row["k_nodes_per_step"] is not None
        summary, nodes = (row["k_spread"], row["k_nodes_per_step"]) if use_k else (row["full_spread"], row["nodes_per_step"])
        if summary is None or nodes is None:
            missing.append(row["version"])
            continue
        steps = settings["k_steps"] if use_k else settings["steps"]
        low, mid, high = (1e3 * v / steps for v in (summary.low, summary.median, summary.high))
        color = GREY if rows.is_wrong(row["check"]) else RED if row["kind"] == "baseline" else BLUE
        x = max(nodes, 1.0)
        axes.errorbar([x], [mid], yerr=[[mid - low], [high - mid]], fmt="x" if color == GREY else
                      "s" if color == RED else "o", color=color, elinewidth=1, capsize=2)
        text = f"{row['version']} ({number(mid)} ms)" + (" wrong gradients" if color == GREY else "") + \
            (" no graph" if nodes == 0 else "")
        points.append((text, x, mid, color))
    log_axes(axes)
    if points:
        xs, ys = [p[1] for p in points], [p[2] for p in points]
        axes.set_xlim(min(xs) / 2, max(xs) * 2)
        axes.set_ylim(min(ys) / 2, max(ys) * 2)
    label_column(figure, axes, points)
    axes.set_xlabel("graph nodes per step (mean; a row without a graph at 1)")
    axes.set_ylabel("time per training step (ms)")
    axes.set_title(f"Graph size against time per step (median and min–max of {settings['rounds']} rounds)", fontsize=10)
    if missing:
        figure.text(0.01, 0.01, "not plotted (failed or not measured): " + ", ".join(missing), fontsize=8, color=RED)
    return figure


def phases(plt, all_rows, context):
    """Each C row's step by phase: the time on a log axis, and the shares."""
    phase_rows = [r for r in all_rows if r["kind"] == "c" and r.get("phase_medians")][::-1]
    figure, (times, shares) = plt.subplots(1, 2, figsize=(10, 0.35 * len(phase_rows) + 1.8), sharey=True,
                                           gridspec_kw={"width_ratios": (3, 2)})
    names = [r["version"] + (" (wrong)" if rows.is_wrong(r["check"]) else "") for r in phase_rows]
    totals = [sum(r["phase_medians"].get(p, 0.0) for p, _, _ in PHASES) * 1e3 for r in phase_rows]
    left = [0.0] * len(phase_rows)
    for phase, label, color in PHASES:
        values = [1e3 * r["phase_medians"].get(phase, 0.0) for r in phase_rows]
        shares.barh(names, [100 * v / t if t else 0 for v, t in zip(values, totals)], left=left, color=color, label=label)
        left = [a + (100 * v / t if t else 0) for a, v, t in zip(left, values, totals)]
    times.barh(names, totals, color="#7f7f7f")
    for y, total in enumerate(totals):
        times.text(total * 1.1, y, f"{number(total)} ms", va="center", fontsize=8)
    log_axes(times, y=False)
    times.set_xlim(min(totals, default=1) / 2, max(totals, default=1) * 8)
    times.set_xlabel("time of one step (ms, log scale)")
    shares.set_xlim(0, 100)
    shares.set_xlabel("share of the step (%)")
    figure.legend(*shares.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.suptitle(f"One step's phases on the document \"{context.get('microgpt_phase_document', '?')}\" (median of "
                    f"the rounds, {context.get('microgpt_phase_iterations', '?')} iterations each)", fontsize=10)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def step_times(plt, document, window=25):
    """Each variant's time per step across one run (rolling median), log y."""
    figure, axes = plt.subplots(figsize=(9, 5.5))
    variants = sorted(document["variants"])
    for index, variant in enumerate(variants):
        values = [1e3 * s for s in document["variants"][variant]["seconds"]]
        rolling = [statistics.median(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]
        axes.plot(range(1, len(values) + 1), rolling, color=plt.get_cmap("tab10")(index % 10),
                  linestyle=("-", "--", ":")[index // 10 % 3], linewidth=1.2, label=variant)
    log_axes(axes, x=False)
    axes.set_xlabel("training step")
    axes.set_ylabel(f"ms per step (rolling median of {window})")
    axes.set_title("Time per step across the run (round 1)", fontsize=10)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    figure.tight_layout()
    return figure


def speedup_factors(plt, document):
    """Per size, a waterfall down the chain: each bar one link, labelled with its factor."""
    sizes = list(document["factors"])
    figure, axes_list = plt.subplots(1, len(sizes), figsize=(6.8 * len(sizes), 5.4), squeeze=False)
    for axes, size in zip(axes_list[0], sizes):
        times = {k: statistics.median([t for t in v if t is not None]) for k, v in
                 document["seconds_per_step"][size].items() if any(t is not None for t in v)}
        for index, entry in enumerate(document["factors"][size]):
            top, bottom = times.get(entry["from"]), times.get(entry["to"])
            if top is None or bottom is None:
                continue
            axes.bar(index, abs(top - bottom) or top * 1e-3, bottom=min(top, bottom), width=0.6,
                     color="tab:green" if bottom <= top else "tab:red", edgecolor="black", linewidth=0.5)
            axes.text(index, min(top, bottom) / 1.12, f"{entry['median']:.2f}×", ha="center", va="top", fontsize=8)
        for key, color in zip(factors.TORCH_ROWS, ("tab:purple", "tab:blue")):
            if key in times:
                axes.axhline(times[key], linestyle="--", linewidth=0.9, color=color)
                axes.text(len(factors.CHAIN_LINKS) - 0.5, times[key], BASELINE_BY_KEY[key].label + ", 1 thread",
                          ha="right", va="bottom", fontsize=7.5, color=color)
        log_axes(axes, x=False)
        axes.set_xticks(range(len(factors.CHAIN_LINKS)))
        axes.set_xticklabels([f"{link.name}\n{link.first}\n→ {link.second}" for link in factors.CHAIN_LINKS],
                             fontsize=7)
        known = [times[k] for k in factors.CHAIN + factors.TORCH_ROWS if k in times]
        axes.set_ylim(min(known) / 3, max(known) * 2)
        axes.set_ylabel("time per training step (s), median of the rounds")
        whole = document["whole_chain"][size]
        axes.set_title(f"{factors.SIZES[size]['label']}: whole chain {whole['median']:.0f}×" if whole["median"]
                       else factors.SIZES[size]["label"], fontsize=10)
    figure.suptitle("Where the speed comes from: one factor per link (median of the rounds)", fontsize=11)
    figure.tight_layout()
    return figure
