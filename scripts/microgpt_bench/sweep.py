"""`make sweep`: how each variant's cost grows with the model's size, and at what size PyTorch overtakes each C
strategy. Every variant trains --steps steps at each point of a grid over n_embd and n_layer (a fresh harness
process per point, repeated for --min-time); the variants without a scalar graph also at larger points; PyTorch
(float64, one thread: whole sequence and per position at every point, traced and with its default threads along
the crossover path) the same steps, its losses held to floor's at that size. A point whose losses or parameters
went non-finite, or whose loss diverged, is timed but marked. Published (results/ and docs/results.md) only when
every point measured, at the defaults."""
import collections
import csv
import io
import math
import os
import shutil
import time

from . import rows, runner
from .util import MISSING, fitted_slope, format_seconds, log, markdown_table, measured_line, number, \
    parse_shape_name, run_process, shape_name

Grid = collections.namedtuple("Grid", "n_embd n_layer steps min_time large_n_embd large_block extended")
DEFAULT = Grid((16, 32, 64, 128), (1, 2, 4), 20, 0.3, (256, 512), 64, ())
QUICK = Grid((16, 32), (1, 2), 5, 0.1, (64,), 32, ())
EXTENDED_N_EMBD = (768, 1024)  # --extend: floor, sequence and PyTorch past the grid, to a second a step
LARGE_VARIANTS = ("floor", "sequence", "vector", "replay")
TorchRow = collections.namedtuple("TorchRow", "key label mode threads everywhere")
TORCH_ROWS = (TorchRow("torch_sequence", "PyTorch (whole sequence)", "sequence", 1, True),
              TorchRow("torch_position", "PyTorch (per position)", "position", 1, True),
              TorchRow("torch_traced", "PyTorch (traced)", "traced", 1, False),
              TorchRow("torch_sequence_threads", "PyTorch (whole sequence, its default threads)", "sequence", 0, False))
TORCH_BY_KEY = {r.key: r for r in TORCH_ROWS}
CROSSOVER_C = ("floor", "sequence", "vector", "tape")
CROSSOVER_TORCH = ("torch_sequence", "torch_traced")
FILES = ("sweep.json", "sweep_run.json", "sweep.csv", "sweep_table.md", "sweep_time_vs_nodes.png",
         "sweep_ns_per_node.png", "sweep_memory.png", "sweep_crossover.png")


def plan(grid, variants, n_head=4, block=16, torch=True):
    """[(kind, key, shape)], smallest model first: C variants, then PyTorch rows at each shape."""
    common = [(e, n_head, l, block) for e in grid.n_embd for l in grid.n_layer]
    large = [(e, n_head, l, block) for e in grid.large_n_embd for l in grid.n_layer]
    large += [(e, n_head, max(grid.n_layer), grid.large_block) for e in grid.n_embd + grid.large_n_embd
              if grid.large_block]
    extended = [(e, n_head, max(grid.n_layer), block) for e in grid.extended]
    points = []
    for shape in sorted(set(common + large + extended), key=lambda s: (s[2] * s[0] ** 2, s[3], s)):
        on_path = shape[2] == max(grid.n_layer) and shape[3] == block
        allowed = variants if shape in common else [v for v in variants if v in LARGE_VARIANTS and (
            shape not in extended or v in ("floor", "sequence"))]
        points += [("c", v, shape) for v in allowed]
        points += [("torch", r.key, shape) for r in TORCH_ROWS if torch and (r.everywhere or on_path)]
    return points


def run_point(programs, kind, key, shape, grid, data, work_dir):
    """(outcome with the point's figures, its Google Benchmark JSON or None)."""
    stem = os.path.join(work_dir, f"{key}-{shape_name(*shape)}")
    base = {"kind": kind, "key": key, "shape": shape_name(*shape)}
    if kind == "c":
        outcome, result = runner.run_harness(programs.bench, [key], stem, data, [
            "--sweep", "--steps", str(grid.steps), f"--benchmark_min_time={grid.min_time:g}",
            *runner.shape_arguments(shape)], programs.timeout)
        return dict(base, **outcome), result
    row = TORCH_BY_KEY[key]
    losses = os.path.join(work_dir, f"floor-{shape_name(*shape)}.losses")  # floor's, once a size: the reference's bits
    if not os.path.exists(losses):
        failure, _ = run_process([os.path.join(programs.build_dir, "microgpt-floor"), "--steps", str(grid.steps),
                                  "--samples", "0", "--quiet", "--losses", losses, "--data", data,
                                  *runner.shape_arguments(shape)], losses, programs.timeout)
        if failure:
            return dict(base, status=f"{failure} (floor's losses)", seconds=0), None
    report = runner.run_baseline(programs, runner.Baseline(key, row.label, "torch", row.mode), grid.steps, stem, data,
                                 shape, row.threads, losses)
    keep = ("train_seconds", "steps", "nodes", "peak_rss_bytes", "max_abs_loss_difference", "threads", "mean_loss",
            "final_loss", "torch_version", "not_measured", "stderr_tail")
    return dict(base, status=report["status"], seconds=report.get("wall_seconds", 0),
                **{k: report[k] for k in keep if k in report}), None


def point_rows(sweep_json, run_json):
    """One row per point, in the run's order, the C rows from their benchmark entries."""
    found = runner.entries(sweep_json)
    result = []
    for point in run_json["points"]:
        shape = parse_shape_name(point["shape"])
        row = dict(dict.fromkeys(("parameters", "ms_per_step", "nodes_per_step", "peak_rss_bytes", "bytes_per_step",
                                  "sort_depth_max", "mean_loss")), kind=point["kind"], key=point["key"], shape=shape,
                   shape_name=point["shape"], status=point["status"], check=rows.FAILED, marks=[])
        entry = found.get(("sweep", point["key"], point["shape"]))
        if point["kind"] == "c" and point["status"] == "ok" and entry:
            steps = int(entry["steps"])
            row.update(check=rows.verdict(entry), status=entry.get("label") or rows.UNCHECKED,
                       parameters=int(entry["parameters"]), nodes_per_step=entry["nodes_per_step"],
                       ms_per_step=1e3 * runner.entry_seconds(entry) / steps, bytes_per_step=entry["bytes_per_step"],
                       peak_rss_bytes=entry["max_rss_bytes"], mean_loss=entry["mean_loss"],
                       sort_depth_max=int(entry["sort_depth_max"]))  # the CSV's column
            row["marks"] += [f"{int(entry[k])} {k.split('_')[0]} parameters" for k in
                             ("subnormal_parameters", "nonfinite_parameters") if entry.get(k)]
        elif point["kind"] == "torch" and point["status"] == "ok":
            difference = point.get("max_abs_loss_difference")
            row.update(check=rows.TOLERANT if difference is not None else rows.UNCHECKED,
                       status=f"within {difference:.2g} of floor" if difference is not None else "not compared",
                       ms_per_step=1e3 * point["train_seconds"] / point["steps"], peak_rss_bytes=point["peak_rss_bytes"],
                       nodes_per_step=(point.get("nodes") or {}).get("mean"), mean_loss=point.get("mean_loss"))
            asked = TORCH_BY_KEY[point["key"]].threads
            if asked != point.get("threads") or not asked:  # the count torch reports, checked against the one asked for
                row["marks"].append(f"torch's default is {point.get('threads')} thread{'s' if point.get('threads') != 1 else ''}")
        elif point.get("not_measured"):
            row["check"] = rows.NOT_MEASURED
        if row["mean_loss"] is not None and not math.isfinite(row["mean_loss"]):
            row["marks"].append("non-finite loss")
        elif row["mean_loss"] is not None and row["mean_loss"] > math.log(27) + 1:
            row["marks"].append(f"diverged: mean loss {number(row['mean_loss'])}")
        result.append(row)
    parameters = {r["shape"]: r["parameters"] for r in result if r["parameters"]}
    naive = {r["shape"]: r["nodes_per_step"] for r in result if r["key"] == "naive" and r["nodes_per_step"]}
    for row in result:
        row["parameters"] = row["parameters"] or parameters.get(row["shape"]) or model_parameters(row["shape"])
        row["reference_nodes"] = naive.get(row["shape"])
    return result


def model_parameters(shape, vocab=27):
    """docs/spec.md's parameter table: wte, wpe, lm_head, then 12 n_embd² per layer."""
    n_embd, _, n_layer, block = shape
    return (2 * vocab + block) * n_embd + 12 * n_layer * n_embd * n_embd


def csv_text(all_rows):
    columns = ("key", "shape_name", "parameters", "status", "ms_per_step", "nodes_per_step", "reference_nodes",
               "bytes_per_step", "peak_rss_bytes", "sort_depth_max", "mean_loss")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in all_rows:
        writer.writerow(["" if row.get(c) is None else f"{row[c]:.6g}" if isinstance(row[c], float) else row[c]
                         for c in columns] + ["; ".join(row["marks"])])
    return buffer.getvalue()


def measured(all_rows):
    return [r for r in all_rows if r["ms_per_step"] is not None]


def path_rows(all_rows):
    """The crossover path: the most layers, the common block size; {key: [(parameters, ms)]}."""
    layers = max(r["shape"][2] for r in all_rows)
    block = min(r["shape"][3] for r in all_rows)
    series = {}
    for r in measured(all_rows):
        if r["shape"][2] == layers and r["shape"][3] == block:
            series.setdefault(r["key"], []).append((r["parameters"], r["ms_per_step"]))
    return {k: sorted(v) for k, v in series.items()}


def crossovers(all_rows):
    """[(torch key, C key, parameters where PyTorch becomes faster or None, ratio t_c/t_torch at the largest common
    size, that size's parameters)] along the path."""
    series, out = path_rows(all_rows), []
    for torch_key in CROSSOVER_TORCH:
        for c_key in CROSSOVER_C:
            torch_at, c_at = dict(series.get(torch_key, [])), dict(series.get(c_key, []))
            shared = sorted(set(torch_at) & set(c_at))
            if not shared:
                continue
            logs = [(p, math.log(torch_at[p] / c_at[p])) for p in shared]  # above 0: C is faster
            cross = next(((p0, r0, p1, r1) for (p0, r0), (p1, r1) in zip(logs, logs[1:]) if r0 > 0 >= r1), None)
            at = None if cross is None else math.exp(math.log(cross[0]) + (math.log(cross[2]) - math.log(cross[0])) *
                                                     cross[1] / (cross[1] - cross[3]))
            at = at and float(f"{at:.2g}")  # interpolated between two sizes: two digits are all it knows
            out.append((torch_key, c_key, at, c_at[shared[-1]] / torch_at[shared[-1]], shared[-1]))
    return out


def label(key):
    return TORCH_BY_KEY[key].label if key in TORCH_BY_KEY else key


def versus(c_key, ratio):
    """`floor` against PyTorch, from t_c / t_torch."""
    return f"`{c_key}` is {number(1 / ratio)}× faster" if ratio < 1 else f"`{c_key}` takes {number(ratio)}× its time"


def crossover_lines(all_rows):
    lines = []
    for torch_key, c_key, at, ratio, largest in crossovers(all_rows):
        where = f"overtakes `{c_key}` at about {number(at)} parameters" if at else f"never overtakes `{c_key}`"
        lines.append(f"{label(torch_key)} {where}; at {number(largest)} parameters {versus(c_key, ratio)}")
    return lines


def crossover_finding(all_rows):
    """README's finding on PyTorch, or None when the sweep has no PyTorch rows."""
    found = [c for c in crossovers(all_rows) if c[0] == "torch_sequence"]
    if not found:
        return None
    beaten = [f"`{c}` at about {number(at)} parameters" for _, c, at, _, _ in sorted(found, key=lambda f: f[2] or 0) if at]
    floor = next((c for c in found if c[1] == "floor"), None)
    layers = max(r["shape"][2] for r in all_rows)
    text = "**Where a framework wins.** PyTorch's whole-sequence version (float64, one thread) overtakes " + (
        ", ".join(beaten) if beaten else "none of " + ", ".join(f"`{c}`" for c in CROSSOVER_C)) + \
        f" along the sweep's {layers}-layer models"
    if floor:
        text += f"; at the largest, {number(floor[4])} parameters, {versus('floor', floor[3])}"
        broken = [r["parameters"] for r in all_rows if r["key"] == "floor" and r["shape"][2] == layers and
                  any("non-finite" in m for m in r["marks"])]
        text += (f"; from {number(min(broken))} parameters on, the reference's losses are not finite there"
                 if broken else "")
    return text + " (docs/results.md)."


def status_text(mine):
    """A row's statuses over its points: PyTorch's largest distance from floor, the C rows' checks, and how
    many points carry each kind of mark (diverged, non-finite, subnormal, threads)."""
    torch = [float(r["status"].split()[1]) for r in mine if r["kind"] == "torch" and r["status"].startswith("within ")]
    texts = {r["status"] for r in mine if not r["status"].startswith("within ") or r["kind"] == "c"}
    texts |= {f"within {max(torch):.2g} of floor"} if torch else set()
    kinds = collections.Counter(mark.split(":")[0].lstrip("0123456789 ") for r in mine for mark in set(r["marks"]))
    return "; ".join(sorted(texts) + [f"{kind} at {n} size{'s' if n > 1 else ''}" for kind, n in sorted(kinds.items())])


def table_lines(all_rows, run_json):
    """docs/results.md's sweep section: the common grid per row, the larger points, the crossover."""
    settings = run_json["settings"]
    common = [r for r in measured(all_rows) if r["shape"][0] in settings["n_embd"] and r["shape"][3] == settings["block_size"]
              and r["shape"][2] in settings["n_layer"]]
    if not common:
        return ["No point of the sweep was measured."]
    small = min(common, key=lambda r: r["parameters"])["shape"]
    large = max(common, key=lambda r: r["parameters"])["shape"]
    body = []
    keys = list(dict.fromkeys(r["key"] for r in common))
    for key in sorted(keys, key=lambda k: -max(r["ms_per_step"] for r in common if r["key"] == k)):
        mine = [r for r in common if r["key"] == key]
        first = next((r for r in mine if r["shape"] == small), None)
        last = next((r for r in mine if r["shape"] == large), None)
        slope = fitted_slope([(r["parameters"], r["ms_per_step"]) for r in mine])
        body.append([label(key), number(first and first["ms_per_step"]), number(last and last["ms_per_step"]),
                     number(last and last["nodes_per_step"]),
                     number(last and last["reference_nodes"] and 1e6 * last["ms_per_step"] / last["reference_nodes"]),
                     MISSING if slope is None else f"{slope:.2f}",
                     f"{number(last['peak_rss_bytes'] / 2**20)} MiB" if last and last["peak_rss_bytes"] else MISSING,
                     status_text(mine)])
    s, l = (f"e{x[0]} l{x[2]}" for x in (small, large))
    lines = markdown_table(["row", f"ms/step {s}", f"ms/step {l}", f"nodes/step {l}", f"ns per reference node {l}",
                            "slope vs parameters", f"peak RSS {l}", "status"], body, "lrrrrrrl")
    lines += ["", measured_line(run_json) + f"; the sweep took {run_json['wall_seconds']:.0f} s.", "",
              f"- Each C point is a fresh process training the run's first {settings['steps']} steps, repeated for at "
              f"least {settings['min_time']:g} s; PyTorch trains the same steps once, one thread "
              "(`torch.set_num_threads(1)`, read back in its report) unless marked. Reference nodes: naive's graph at "
              "that size, the same unit of work for every row. Slope: least squares of log time against log parameters.",
              "- Marks: *diverged*, a mean loss over the steps above ln(27) + 1 (worse than guessing uniformly: the "
              "reference's learning rate is too large for the larger models); *non-finite*, losses or parameters that "
              "became infinite or NaN (the reference's -log(p) reaches infinity where p underflows to 0; PyTorch's "
              "log_softmax does not); *subnormal*, parameters that slow arithmetic. Such points are timed all the same."]
    others = sorted({r["shape"] for r in measured(all_rows)} - {r["shape"] for r in common}, key=model_parameters)
    if others:
        lines.append("- Larger sizes (the variants without a scalar graph, and PyTorch), time per step:")
        for shape in others:
            at = [r for r in all_rows if r["shape"] == shape]
            lines.append(f"  - {shape_name(*shape)} ({number(model_parameters(shape))} parameters): " + ", ".join(
                f"{label(r['key'])} {format_seconds(r['ms_per_step'] and r['ms_per_step'] / 1e3)}" +
                (f" ({'; '.join(r['marks'])})" if r["marks"] else "") for r in at))
    crossing = crossover_lines(all_rows)
    if crossing:
        lines += ["", f"Along the {max(r['shape'][2] for r in all_rows)}-layer models (`results/sweep_crossover.png`):",
                  ""] + [f"- {c}." for c in crossing]
    return lines


def plots(plt, all_rows):
    """{file: bytes} of the sweep's plots."""
    from .plots import log_axes, render
    figures = []

    def lines(series, xlabel, ylabel, title, name, marks=()):
        series = {key: points for key, points in series.items() if points}
        if not series:  # e.g. a sweep without naive has no reference nodes
            return log(f"sweep: {name} not drawn: no row has its data")
        figure, axes = plt.subplots(figsize=(9, 5.5))
        for index, (key, points) in enumerate(sorted(series.items())):
            points = sorted(points)
            style = "none" if len({x for x, _ in points}) < len(points) else "--" if key.startswith("torch") else "-"
            axes.plot([p[0] for p in points], [p[1] for p in points], linestyle=style, marker="o", markersize=3,
                      color=plt.get_cmap("tab10" if len(series) <= 10 else "tab20")(index % 20), label=label(key))
        for x, y in marks:
            axes.plot([x], [y], "o", markersize=11, markerfacecolor="none", markeredgecolor="black")
        log_axes(axes)
        axes.set(xlabel=xlabel, ylabel=ylabel)
        axes.set_title(title, fontsize=10)
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
        figure.tight_layout()
        figures.append((figure, (name,)))

    by_key = {}
    for r in measured(all_rows):
        by_key.setdefault(r["key"], []).append(r)
    lines({k: [(r["nodes_per_step"], r["ms_per_step"]) for r in v if r["nodes_per_step"]] for k, v in by_key.items()
           if k.startswith("torch") is False}, "graph nodes per step (the row's own graph)", "ms per step",
          "Time per step against graph size, every size of the sweep", "sweep_time_vs_nodes.png")
    lines({k: [(r["parameters"], 1e6 * r["ms_per_step"] / r["reference_nodes"]) for r in v if r["reference_nodes"]]
           for k, v in by_key.items()}, "parameters", "ns per reference node (naive's graph at that size)",
          "Cost per unit of the model's work", "sweep_ns_per_node.png")
    lines({k: [(r["parameters"], r["peak_rss_bytes"] / 2**20) for r in v if r["peak_rss_bytes"]]
           for k, v in by_key.items()}, "parameters", "peak RSS (MiB)", "Peak memory of the process",
          "sweep_memory.png")
    path = path_rows(all_rows)
    keep = {k: v for k, v in path.items() if k in CROSSOVER_C + CROSSOVER_TORCH + ("torch_sequence_threads",)}
    marks = []
    for torch_key, c_key, at, _, _ in crossovers(all_rows):
        if at:
            points = dict(path[c_key])
            xs = sorted(points)
            below = max(x for x in xs if x <= at)
            above = min((x for x in xs if x >= at), default=below)
            t = 0 if above == below else math.log(at / below) / math.log(above / below)
            marks.append((at, math.exp(math.log(points[below]) + t * math.log(points[above] / points[below]))))
    layers = max((r["shape"][2] for r in all_rows), default=0)
    lines(keep, f"parameters (n_embd from the smallest to the largest, {layers} layers)", "ms per step",
          "Where PyTorch overtakes a hand-written strategy (circles: crossovers)", "sweep_crossover.png", marks)
    return render(plt, figures)


def sweep(args, programs, grid, publish):
    """Runs the points into args.run_dir; returns (sweep JSON, run JSON, failures)."""
    from .util import git_state, json_text, machine, toolchain, utc_now
    variants = runner.select_variants(programs.bench, args.variants)
    points = plan(grid, variants, torch=not args.no_torch)
    log(f"sweep: {len(points)} points ({len(variants)} variants and PyTorch), {grid.steps} steps each; "
        f"run directory {args.run_dir}")
    started, load_before = time.monotonic(), list(os.getloadavg())
    harness = os.path.join(args.run_dir, "microgpt-bench")  # a rebuild during the sweep does not mix two builds
    shutil.copy2(programs.bench, harness)
    programs = programs._replace(bench=harness)
    git, outcomes, results, failures = git_state(), [], [], []
    for index, (kind, key, shape) in enumerate(points, 1):
        outcome, result = run_point(programs, kind, key, shape, grid, args.data, args.run_dir)
        outcomes.append(outcome)
        results += [result] if result else []
        figure = (f"{1e3 * runner.entry_seconds(result['benchmarks'][0]) / grid.steps:.4g} ms/step" if result else
                  f"{1e3 * outcome['train_seconds'] / outcome['steps']:.4g} ms/step" if "train_seconds" in outcome else
                  outcome["status"])
        log(f"[{index}/{len(points)}] {key} {shape_name(*shape)}: {figure} ({outcome['seconds']:.1f} s)")
        if outcome["status"] != "ok" and not outcome.get("not_measured"):
            failures.append(f"{key} {shape_name(*shape)}: {outcome['status']}")
    merged = runner.merge_benchmarks(results)
    run_json = {"date": utc_now(), "machine": machine(load_before), **toolchain(merged.get("context", {})),
                "git": git, "wall_seconds": round(time.monotonic() - started, 1), "points": outcomes,
                "settings": {"n_embd": list(grid.n_embd), "n_layer": list(grid.n_layer), "steps": grid.steps,
                             "min_time": grid.min_time, "block_size": 16, "n_head": 4, "large": list(grid.large_n_embd),
                             "extended": list(grid.extended), "data": args.data}}
    failures += [f"{r['key']} {r['shape_name']}: {r['status']}" for r in point_rows(merged, run_json)
                 if r["kind"] == "c" and rows.is_failure(r["check"]) and r["status"] != "ok" and "failed" not in r["status"]]
    for name, value in (("sweep.json", merged), ("sweep_run.json", run_json)):
        with open(os.path.join(args.run_dir, name), "w") as f:
            f.write(json_text(value))
    return merged, run_json, failures
