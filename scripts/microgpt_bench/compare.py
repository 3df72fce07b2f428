"""Comparisons: two runs on file (`compare A B`: two Google Benchmark JSON files, or two `make bench` results
directories), and two builds timed against each other (`compare-builds`: each build's train_full, alternating,
the ratio old / new pair by pair). Plain text: units in every time, ratios to three digits, no escape codes."""
import json
import math
import os
import subprocess

from . import instructions, rows, runner
from .util import ResultsError, format_instructions, format_seconds, load_json, log, markdown_table, measured_line, \
    spread, tie_groups

PHASES = (("step", "real_time", 1e-3), ("forward", "forward_seconds", 1.0), ("backward", "backward_seconds", 1.0),
          ("update", "update_seconds", 1.0))


def load_benchmarks(path):
    """{name: seconds per iteration} of a Google Benchmark JSON file, or a one-line error."""
    document = load_json(path, "give a Google Benchmark JSON file or a results directory")
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a Google Benchmark JSON file (no \"benchmarks\" list); give a "
                           "benchmark-round-NN.json or a results directory")
    try:
        return {e["name"]: runner.entry_seconds(e) for e in document["benchmarks"] if e.get("run_type", "iteration") ==
                "iteration" and "real_time" in e}
    except (KeyError, TypeError, AttributeError) as error:
        raise ResultsError(f"{path}: a benchmark without a name or a known time unit ({error})") from None


def compare_files(a_path, b_path):
    a, b = load_benchmarks(a_path), load_benchmarks(b_path)
    shared = [name for name in a if name in b and a[name] > 0]
    if not shared:
        raise ResultsError(f"{a_path} and {b_path} have no benchmark in common")
    body = [[name, format_seconds(a[name]), format_seconds(b[name]), f"{b[name] / a[name]:.3f}",
             f"{b[name] / a[name] - 1:+.1%}"] for name in shared]
    ratios = [b[n] / a[n] for n in shared if b[n] > 0]
    lines = [f"A: {a_path}", f"B: {b_path}", ""] + markdown_table(["benchmark", "A", "B", "B / A", "change"], body,
                                                                  "lrrrr")
    lines += ["", f"Geometric mean of B / A over {len(ratios)} benchmarks: "
                  f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f}"]
    only = sorted(set(a) ^ set(b))
    return lines + ([f"In one file only: {', '.join(only)}"] if only else [])


def figures(directory):
    """(run, {version: (median time, vs Python, vs naive, instructions)}, {version: spread of the full run})."""
    run = rows.load_run(directory)
    all_rows, settings = rows.rows(run), run.run["settings"]
    out, spreads = {}, {}
    for row in all_rows:
        if row["check"] in (rows.FAILED, rows.NOT_MEASURED):
            continue
        python, naive = (None, None) if rows.is_wrong(row["check"]) else rows.speedups(row, all_rows, settings)
        out[row["version"]] = (row["full_spread"] and row["full_spread"].median, python and python.median,
                               naive and naive.median, row["instructions_per_step"])
        if row["kind"] == "c" and rows.is_result(row["check"]):
            spreads[row["version"]] = row["full_spread"]
    return run, out, spreads


def order_text(spreads):
    ranks = tie_groups(spreads)
    return " · ".join(f"{'=' if tied else ''}{rank} {name}" for name, (rank, tied) in
                      sorted(ranks.items(), key=lambda item: item[1][0]))


def compare_runs(a_dir, b_dir):
    """(lines, failures): two runs' order, ratio changes and instruction counts."""
    (run_a, a, spreads_a), (run_b, b, spreads_b) = figures(a_dir), figures(b_dir)
    shared = [v for v in a if v in b]
    lines = [f"A: `{a_dir}`: {measured_line(run_a.run)}.", f"B: `{b_dir}`: {measured_line(run_b.run)}.", "",
             f"- Order in A (fastest first, = tied): {order_text(spreads_a)}.",
             f"- Order in B: {order_text(spreads_b)}.", ""]

    def change(x, y):
        return "—" if x is None or y is None or not x else f"{y / x - 1:+.1%}"

    body = []
    for v in shared:
        counts = a[v][3], b[v][3]
        difference = abs(counts[1] - counts[0]) / counts[0] if None not in counts and counts[0] else None
        body.append([v, format_seconds(a[v][0]), format_seconds(b[v][0]), change(a[v][0], b[v][0]),
                     change(a[v][1], b[v][1]), change(a[v][2], b[v][2]), format_instructions(counts[0]),
                     format_instructions(counts[1]), "—" if difference is None else f"{difference:.3%}"])
    lines += markdown_table(["row", "time A", "time B", "time B / A", "vs Python B / A", "vs naive B / A",
                             "instructions A", "instructions B", "difference"], body, "lrrrrrrrr")
    same = (run_a.run["git"]["commit"] == run_b.run["git"]["commit"] and not run_a.run["git"]["dirty"] and
            not run_b.run["git"]["dirty"])
    disagree = [row[0] for row in body if row[-1] != "—" and float(row[-1].rstrip("%")) / 100 > instructions.AGREEMENT]
    lines += ["", f"- Instructions per step {'agree' if not disagree else 'differ for ' + ', '.join(disagree)} "
              f"within {instructions.AGREEMENT:.1%}" + ("" if same else " (not the same clean commit)") + "."]
    return lines, [f"{v}: instruction counts differ in one build" for v in disagree] if same else []


def compare(a, b):
    if os.path.isdir(a) != os.path.isdir(b):
        raise ResultsError("compare two results directories, or two Google Benchmark JSON files, not one of each")
    return compare_runs(a, b) if os.path.isdir(a) else (compare_files(a, b), [])


def train_full(bench, variant, arguments):
    """{phase: seconds} of one train_full run, or a failure text."""
    command = [bench, "--variant", variant, "--benchmark_filter=^train_full/", "--benchmark_format=json", *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            return f"{bench} --variant {variant}: exit status {done.returncode}: " + \
                (done.stderr.strip().splitlines() or ["no message"])[-1]
        entry = next(e for e in json.loads(done.stdout[done.stdout.index("{"):])["benchmarks"]
                     if e["name"].startswith("train_full/"))
        return {phase: entry[key] * scale for phase, key, scale in PHASES}
    except (OSError, ValueError, StopIteration) as error:
        return f"{bench} --variant {variant}: no train_full result ({error})"


def compare_builds(old, new, variants, pairs, arguments):
    """(lines, report, failures): old / new per pair, old first in even pairs, new first in odd ones."""
    results, failures = {v: [] for v in variants}, []
    for index in range(pairs):
        for variant in variants:
            pair = {which: train_full(old if which == "old" else new, variant, arguments)
                    for which in (("old", "new") if index % 2 == 0 else ("new", "old"))}
            broken = [p for p in pair.values() if isinstance(p, str)]
            if broken:
                failures += broken
                log(f"pair {index + 1}/{pairs} {variant}: failed: {broken[0]}")
                continue
            results[variant].append(pair)
            log(f"pair {index + 1}/{pairs} {variant}: old {format_seconds(pair['old']['step'])}, new "
                f"{format_seconds(pair['new']['step'])}, old / new {pair['old']['step'] / pair['new']['step']:.3f}")
    lines, report = [], {"old": old, "new": new, "arguments": arguments, "variants": {}}
    for variant, done in results.items():
        if not done:
            continue
        body, summary = [], {}
        for phase, _, _ in PHASES:
            ratio = spread([p["old"][phase] / p["new"][phase] for p in done if p["new"][phase] > 0])
            medians = [spread([p[w][phase] for p in done]).median for w in ("old", "new")]
            summary[phase] = {"old": medians[0], "new": medians[1], "ratio": ratio._asdict()}
            body.append([phase, format_seconds(medians[0]), format_seconds(medians[1]),
                         f"{ratio.median:.3f} [{ratio.low:.3f}–{ratio.high:.3f}]"])
        lines += ["", f"{variant}, {len(done)} pairs (step: all of train_full; phases: their totals):", ""]
        lines += markdown_table(["phase", "old (median)", "new (median)", "old / new per pair, median [min–max]"],
                                body, "lrrr")
        report["variants"][variant] = {"pairs": done, "summary": summary}
    return lines, report, failures
