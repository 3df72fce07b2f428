"""Two `make bench` runs side by side: how much of the table survives a re-run.

For runs A and B (results directories, bench_run.load_run) it reports, as a
Markdown block: when, on which commit and under what load each ran; each
run's order of the ranked C rows (bench_table.ranks: ties as the table shows
them) and the pairs of rows whose order changed although one run set them
apart (min-max ranges not overlapping); per row the ratio B / A of the median
times and of the speedups (bench_table.speedups, ratios within rounds), with
the largest change; and the instructions per step of both runs, which must
agree within instructions.AGREEMENT when both runs are of the same clean
commit, build and counted steps (a count does not depend on the machine's
load).
"""
import collections
import math
import os

from . import bench_table, checks, instructions, readme
from .bench_run import load_run, reference_rows, rows
from .files import ResultsError
from .metadata import commit_text

STABILITY = readme.Block("<!-- stability:begin -->", "<!-- stability:end -->", "the stability comparison")
# The run.json keys that must match for two runs to be of the same build.
BUILD_KEYS = ("c_compiler", "c_flags", "build_type")

Comparison = collections.namedtuple("Comparison", "markdown instruction_failures")


def load(directory):
    """(the run in directory, its rows, row_figures of it); a ResultsError
    when it is not a results directory or its files lack what a run has."""
    if not os.path.isdir(directory):
        raise ResultsError(f"{directory}: not a directory")
    run = load_run(directory)
    try:
        return (run,) + row_figures(run)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ResultsError(f"{directory}: not a complete results directory ({type(error).__name__}: {error})") from None


def ranked_rows(all_rows):
    """[(version, (rank, tied), Spread)] of the rows the table ranks, fastest first."""
    rank_of = bench_table.ranks(all_rows)
    ranked = [(row["version"], rank_of[row["version"]], row["full_spread"])
              for row in all_rows if row["version"] in rank_of]
    return sorted(ranked, key=lambda item: (item[1][0], item[2].median))


def order_text(ranked):
    """"1 tape · =2 both, fused · 4 naive": the ranks as the table shows them."""
    groups = []
    for version, rank, _ in ranked:
        if groups and groups[-1][0] == rank:
            groups[-1][1].append(version)
        else:
            groups.append((rank, [version]))
    return " · ".join(f"{bench_table.format_rank(rank)} {', '.join(versions)}" for rank, versions in groups)


def _apart(first, second):
    """Do the two spreads not overlap (the table ranks them, not a tie)?"""
    return first.high < second.low or second.high < first.low


def order_changes(ranked_a, ranked_b):
    """[(faster in A, faster in B)] for each pair of rows in both runs that
    one run sets apart (min-max ranges not overlapping) and whose medians
    the other run puts the other way round."""
    spread_a = {version: summary for version, _, summary in ranked_a}
    spread_b = {version: summary for version, _, summary in ranked_b}
    shared = [version for version, _, _ in ranked_a if version in spread_b]
    changes = []
    for i, first in enumerate(shared):
        for second in shared[i + 1:]:
            a_first, a_second, b_first, b_second = spread_a[first], spread_a[second], spread_b[first], spread_b[second]
            reversed_order = (a_first.median < a_second.median) != (b_first.median < b_second.median)
            if reversed_order and (_apart(a_first, a_second) or _apart(b_first, b_second)):
                faster_a = first if a_first.median < a_second.median else second
                changes.append((faster_a, second if faster_a == first else first))
    return changes


def _change(value_a, value_b):
    """B / A, or None without both."""
    if value_a is None or value_b is None or value_a <= 0:
        return None
    return value_b / value_a


def _largest(changes):
    """(version, ratio) of the ratio furthest from 1 (on a log scale), or None."""
    known = [(version, ratio) for version, ratio in changes.items() if ratio is not None and ratio > 0]
    return max(known, key=lambda item: abs(math.log(item[1])), default=None)


def _percent(ratio):
    return bench_table.MISSING if ratio is None else f"{ratio - 1:+.1%}"


def _median(summary):
    return None if summary is None else summary.median


def row_figures(run):
    """{version: (median full time, speedup vs Python, speedup vs naive C,
    instructions per step)} of the rows with a result, in the table's order."""
    all_rows = rows(run)
    python, naive = reference_rows(all_rows)
    figures = {}
    for row in all_rows:
        if not checks.has_measurement(row["check"]):
            continue
        versus_python, versus_naive = bench_table.speedups(row, python, naive, run.run["settings"])
        if checks.is_wrong(row["check"]):  # not a result: the table shows no speedup either
            versus_python = versus_naive = None
        figures[row["version"]] = (_median(row["full_spread"]), _median(versus_python), _median(versus_naive),
                                   row["instructions_per_step"])
    return all_rows, figures


def same_build(run_a, run_b):
    """(True, "") when both runs are of one clean commit, build and count
    settings, else (False, why not)."""
    git_a, git_b = run_a.run.get("git", {}), run_b.run.get("git", {})
    if git_a.get("commit") != git_b.get("commit"):
        return False, "different commits"
    if git_a.get("dirty") or git_b.get("dirty"):
        return False, "uncommitted changes"
    if any(run_a.run.get(key) != run_b.run.get(key) for key in BUILD_KEYS):
        return False, "different compilers or flags"
    counted_a, counted_b = run_a.instructions or {}, run_b.instructions or {}
    if counted_a.get("steps") != counted_b.get("steps"):
        return False, "different counted steps"
    build_a, build_b = counted_a.get("build", {}), counted_b.get("build", {})
    if any(build_a.get(key) != build_b.get(key) for key in instructions.IDENTITY_KEYS):
        return False, "different builds"
    return True, ""


def _run_line(name, directory, run):
    machine = run.run.get("machine", {})
    before, after = machine.get("load_average_before"), machine.get("load_average_after")
    load = f"load average {before[0]:.2f} before, {after[0]:.2f} after" if before and after else "load not recorded"
    settings = run.run.get("settings", {})
    return (f"- {name}: `{directory}`, {run.run.get('date', '?')}, commit {commit_text(run.run.get('git', {}))}, "
            f"{load}; {settings.get('rounds', '?')} rounds of {settings.get('steps', '?')} steps.")


def compare(dir_a, dir_b):
    """The Comparison of the runs in dir_a and dir_b: the Markdown block and
    one text per variant whose instruction counts disagree by more than
    instructions.AGREEMENT although both runs are of the same build (a
    failure)."""
    run_a, rows_a, figures_a = load(dir_a)
    run_b, rows_b, figures_b = load(dir_b)
    ranked_a, ranked_b = ranked_rows(rows_a), ranked_rows(rows_b)
    versions = [version for version in figures_a if version in figures_b]
    only = sorted(set(figures_a) ^ set(figures_b))
    lines = ["Run A against run B (generated by `scripts/compare_runs.py`; ratios are B / A):", "",
             _run_line("A", dir_a, run_a), _run_line("B", dir_b, run_b)]
    if only:
        lines.append(f"- Rows in one run only, left out: {', '.join(only)}.")
    changes = order_changes(ranked_a, ranked_b)
    lines += ["", f"- Order in A (fastest first, = tied): {order_text(ranked_a) or bench_table.MISSING}.",
              f"- Order in B: {order_text(ranked_b) or bench_table.MISSING}."]
    if changes:
        lines.append("- Rows set apart by their spreads that changed order: "
                     + "; ".join(f"{a} before {b} in A, after it in B" for a, b in changes) + ".")
    else:
        lines.append("- Rows set apart by their spreads (min–max not overlapping) in either run kept their order.")

    columns = {"time": 0, "speedup vs Python": 1, "speedup vs naive C": 2}
    ratios = {name: {v: _change(figures_a[v][index], figures_b[v][index]) for v in versions}
              for name, index in columns.items()}
    counts = {v: (figures_a[v][3], figures_b[v][3]) for v in versions}
    differences = {v: abs(b - a) / a for v, (a, b) in counts.items() if a and b is not None}
    lines += ["", "| Row | Time B / A | Speedup vs Python B / A | Speedup vs naive C B / A | Instructions/step A "
              "| Instructions/step B | Difference |", "|---|---:|---:|---:|---:|---:|---:|"]
    for v in versions:
        cells = [_percent(ratios[name][v]) for name in columns]
        cells += [bench_table.format_instructions(counts[v][0]), bench_table.format_instructions(counts[v][1]),
                  f"{differences[v]:.3%}" if v in differences else bench_table.MISSING]
        lines.append("| " + " | ".join([v] + cells) + " |")
    lines.append("")
    for name in columns:
        largest = _largest(ratios[name])
        if largest:
            lines.append(f"- Largest change of the {name}: {largest[0]}, {_percent(largest[1])} "
                         f"({largest[1]:.3g}× A's median).")

    same, why_not = same_build(run_a, run_b)
    disagree = sorted(v for v, difference in differences.items() if difference > instructions.AGREEMENT)
    failures = [f"{v}: {counts[v][0]:,.0f} vs {counts[v][1]:,.0f}" for v in disagree] if same else []
    if not differences:
        lines.append("- Instructions per step: not counted in both runs.")
    else:
        largest_v = max(differences, key=differences.get)
        summary = (f"- Instructions per step: largest difference {differences[largest_v]:.3%} ({largest_v}), "
                   f"allowed {instructions.AGREEMENT:.1%}: ")
        if not disagree:
            summary += "the counts agree."
        elif same:
            summary += f"DISAGREE for {', '.join(disagree)} although both runs are of the same build."
        else:
            summary += f"differ for {', '.join(disagree)}, expected: {why_not}."
        lines.append(summary)
    return Comparison("\n".join(lines) + "\n", failures)
