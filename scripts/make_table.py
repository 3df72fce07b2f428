#!/usr/bin/env python3
"""Turns one `make bench` run into the comparison table.

Reads results/benchmark.json (Google Benchmark) and results/run.json, writes
results/table.md, and with --readme replaces the block between the lines
<!-- results-table:begin --> and <!-- results-table:end --> of that file with
the same table (and touches nothing else; it fails if the markers are
missing). Generated, never edited by hand: rerun after `make bench`.
"""
import argparse
import os
import sys

import bench_results

BEGIN_MARKER = "<!-- results-table:begin -->"
END_MARKER = "<!-- results-table:end -->"
MISSING = "—"


def format_seconds(seconds, estimated=False):
    if seconds is None:
        return MISSING
    if seconds < 1:
        text = f"{1e3 * seconds:.3g} ms"
    else:
        text = f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"
    return f"~{text} (est.)" if estimated else text


def format_ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator <= 0:
        return MISSING
    ratio = numerator / denominator
    if ratio >= 100:
        return f"{ratio:.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    if ratio >= 0.1:
        return f"{ratio:.2f}×"
    return f"{ratio:.4f}×"


def span_note(measured_steps, steps):
    return "" if measured_steps == steps else f" ({measured_steps} steps)"


def comparable_seconds(row, full):
    """The row's time on the span two rows are compared on: the full run, or
    the first K steps."""
    if full:
        return None if row["full_estimated"] else row["full_seconds"]
    return row["k_seconds"]


def python_status(row, reference_row):
    """The Python rows have no gradient check: the original is the reference,
    the optimized one is compared with it loss for loss."""
    if row["status"] != "ok":
        return row["status"]
    if row["version"] == bench_results.PYTHON_BASELINES[0][0]:
        return "reference"
    if reference_row is None or reference_row["status"] != "ok" or reference_row["losses"] is None:
        return "not compared"
    if row["losses"] == reference_row["losses"]:
        return "bit-exact"
    return "losses differ from the reference"


def table_lines(all_rows, settings):
    steps, k_steps = settings["steps"], settings["k_steps"]
    python_full = settings["python_steps"] == steps
    by_version = {row["version"]: row for row in all_rows}
    python_reference = by_version.get(bench_results.PYTHON_BASELINES[0][0])
    naive_c = by_version.get(bench_results.REFERENCE_VARIANT)
    lines = [
        f"| Version | Time ({steps} steps) | Time (first {k_steps} steps) | Speedup vs Python "
        f"| Speedup vs naive C | Loss (final, mean) | Graph size (nodes/step, mean) | Status |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in all_rows:
        ok = row["status"] == "ok" if row["kind"] == "python" else not row["status"].startswith("failed")
        status = python_status(row, python_reference) if row["kind"] == "python" else row["status"]
        if not ok:
            cells = [MISSING] * 6
        else:
            versus_python = MISSING
            if python_reference is not None and python_reference["status"] == "ok":
                versus_python = format_ratio(comparable_seconds(python_reference, python_full),
                                             comparable_seconds(row, python_full))
            versus_naive = MISSING
            if naive_c is not None and not naive_c["status"].startswith("failed"):
                full = row["kind"] == "c" or python_full
                versus_naive = format_ratio(comparable_seconds(naive_c, full), comparable_seconds(row, full))
            if status.startswith("wrong gradients"):  # a different model: its speed is not a result
                versus_python = versus_naive = "not a result"
            cells = [
                format_seconds(row["full_seconds"], row["full_estimated"]),
                format_seconds(row["k_seconds"]),
                versus_python,
                versus_naive,
                f"{row['final_loss']:.4f}, {row['mean_loss']:.4f}{span_note(row['loss_steps'], steps)}",
                f"{row['nodes_per_step']:,.2f}{span_note(row['nodes_steps'], steps)}",
            ]
        lines.append("| " + " | ".join([row["version"]] + cells + [status.replace("|", "/")]) + " |")
    return lines


def losses_agree_note(all_rows, settings):
    """Do the Python reference and naive C give the same losses on the span
    both ran? A check across languages, printed under the table."""
    by_version = {row["version"]: row for row in all_rows}
    python_reference = by_version.get(bench_results.PYTHON_BASELINES[0][0])
    naive_c = by_version.get(bench_results.REFERENCE_VARIANT)
    if (python_reference is None or naive_c is None or python_reference["status"] != "ok"
            or naive_c["status"].startswith("failed")):
        return None
    if settings["python_steps"] == settings["steps"]:
        span, c_losses = f"all {settings['steps']} steps", (naive_c["final_loss"], naive_c["mean_loss"])
    else:
        span, c_losses = f"the first {settings['k_steps']} steps", (naive_c["k_final_loss"], naive_c["k_mean_loss"])
    python_losses = (python_reference["final_loss"], python_reference["mean_loss"])
    verdict = "yes, bit for bit" if python_losses == c_losses else f"NO ({python_losses} vs {c_losses})"
    return f"Final and mean loss of Original Python and naive C over {span} agree: {verdict}."


def load_text(machine):
    """The 1-minute load average before and after the run: other work on the
    machine shows up here."""
    before, after = machine.get("load_average_before"), machine.get("load_average_after")
    if not before or not after:
        return ""
    return f", load average {before[0]:.2f} before and {after[0]:.2f} after the run"


def notes_lines(all_rows, run_json, benchmark_json):
    settings = run_json["settings"]
    steps, k_steps, python_steps = settings["steps"], settings["k_steps"], settings["python_steps"]
    machine, git = run_json.get("machine", {}), run_json.get("git", {})
    context = benchmark_json.get("context", {})
    commit = git.get("commit", "unknown")[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")
    python_text = run_json.get("python_version", "Python")
    lines = [
        f"Measured {run_json.get('date', '?')} on {machine.get('cpu_model', '?')} "
        f"({machine.get('cpus', '?')} CPUs{load_text(machine)}), commit {commit}; C compiled by "
        f"{run_json.get('c_compiler', '?')} with `{run_json.get('c_flags', '?')}`.",
        "",
        f"- C rows: median of {settings['repetitions']} repetitions (Google Benchmark, one training run per "
        f"repetition); the time is the training loop only (no data loading, model creation or sampling), "
        f"the span the Python reference reports as its training time.",
    ]
    if python_steps == steps:
        lines.append(f"- Python rows: one run each of `scripts/microgpt_reference.py` ({python_text}) for all "
                     f"{steps} steps (`make bench FULL=1`).")
    else:
        lines.append(f"- Python rows: one run each of `scripts/microgpt_reference.py` ({python_text}) on the "
                     f"first {python_steps} steps only; their {steps}-step time is that time × {steps}/{python_steps} "
                     f"(marked est.), and their loss and graph size are over those {python_steps} steps. "
                     f"`make bench FULL=1` measures all {steps}.")
    span = f"all {steps} steps" if python_steps == steps else f"the first {k_steps} steps"
    lines += [
        f"- Speedup vs Python: Original Python's time / the row's time, both on {span} (same documents, "
        f"same learning-rate schedule). Speedup vs naive C: naive C's time / the row's time on the full "
        f"{steps}-step run" + ("." if python_steps == steps else f" (Python rows: on the first {k_steps} steps)."),
        "- Status: the gradient check run by the harness on this build before timing (gradients against naive "
        "and against finite differences, `engine/gradient_check.h`); Python rows: reference, or whether every "
        "step's loss equals the reference's.",
    ]
    wrong = [row["version"] for row in all_rows if row["status"].startswith("wrong gradients")]
    if wrong:
        lines.append(f"- Wrong gradients ({', '.join(wrong)}): such a variant trains a different model, so its "
                     "time is not a result; a \"negative control\" is kept on purpose, to show that the check "
                     "catches it.")
    agree = losses_agree_note(all_rows, settings)
    if agree:
        lines.append(f"- {agree}")
    build_type = context.get("library_build_type", "?")
    lines.append(f"- Google Benchmark ({run_json.get('benchmark_library', 'libbenchmark')}) is Debian's build, "
                 f"`library_build_type: {build_type}`: every run warns \"Library was built as DEBUG\". That is the "
                 f"framework's own code; the timed model code is built as above.")
    lines.append(f"- Raw data in `results/`: `{bench_results.BENCHMARK_FILE}` (Google Benchmark JSON; `make compare "
                 f"A=old.json B=new.json` compares two runs) and `{bench_results.RUN_FILE}` (machine, settings, "
                 f"Python timings). Plots: `results/graph_size_vs_runtime.png` (`.svg`), `results/phases.png`.")
    return lines


# The speed targets of the project (issue "Beyond the seed"): ratios from one run.
FLOOR_VARIANT = "floor"
TARGET_FLOOR_VS_PYTHON, TARGET_NAIVE_VS_PYTHON, TARGET_GRAPH_VS_FLOOR = 5000.0, 200.0, 1.5


def target_lines(all_rows, settings):
    """Each target as measured in this run, met or missed and by how much.
    Per-step ratios against Python use the steps both were timed on; the
    graph-versus-floor ratio uses the full runs."""
    by_version = {row["version"]: row for row in all_rows}
    python = by_version.get(bench_results.PYTHON_BASELINES[0][0])
    python_full = settings["python_steps"] == settings["steps"]

    def verdict(ratio, target, higher_is_better=True):
        met = ratio >= target if higher_is_better else ratio <= target
        if met:
            return "met"
        return f"missed by {target / ratio:.2f}×" if higher_is_better else f"missed by {ratio / target:.2f}×"

    def versus_python(version):
        row = by_version.get(version)
        if python is None or python["status"] != "ok" or row is None or row["status"].startswith(("failed", "wrong")):
            return None
        return comparable_seconds(python, python_full) / comparable_seconds(row, python_full)

    lines = []
    for version, target in ((FLOOR_VARIANT, TARGET_FLOOR_VS_PYTHON), (bench_results.REFERENCE_VARIANT,
                                                                      TARGET_NAIVE_VS_PYTHON)):
        ratio = versus_python(version)
        if ratio is not None:
            lines.append(f"{version} is {ratio:,.0f}× faster per step than Original Python "
                         f"(target {target:,.0f}×: {verdict(ratio, target)})")
    floor = by_version.get(FLOOR_VARIANT)
    graphs = [row for row in all_rows if row["kind"] == "c" and row["status"] == "bit-exact"
              and (row["nodes_per_step"] or 0) > 0 and row["full_seconds"]]
    if floor is not None and floor["status"] == "bit-exact" and floor["full_seconds"] and graphs:
        best = min(graphs, key=lambda row: row["full_seconds"])
        ratio = best["full_seconds"] / floor["full_seconds"]
        lines.append(f"the fastest bit-exact variant with a graph, {best['version']}, takes {ratio:.2f}× floor's "
                     f"time (target at most {TARGET_GRAPH_VS_FLOOR}×: {verdict(ratio, TARGET_GRAPH_VS_FLOOR, False)})")
    if not lines:
        return []
    return ["- Targets, from this run: " + "; ".join(lines) + "."]


def render(benchmark_json, run_json):
    """The table and its notes, as Markdown (no title)."""
    all_rows = bench_results.rows(benchmark_json, run_json)
    return "\n".join(table_lines(all_rows, run_json["settings"]) + [""] +
                     notes_lines(all_rows, run_json, benchmark_json) +
                     target_lines(all_rows, run_json["settings"])) + "\n"


def table_document(block):
    return "# microgpt benchmark results\n\nGenerated by `scripts/make_table.py` from this run; do not edit.\n\n" + block


def replace_block(text, block, name="README", markers=(BEGIN_MARKER, END_MARKER), what="the results table"):
    """text with the lines between the markers replaced by block."""
    begin_marker, end_marker = markers
    begin, end = text.find(begin_marker), text.find(end_marker)
    if begin < 0 or end < 0:
        raise bench_results.ResultsError(
            f"{name}: missing the marker lines {begin_marker} and {end_marker} around {what}")
    if text.count(begin_marker) != 1 or text.count(end_marker) != 1 or end < begin:
        raise bench_results.ResultsError(f"{name}: the markers {begin_marker} ... {end_marker} must appear once each, "
                                         "in that order")
    head = text[: begin + len(begin_marker)]
    return head + "\n" + block + text[end:]


def check_readme(path, markers=(BEGIN_MARKER, END_MARKER), what="the results table"):
    """Fails early (before minutes of benchmarking) if path cannot take the table."""
    try:
        with open(path, encoding="utf-8") as f:
            replace_block(f.read(), "", path, markers, what)
    except OSError as error:
        raise bench_results.ResultsError(f"{path}: cannot read: {error.strerror}") from None


def update_readme(path, block, markers=(BEGIN_MARKER, END_MARKER), what="the results table"):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise bench_results.ResultsError(f"{path}: cannot read: {error.strerror}") from None
    updated = replace_block(text, block, path, markers, what)
    if updated != text:
        bench_results.atomic_write(path, updated)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-dir", default="results", help="directory of benchmark.json and run.json")
    parser.add_argument("--output", help="table file (default: RESULTS_DIR/table.md)")
    parser.add_argument("--readme", help="also replace the table between the markers of this file")
    args = parser.parse_args(argv)
    try:
        if args.readme:
            check_readme(args.readme)
        benchmark_json, run_json = bench_results.load_run(args.results_dir)
        block = render(benchmark_json, run_json)
        bench_results.atomic_write(args.output or os.path.join(args.results_dir, "table.md"), table_document(block))
        if args.readme:
            update_readme(args.readme, block)
    except bench_results.ResultsError as error:
        print(f"make_table: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
