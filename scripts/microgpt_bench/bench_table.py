"""The comparison table of one `make bench` run, in Markdown, with its notes.

Times are medians over the rounds with their min-max spread; ratios are
taken within each round and summarised the same way; the rows of variants
whose spreads overlap share a rank (a tie).
"""
from . import checks, stats
from .bench_run import RUN_FILE, reference_rows, round_file, rows, run_context
from .metadata import measured_line

MISSING = "—"
NOT_COUNTED = "not counted"


def format_seconds(seconds):
    if seconds is None:
        return MISSING
    if seconds < 1:
        return f"{1e3 * seconds:.3g} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def _number_in_unit(seconds, unit_of):
    """seconds in the unit format_seconds chose for unit_of, as a number."""
    if unit_of < 1:
        return f"{1e3 * seconds:.3g}"
    return f"{seconds:.3g}" if unit_of < 100 else f"{seconds:.0f}"


def format_time(summary, estimated=False):
    """"2.26 s [2.20–2.41]": the median and the min–max over the rounds, in
    the median's unit; *unstable* over the threshold; ~ and (est.) for a
    time scaled from a shorter run."""
    if summary is None:
        return MISSING
    text = format_seconds(summary.median)
    if summary.count > 1:
        text += (f" [{_number_in_unit(summary.low, summary.median)}–"
                 f"{_number_in_unit(summary.high, summary.median)}]")
    if estimated:
        text = f"~{text} (est.)"
    return text + (" *unstable*" if stats.is_unstable(summary) else "")


def format_ratio_value(ratio):
    if ratio >= 100:
        return f"{ratio:.0f}"
    if ratio >= 10:
        return f"{ratio:.1f}"
    if ratio >= 0.1:
        return f"{ratio:.2f}"
    return f"{ratio:.4f}"


def format_ratio(summary):
    """"101× [95.2–110]": median [min–max] of a ratio over the rounds."""
    if summary is None:
        return MISSING
    text = format_ratio_value(summary.median) + "×"
    if summary.count > 1 and format_ratio_value(summary.low) != format_ratio_value(summary.high):
        text += f" [{format_ratio_value(summary.low)}–{format_ratio_value(summary.high)}]"
    return text


def format_instructions(value):
    """Millions of instructions, three digits or more: "12.3 M", "4,200 M"."""
    if value is None:
        return NOT_COUNTED
    millions = value / 1e6
    return f"{millions:,.0f} M" if millions >= 100 else f"{millions:.3g} M"


def span_note(measured_steps, steps):
    return "" if measured_steps == steps else f" ({measured_steps} steps)"


def comparable(row, full):
    """{round: seconds} on the span two rows are compared on: the full run
    (not a time estimated from a shorter one), or the first K steps."""
    if full:
        return {} if row["full_estimated"] else row["full"]
    return row["k"]


def python_full(settings):
    return settings["python_steps"] == settings["steps"]


def speedups(row, python, naive, settings):
    """(vs the reference baseline, vs naive C), each a Spread of the ratio
    within rounds, or None."""
    versus_python = versus_naive = None
    full = python_full(settings)
    if python is not None:
        versus_python = stats.round_ratios(comparable(python, full), comparable(row, full))
    if naive is not None:
        span = row["kind"] == "c" or full
        versus_naive = stats.round_ratios(comparable(naive, span), comparable(row, span))
    return versus_python, versus_naive


def ranks(all_rows):
    """{version: (rank, tied)} of the C rows with checked gradients, by their
    full runs (stats.tie_groups)."""
    return stats.tie_groups({row["version"]: row["full_spread"] for row in all_rows
                             if row["kind"] == "c" and checks.is_result(row["check"])})


def format_rank(rank):
    if rank is None:
        return MISSING
    position, tied = rank
    return f"={position}" if tied else str(position)


def table_lines(all_rows, settings):
    steps, k_steps = settings["steps"], settings["k_steps"]
    python, naive = reference_rows(all_rows)
    rank_of = ranks(all_rows)
    lines = [
        f"| Version | Time ({steps} steps) | Time (first {k_steps} steps) | Rank | Speedup vs Python "
        f"| Speedup vs naive C | Instructions/step | Loss (final, mean) | Graph size (nodes/step, mean) | Status |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in all_rows:
        if not checks.has_measurement(row["check"]):
            cells = [MISSING] * 8
        else:
            versus_python, versus_naive = (format_ratio(s) for s in speedups(row, python, naive, settings))
            if checks.is_wrong(row["check"]):  # a different model: its speed is not a result
                versus_python = versus_naive = "not a result"
            cells = [
                format_time(row["full_spread"], row["full_estimated"]),
                format_time(row["k_spread"]),
                format_rank(rank_of.get(row["version"])),
                versus_python,
                versus_naive,
                format_instructions(row["instructions_per_step"]),
                f"{row['final_loss']:.4f}, {row['mean_loss']:.4f}{span_note(row['loss_steps'], steps)}",
                f"{row['nodes_per_step']:,.2f}{span_note(row['nodes_steps'], steps)}",
            ]
        lines.append("| " + " | ".join([row["version"]] + cells + [row["status"].replace("|", "/")]) + " |")
    return lines


def losses_agree_note(all_rows, settings):
    """Do the Python reference and naive C give the same losses on the span
    both ran? A check across languages, printed under the table."""
    python, naive = reference_rows(all_rows)
    if python is None or naive is None or python["final_loss"] is None:
        return None
    if python_full(settings):
        span, c_losses = f"all {settings['steps']} steps", (naive["final_loss"], naive["mean_loss"])
    else:
        span, c_losses = f"the first {settings['k_steps']} steps", (naive["k_final_loss"], naive["k_mean_loss"])
    python_losses = (python["final_loss"], python["mean_loss"])
    verdict = "yes, bit for bit" if python_losses == c_losses else f"NO ({python_losses} vs {c_losses})"
    return f"Final and mean loss of {python['version']} and naive C over {span} agree: {verdict}."


def baseline_note(run_json, settings):
    baselines = run_json.get("baselines", [])
    if not baselines:
        return None
    steps, python_steps = settings["steps"], settings["python_steps"]
    rounds = sorted({r["round"] for r in run_json.get("rounds", []) if r.get("baselines")})
    names = ", ".join(f"{b['label']} (`scripts/{b['script']}{''.join(' ' + a for a in b['arguments'])}`)"
                      for b in baselines)
    text = (f"- Baseline rows: {names}, one run each in round{'s' if len(rounds) != 1 else ''} "
            f"{', '.join(map(str, rounds)) or 'none'} (the first {settings['baseline_rounds']} of "
            f"{settings['rounds']}, `BASELINE_ROUNDS`; each run takes minutes), after that round's C variants; "
            f"{run_json.get('python_version') or 'Python'}. ")
    if python_steps == steps:
        return text + f"Each ran all {steps} steps (`make bench FULL=1`)."
    return text + (f"Each ran the first {python_steps} steps only; their {steps}-step time is that time × "
                   f"{steps}/{python_steps} (marked est.), and their loss and graph size are over those "
                   f"{python_steps} steps. `make bench FULL=1` measures all {steps}.")


def notes_lines(all_rows, run_json, context):
    settings = run_json["settings"]
    steps, k_steps, rounds = settings["steps"], settings["k_steps"], settings["rounds"]
    lines = [
        measured_line(run_json) + f"; C compiled by {run_json.get('c_compiler', '?')} with "
        f"`{run_json.get('c_flags', '?')}`.",
        "",
        f"- Times: median [min–max] over {rounds} round{'s' if rounds != 1 else ''} (`ROUNDS`). A round runs "
        f"every variant once, each in a fresh harness process (one training run, Google Benchmark), in an order "
        f"rotated by one place each round, so that drift and neighbours on the machine hit every row alike. The "
        f"time is the training loop only (no data loading, model creation or sampling), the span the Python "
        f"reference reports as its training time. *unstable*: the row's coefficient of variation over the "
        f"rounds exceeds {stats.UNSTABLE_CV:.0%}; its median says little.",
    ]
    note = baseline_note(run_json, settings)
    if note:
        lines.append(note)
    span = f"all {steps} steps" if python_full(settings) else f"the first {k_steps} steps"
    lines += [
        f"- Speedups: within each round, the other row's time / this row's time in that same round; median "
        f"[min–max] over the rounds both ran in. Speedup vs Python: Original Python's time on {span} (same "
        f"documents, same learning-rate schedule). Speedup vs naive C: naive C's on the full {steps}-step run"
        + ("." if python_full(settings) else f" (baseline rows: on the first {k_steps} steps)."),
        "- Rank: C variants with checked gradients by the median of their full run, 1 the fastest. Rows marked "
        "= (e.g. =3) overlap in their min–max ranges with a neighbour: they are tied, and their order is not "
        "a result.",
        f"- Instructions/step: {run_json.get('instructions', {}).get('note', NOT_COUNTED)}; a count that noise "
        "on the machine does not move.",
        "- Status: the gradient check run by the harness on this build before timing (gradients against naive "
        "and against finite differences, `engine/gradient_check.h`); baseline rows: reference, or whether every "
        "step's loss equals the reference's.",
    ]
    wrong = [row["version"] for row in all_rows if checks.is_wrong(row["check"])]
    if wrong:
        lines.append(f"- Wrong gradients ({', '.join(wrong)}): such a variant trains a different model, so its "
                     "time is not a result; a \"negative control\" is kept on purpose, to show that the check "
                     "catches it.")
    agree = losses_agree_note(all_rows, settings)
    if agree:
        lines.append(f"- {agree}")
    lines.append(f"- Google Benchmark ({run_json.get('benchmark_library', 'libbenchmark')}) is Debian's build, "
                 f"`library_build_type: {context.get('library_build_type', '?')}`: every run warns \"Library was "
                 f"built as DEBUG\". That is the framework's own code; the timed model code is built as above.")
    lines.append(f"- Raw data in `results/`: `{round_file(1)}` … (Google Benchmark JSON of each round; `make "
                 f"compare A=old.json B=new.json` compares two), `{RUN_FILE}` (machine, settings, rounds, baseline "
                 f"timings). Plots: `results/graph_size_vs_runtime.png` (`.svg`), `results/phases.png`.")
    return lines


# The speed targets of the project (issue "Beyond the seed"): median ratios within rounds.
FLOOR_VARIANT = "floor"
TARGET_FLOOR_VS_PYTHON, TARGET_NAIVE_VS_PYTHON, TARGET_GRAPH_VS_FLOOR = 5000.0, 200.0, 1.5


def _verdict(ratio, target, higher_is_better=True):
    if (ratio >= target) if higher_is_better else (ratio <= target):
        return "met"
    return f"missed by {target / ratio:.2f}×" if higher_is_better else f"missed by {ratio / target:.2f}×"


def target_lines(all_rows, settings):
    """Each target as measured in this run, met or missed and by how much:
    the median over rounds of the ratio within a round. Per-step ratios
    against Python use the steps both were timed on; the graph-versus-floor
    ratio uses the full runs."""
    python, _ = reference_rows(all_rows)
    full = python_full(settings)
    lines = []
    for version, target in ((FLOOR_VARIANT, TARGET_FLOOR_VS_PYTHON), ("naive", TARGET_NAIVE_VS_PYTHON)):
        row = next((r for r in all_rows if r["version"] == version and checks.is_result(r["check"])), None)
        ratio = stats.round_ratios(comparable(python, full), comparable(row, full)) if python and row else None
        if ratio is not None:
            lines.append(f"{version} is {ratio.median:,.0f}× faster per step than {python['version']} "
                         f"(target {target:,.0f}×: {_verdict(ratio.median, target)})")
    floor = next((r for r in all_rows if r["version"] == FLOOR_VARIANT and r["check"] == checks.EXACT), None)
    graphs = [row for row in all_rows if row["kind"] == "c" and row["check"] == checks.EXACT
              and (row["nodes_per_step"] or 0) > 0 and row["full"]]
    if floor is not None and floor["full"] and graphs:
        best = min(graphs, key=lambda row: row["full_spread"].median)
        ratio = stats.round_ratios(best["full"], floor["full"]).median
        lines.append(f"the fastest bit-exact variant with a graph, {best['version']}, takes {ratio:.2f}× floor's "
                     f"time (target at most {TARGET_GRAPH_VS_FLOOR}×: {_verdict(ratio, TARGET_GRAPH_VS_FLOOR, False)})")
    return ["- Targets, medians over the rounds: " + "; ".join(lines) + "."] if lines else []


def render(run):
    """The table and its notes, as Markdown (no title)."""
    all_rows = rows(run)
    context = run_context(run)
    settings = run.run["settings"]
    return "\n".join(table_lines(all_rows, settings) + [""] + notes_lines(all_rows, run.run, context) +
                     target_lines(all_rows, settings)) + "\n"


def table_document(block):
    return "# microgpt benchmark results\n\nGenerated by `scripts/make_table.py` from this run; do not edit.\n\n" + block
