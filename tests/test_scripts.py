#!/usr/bin/env python3
"""Tests of the benchmark scripts on a recorded run (tests/fixtures/bench_small).

The table (medians, spreads, ratios within rounds, ties, the unstable mark,
the instruction column), the README block and when it is written, the plots,
atomic writing, the writability check, the git state, the comparison of
two runs (scripts/compare_runs.py) and of two builds (scripts/compare_builds.py,
on a stand-in harness), on the fixture and
on copies of it edited to hold a crashed variant, wrong gradients, a failed
baseline, unsteady rounds and instruction counts. Needs a python3 that can
import matplotlib (ctest runs it with the one CMake found). The harness
itself is exercised by tests/test_bench_smoke.py.
"""
import argparse
import contextlib
import copy
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
FIXTURE_DIR = os.path.join(TESTS_DIR, "fixtures", "bench_small")
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

import compare_builds  # noqa: E402
import compare_runs  # noqa: E402
import run_bench  # noqa: E402
import make_table  # noqa: E402
import plot_results  # noqa: E402
from microgpt_bench import (bench_plots, bench_run, bench_table, checks, files, hooks, instructions,  # noqa: E402
                            metadata, readme, run_comparison, stats, step_times)

README_TEXT = """# Project

Intro that must survive.

<!-- results-table:begin -->
old table
<!-- results-table:end -->

Tail that must survive.
"""
MISSING = bench_table.MISSING


def load_fixture():
    return bench_run.load_run(FIXTURE_DIR)


def variant_of(entry):
    return entry["run_name"].split("/")[1]


def entries_of(run, variant, kind):
    """The variant's `kind` entry of every round, in round order."""
    return [entry for round_json in run.rounds for entry in round_json["benchmarks"]
            if entry["run_name"].split("/")[:2] == [kind, variant]]


def with_failed_variant(run, variant, status):
    """A copy of the run in which `variant` crashed in round 1: no benchmarks, a status."""
    run = copy.deepcopy(run)
    for round_json in run.rounds:
        round_json["benchmarks"] = [b for b in round_json["benchmarks"] if variant_of(b) != variant]
    for outcome in run.run["variants"]:
        if outcome["name"] == variant:
            outcome["status"] = status
    return run


def with_check(run, variant, gradient_status, expected_wrong, label):
    """A copy of the run in which the harness gave `variant` this verdict."""
    run = copy.deepcopy(run)
    for round_json in run.rounds:
        for entry in round_json["benchmarks"]:
            if variant_of(entry) == variant:
                entry.update(gradient_status=gradient_status, expected_wrong=expected_wrong, label=label)
    return run


def with_times(run, variant, kind, seconds):
    """A copy of the run in which `variant`'s `kind` took seconds[r] in round r+1."""
    run = copy.deepcopy(run)
    for entry, value in zip(entries_of(run, variant, kind), seconds):
        entry.update(real_time=value, time_unit="s")
    return run


def table_row(markdown, version):
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {version} |")]
    assert len(rows) == 1, f"expected one row for {version} in:\n{markdown}"
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


COLUMNS = ("Version", "Time (20 steps)", "Time (first 5 steps)", "Rank", "Speedup vs Python", "Speedup vs naive C",
           "Instructions/step", "Loss (final, mean)", "Graph size (nodes/step, mean)", "Status")
FULL, SHORT, RANK, VS_PYTHON, VS_NAIVE, INSTRUCTIONS, LOSS, GRAPH, STATUS = range(1, 10)


def write_run(directory, run):
    files.atomic_write(os.path.join(directory, bench_run.RUN_FILE), files.json_text(run.run))
    for record, round_json in zip(run.run["rounds"], run.rounds):
        files.atomic_write(os.path.join(directory, record["file"]), files.json_text(round_json))
    if run.instructions is not None:
        files.atomic_write(os.path.join(directory, run.run["instructions"]["file"]), files.json_text(run.instructions))


def seconds(entry):
    return entry["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry["time_unit"]]


class TableTest(unittest.TestCase):
    def setUp(self):
        self.run = load_fixture()

    def test_fixture_is_a_real_run_in_rounds(self):
        settings = self.run.run["settings"]
        self.assertEqual(len(self.run.rounds), settings["rounds"])
        for record, round_json in zip(self.run.run["rounds"], self.run.rounds):
            self.assertEqual(len(round_json["benchmarks"]), 5 * len(self.run.run["variants"]))
            self.assertEqual(round_json["context"]["library_build_type"], "debug")
            self.assertEqual(sorted(record["order"]), sorted(v["name"] for v in self.run.run["variants"]))
        orders = [record["order"] for record in self.run.run["rounds"]]
        self.assertEqual(orders[1], orders[0][1:] + orders[0][:1], "the order rotates by one each round")
        self.assertEqual([bool(r.get("baselines")) for r in self.run.run["rounds"]], [True, True, False])

    def test_table_has_every_version_and_column(self):
        markdown = bench_table.render(self.run)
        header = markdown.splitlines()[0]
        self.assertEqual([cell.strip() for cell in header.strip("|").split("|")], list(COLUMNS))
        for version in ("Original Python", "Optimized Python", "naive", "stack", "fused", "both"):
            table_row(markdown, version)
        body = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
        self.assertEqual(body[0].split("|")[1].strip(), "Original Python")
        self.assertEqual(body[2].split("|")[1].strip(), "naive")

    def test_times_are_medians_and_spreads_over_the_rounds(self):
        markdown = bench_table.render(self.run)
        times = sorted(seconds(entry) for entry in entries_of(self.run, "fused", "train_full"))
        self.assertEqual(len(times), 3)
        cell = table_row(markdown, "fused")[FULL]
        self.assertTrue(cell.startswith(bench_table.format_seconds(times[1]) + " ["), cell)
        low, high = (bench_table._number_in_unit(value, times[1]) for value in (times[0], times[2]))
        self.assertIn(f"[{low}–{high}]", cell)

    def test_numbers_come_from_the_json(self):
        markdown = bench_table.render(self.run)
        full = entries_of(self.run, "fused", "train_full")[0]
        row = table_row(markdown, "fused")
        self.assertEqual(row[STATUS], "bit-exact")
        self.assertEqual(row[LOSS], f"{full['final_loss']:.4f}, {full['mean_loss']:.4f}")
        self.assertEqual(row[GRAPH], f"{full['nodes_per_step']:,.2f}")
        self.assertEqual(row[INSTRUCTIONS], "not counted")
        # Speedup vs naive C: naive's time / fused's time within each round.
        ratios = sorted(seconds(n) / seconds(f) for n, f in zip(entries_of(self.run, "naive", "train_full"),
                                                                entries_of(self.run, "fused", "train_full")))
        self.assertEqual(row[VS_NAIVE], bench_table.format_ratio(stats.Spread(ratios[1], ratios[0], ratios[2], 0, 3)))
        self.assertEqual(table_row(markdown, "naive")[VS_NAIVE], "1.00×")
        self.assertEqual(table_row(markdown, "Original Python")[VS_PYTHON], "1.00×")
        python_row = table_row(markdown, "Original Python")
        self.assertIn("(est.)", python_row[FULL])  # 5 of 20 steps measured
        self.assertIn("(5 steps)", python_row[LOSS])
        self.assertEqual(python_row[STATUS], "reference")
        self.assertEqual(python_row[INSTRUCTIONS], "not counted")
        self.assertEqual(table_row(markdown, "Optimized Python")[STATUS], "bit-exact")
        # Speedup vs Python: in the rounds the baseline ran in (1 and 2), not round 3.
        python = [r["baselines"]["naive"]["train_seconds"] for r in self.run.run["rounds"] if r.get("baselines")]
        naive = [seconds(entry) for entry in entries_of(self.run, "naive", "train_k")][:2]
        ratios = sorted(p / n for p, n in zip(python, naive))
        self.assertEqual(table_row(markdown, "naive")[VS_PYTHON],
                         bench_table.format_ratio(stats.Spread(statistics_median(ratios), ratios[0], ratios[1], 0, 2)))

    def test_recorded_verdicts_of_the_gradient_check(self):
        # The fixture holds a negative control (seed_stack) and a variant within
        # tolerance (tape): their verdicts come from the harness's counters.
        markdown = bench_table.render(self.run)
        self.assertEqual(table_row(markdown, "seed_stack")[STATUS], "wrong gradients (negative control)")
        self.assertRegex(table_row(markdown, "tape")[STATUS], r"^within tol [0-9.]+e-[0-9]+$")
        checks_of = {r["version"]: r["check"] for r in bench_run.rows(self.run)}
        self.assertEqual(checks_of["seed_stack"], checks.NEGATIVE_CONTROL)
        self.assertEqual(checks_of["tape"], checks.TOLERANT)
        self.assertEqual(checks_of["fused"], checks.EXACT)
        self.assertFalse(any(checks.is_failure(check) for check in checks_of.values()))

    def test_verdict_is_read_from_the_counters_not_the_label(self):
        run = with_check(self.run, "fused", 0, 0, "wrong gradients, says the label")
        row = bench_run.row_by_version(bench_run.rows(run), "fused")
        self.assertEqual(row["check"], checks.EXACT)
        run = with_check(self.run, "fused", 2, 0, "bit-exact, says the label")
        row = bench_run.row_by_version(bench_run.rows(run), "fused")
        self.assertEqual(row["check"], checks.WRONG)
        self.assertTrue(checks.is_failure(row["check"]))
        self.assertEqual(checks.verdict({"label": "bit-exact"}), checks.UNCHECKED)

    def test_notes_say_what_was_measured(self):
        markdown = bench_table.render(self.run)
        self.assertIn("median [min–max] over 3 rounds", markdown)
        self.assertIn("in rounds 1, 2 (the first 2 of 3, `BASELINE_ROUNDS`", markdown)
        self.assertIn("Each ran the first 5 steps only", markdown)
        self.assertIn("agree: yes, bit for bit", markdown)
        self.assertIn("Library was built as DEBUG", markdown)
        self.assertIn("coefficient of variation over the rounds exceeds 10%", markdown)
        self.assertIn("Instructions/step: not counted", markdown)

    def test_crashed_variant_gets_a_failed_row(self):
        run = with_failed_variant(self.run, "stack", "failed: killed by SIGSEGV")
        markdown = bench_table.render(run)
        row = table_row(markdown, "stack")
        self.assertEqual(row[STATUS], "failed: killed by SIGSEGV")
        self.assertEqual(row[1:STATUS], [MISSING] * 8)
        self.assertEqual(table_row(markdown, "fused")[STATUS], "bit-exact")
        self.assertEqual(sum(checks.is_failure(r["check"]) for r in bench_run.rows(run)), 1)

    def test_failed_reference_variant_leaves_no_naive_speedups(self):
        run = with_failed_variant(self.run, "naive", "failed: exit status 2")
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "fused")[VS_NAIVE], MISSING)
        self.assertNotIn("agree:", markdown)

    def test_wrong_gradients_are_timed_and_flagged(self):
        run = with_check(self.run, "both", 2, 0, "wrong gradients")
        markdown = bench_table.render(run)
        row = table_row(markdown, "both")
        self.assertEqual(row[STATUS], "wrong gradients")
        self.assertNotEqual(row[FULL], MISSING)
        self.assertEqual(row[RANK], MISSING, "a different model is not ranked")
        self.assertRegex(markdown, r"Wrong gradients \(both(, [a-z_]+)*\): such a variant trains a different model")
        self.assertTrue(checks.is_failure(checks.WRONG))
        self.assertFalse(checks.is_failure(checks.TOLERANT))

    def test_wrong_gradients_have_no_speedups(self):
        # A variant that trains a different model: its time is shown, its speed is not a result.
        markdown = bench_table.render(self.run)
        row = table_row(markdown, "seed_stack")
        self.assertEqual(row[VS_PYTHON:VS_NAIVE + 1], ["not a result", "not a result"])
        self.assertNotEqual(table_row(markdown, "tape")[VS_PYTHON], "not a result")

    def test_unstable_rows_are_marked(self):
        run = with_times(self.run, "fused", "train_full", [1.0, 1.5, 1.0])  # cv 0.29
        run = with_times(run, "both", "train_full", [1.0, 1.05, 1.02])  # cv 0.025
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "fused")[FULL], "1 s [1–1.5] *unstable*")
        self.assertEqual(table_row(markdown, "both")[FULL], "1.02 s [1–1.05]")
        self.assertTrue(stats.is_unstable(stats.spread([1.0, 1.25])))
        self.assertFalse(stats.is_unstable(stats.spread([1.0])), "one round: no spread, nothing to judge")

    def test_ratios_are_taken_within_rounds(self):
        # A slow round slows both rows alike: the times spread, their ratio does not.
        run = with_times(self.run, "naive", "train_full", [2.0, 4.0, 6.0])
        run = with_times(run, "fused", "train_full", [1.0, 2.0, 3.0])
        markdown = bench_table.render(run)
        self.assertIn("*unstable*", table_row(markdown, "fused")[FULL])
        self.assertEqual(table_row(markdown, "fused")[VS_NAIVE], "2.00×")
        run = with_times(run, "fused", "train_full", [1.0, 4.0, 2.0])  # ratios 2, 1, 3
        self.assertEqual(table_row(bench_table.render(run), "fused")[VS_NAIVE], "2.00× [1.00–3.00]")

    def test_rows_within_each_others_spread_are_ties(self):
        run = with_times(self.run, "fused", "train_full", [1.0, 1.2, 1.1])
        run = with_times(run, "both", "train_full", [1.15, 1.3, 1.25])  # overlaps fused
        run = with_times(run, "tape", "train_full", [0.5, 0.55, 0.6])  # alone, fastest
        run = with_times(run, "stack", "train_full", [3.0, 3.1, 3.2])
        run = with_times(run, "naive", "train_full", [3.5, 3.6, 3.7])
        markdown = bench_table.render(run)
        self.assertEqual([table_row(markdown, v)[RANK] for v in ("tape", "fused", "both", "stack", "naive")],
                         ["1", "=2", "=2", "4", "5"])
        self.assertEqual(table_row(markdown, "Original Python")[RANK], MISSING)
        self.assertIn("are tied, and their order is not a result", markdown)

    def test_tie_groups(self):
        spread = stats.spread
        ranks = stats.tie_groups({"a": spread([1, 2]), "b": spread([1.5, 3]), "c": spread([2.8, 4]),
                                  "d": spread([5, 6]), "e": None})
        self.assertEqual(ranks, {"a": (1, True), "b": (1, True), "c": (1, True), "d": (4, False)})
        self.assertEqual(stats.tie_groups({"x": spread([2]), "y": spread([1])}), {"y": (1, False), "x": (2, False)})

    def test_instruction_counts_fill_their_column(self):
        run = copy.deepcopy(self.run)
        counts = {"fused": {"instructions_per_step": 12_345_678.0}, "naive": {"instructions_per_step": 98_765_432.1}}
        run.run["instructions"] = {"note": "callgrind over 20 steps (scripts/count_instructions.py)",
                                   "file": bench_run.INSTRUCTIONS_FILE}
        run = run._replace(instructions={"tool": "callgrind", "steps": 20, "variants": counts,
                                         "python": {"naive": {"instructions_per_step": 4.2e9}}})
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "Original Python")[INSTRUCTIONS], "4,200 M")
        self.assertEqual(table_row(markdown, "Optimized Python")[INSTRUCTIONS], "not counted")
        self.assertEqual(table_row(markdown, "fused")[INSTRUCTIONS], "12.3 M")
        self.assertEqual(table_row(markdown, "naive")[INSTRUCTIONS], "98.8 M")
        self.assertEqual(table_row(markdown, "stack")[INSTRUCTIONS], "not counted")
        self.assertIn("Instructions/step: callgrind over 20 steps", markdown)
        with tempfile.TemporaryDirectory() as directory:
            write_run(directory, run)
            self.assertEqual(bench_run.load_run(directory).instructions, run.instructions)

    def test_targets_are_ratios_from_the_rounds(self):
        rows = bench_run.rows(self.run)
        by_version = {row["version"]: row for row in rows}
        floor = copy.deepcopy(by_version["tape"])
        floor.update(version="floor", check=checks.EXACT, status="bit-exact", nodes_per_step=0.0)
        floor["full"] = {r: s / 4 for r, s in floor["full"].items()}
        floor["k"] = {r: s / 6000 for r, s in by_version["Original Python"]["k"].items()}
        floor["full_spread"] = stats.spread(floor["full"].values())
        line = bench_table.target_lines(rows + [floor], self.run.run["settings"])[0]
        self.assertIn("floor is 6,000× faster per step than Original Python (target 5,000×: met)", line)
        self.assertRegex(line, r"naive is [\d,]+× faster per step than Original Python \(target 200×: ")
        # tape is not bit-exact in the fixture; the fastest bit-exact graph variant is compared with floor
        graphs = [r for r in rows if r["kind"] == "c" and r["check"] == checks.EXACT]
        best = min(graphs, key=lambda r: r["full_spread"].median)
        ratio = stats.round_ratios(best["full"], floor["full"]).median
        self.assertIn(f"{best['version']}, takes {ratio:.2f}× floor's time (target at most 1.5×: missed by "
                      f"{ratio / 1.5:.2f}×)", line)

    def test_rows_go_from_the_reference_to_the_fastest(self):
        rows = [r for r in bench_run.rows(self.run) if r["kind"] == "c"]
        self.assertEqual(rows[0]["version"], "naive")
        sound = [r for r in rows[1:] if checks.is_result(r["check"])]
        medians = [r["full_spread"].median for r in sound]
        self.assertEqual(medians, sorted(medians, reverse=True))
        self.assertEqual(rows[-1]["check"], checks.NEGATIVE_CONTROL)

    def test_negative_control_is_flagged_but_not_a_failure(self):
        run = with_check(self.run, "stack", 2, 1, "wrong gradients (negative control)")
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "stack")[STATUS], "wrong gradients (negative control)")
        self.assertIn("negative control", markdown)
        self.assertFalse(any(checks.is_failure(r["check"]) for r in bench_run.rows(run)))
        outputs = bench_plots.render(run)
        self.assertIn(b"wrong gradients", outputs["graph_size_vs_runtime.svg"])

    def test_failed_python_baseline(self):
        run = copy.deepcopy(self.run)
        run.run["rounds"][1]["baselines"]["naive"] = {"status": "failed: exit status 1: boom"}
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "Original Python")[STATUS], "failed: exit status 1: boom")
        self.assertEqual(table_row(markdown, "naive")[VS_PYTHON], MISSING)
        self.assertEqual(table_row(markdown, "Optimized Python")[STATUS], "not compared")
        self.assertTrue(checks.is_failure(bench_run.rows(run)[0]["check"]))

    def test_baseline_that_cannot_run_here_is_not_measured(self):
        """A baseline program that exits with NOT_MEASURED_EXIT (PyTorch
        without torch): its row says why, has no figures, and fails nothing."""
        run = copy.deepcopy(self.run)
        for record in run.run["rounds"][:2]:
            record["baselines"]["both"] = {"status": "not measured: torch cannot be imported", "not_measured": True}
        markdown = bench_table.render(run)
        row = table_row(markdown, "Optimized Python")
        self.assertEqual(row[STATUS], "not measured: torch cannot be imported")
        self.assertEqual(row[VS_PYTHON], MISSING)
        self.assertFalse(any(checks.is_failure(r["check"]) for r in bench_run.rows(run)))

    def test_optimized_python_with_other_losses_is_flagged(self):
        run = copy.deepcopy(self.run)
        losses = run.run["rounds"][0]["baselines"]["both"]["losses"]
        losses[-1] += 1e-6
        markdown = bench_table.render(run)
        self.assertEqual(table_row(markdown, "Optimized Python")[STATUS],
                         "losses differ from the reference by up to 1e-06")
        # within the cap of a reordered sum: shown with its measured tolerance, not as a failure
        losses[-1] -= 1e-6 - 2e-12
        markdown = bench_table.render(run)
        self.assertRegex(table_row(markdown, "Optimized Python")[STATUS], r"^within tol 2(\.\d+)?e-12$")
        self.assertFalse(checks.is_failure(bench_run.rows(run)[1]["check"]))

    def test_full_python_run_is_not_estimated(self):
        run = copy.deepcopy(self.run)
        run.run["settings"]["python_steps"] = 20
        for record in run.run["rounds"]:
            for report in record.get("baselines", {}).values():
                report["steps"] = 20
        markdown = bench_table.render(run)
        row = table_row(markdown, "Original Python")
        self.assertNotIn("est.", row[FULL])
        self.assertEqual(row[SHORT], MISSING)
        self.assertIn("Each ran all 20 steps", markdown)

    def test_main_writes_table(self):
        with tempfile.TemporaryDirectory() as directory:
            write_run(directory, self.run)
            self.assertEqual(make_table.main(["--results-dir", directory]), 0)
            with open(os.path.join(directory, "table.md"), encoding="utf-8") as f:
                text = f.read()
            self.assertTrue(text.startswith("# microgpt benchmark results"))
            self.assertIn(bench_table.render(self.run), text)

    def test_main_without_results_fails_clearly(self):
        with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(make_table.main(["--results-dir", directory]), 2)
            self.assertIn("run `make bench` first", err.getvalue())
            old = {key: value for key, value in self.run.run.items() if key != "rounds"}
            files.atomic_write(os.path.join(directory, bench_run.RUN_FILE), files.json_text(old))
            self.assertEqual(make_table.main(["--results-dir", directory]), 2)
        self.assertIn("a run from before the rounds", err.getvalue())


def statistics_median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.readme = os.path.join(self.directory.name, "README.md")
        self.results = os.path.join(self.directory.name, "results")
        os.mkdir(self.results)
        write_run(self.results, load_fixture())

    def tearDown(self):
        self.directory.cleanup()

    def write_readme(self, text):
        with open(self.readme, "w", encoding="utf-8") as f:
            f.write(text)

    def read_readme(self):
        with open(self.readme, encoding="utf-8") as f:
            return f.read()

    def test_block_between_markers_is_replaced(self):
        self.write_readme(README_TEXT)
        self.assertEqual(make_table.main(["--results-dir", self.results, "--readme", self.readme]), 0)
        text = self.read_readme()
        block = bench_table.render(load_fixture())
        self.assertEqual(text, README_TEXT.replace("old table\n", block))
        self.assertNotIn("old table", text)
        self.assertEqual(make_table.main(["--results-dir", self.results, "--readme", self.readme]), 0)
        self.assertEqual(self.read_readme(), text)  # idempotent

    def test_missing_markers_fail_and_leave_everything(self):
        for text in ("# no markers\n", README_TEXT.replace("<!-- results-table:end -->\n", ""),
                     README_TEXT + "<!-- results-table:begin -->\n"):
            self.write_readme(text)
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(make_table.main(["--results-dir", self.results, "--readme", self.readme]), 2)
            self.assertIn("results-table", err.getvalue())
            self.assertEqual(self.read_readme(), text)
            self.assertFalse(os.path.exists(os.path.join(self.results, "table.md")))

    def test_missing_readme_fails(self):
        with contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(make_table.main(["--results-dir", self.results, "--readme", self.readme]), 2)
        self.assertIn("cannot read", err.getvalue())

    def test_a_run_with_other_settings_leaves_the_readme(self):
        self.write_readme(README_TEXT)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(make_table.main(["--results-dir", self.results, "--readme-if-default", self.readme]), 0)
        self.assertEqual(self.read_readme(), README_TEXT)
        self.assertIn("left as it is: not the default settings (STEPS=20 K_STEPS=5 ROUNDS=3", out.getvalue())
        self.assertIn(f"RESULTS_DIR={self.results}", out.getvalue())
        self.assertTrue(os.path.exists(os.path.join(self.results, "table.md")))

    def test_which_settings_are_the_defaults(self):
        defaults = dict(bench_run.DEFAULTS)
        self.assertEqual(bench_run.non_default_settings(defaults, os.path.join(PROJECT_DIR, "results")), [])
        self.assertEqual(bench_run.non_default_settings(defaults, "/tmp/elsewhere"), ["RESULTS_DIR=/tmp/elsewhere"])
        for name, value in (("steps", 20), ("k_steps", 10), ("rounds", 2), ("full", True), ("variants", "naive"),
                            ("baseline_rounds", 0), ("instruction_steps", 0)):
            changed = dict(defaults, **{name: value})
            self.assertEqual(bench_run.non_default_settings(changed, os.path.join(PROJECT_DIR, "results")),
                             [f"{name.upper()}={value}"])


class AtomicWriteTest(unittest.TestCase):
    def test_replaces_whole_file_and_keeps_mode(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.txt")
            files.atomic_write(path, "old\n")
            os.chmod(path, 0o600)
            files.atomic_write(path, "new\n")
            with open(path) as f:
                self.assertEqual(f.read(), "new\n")
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            self.assertEqual(os.listdir(directory), ["out.txt"])

    def test_interrupted_write_leaves_old_file(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.txt")
            files.atomic_write(path, "old\n")
            with mock.patch("os.replace", side_effect=KeyboardInterrupt):
                with self.assertRaises(KeyboardInterrupt):
                    files.atomic_write(path, "new\n" * 1000)
            with open(path) as f:
                self.assertEqual(f.read(), "old\n")
            self.assertEqual(os.listdir(directory), ["out.txt"])

    def test_failed_publish_leaves_previous_results(self):
        with tempfile.TemporaryDirectory() as directory:
            files.atomic_write(os.path.join(directory, "table.md"), "previous\n")
            outputs = {"run.json": "{}\n", "table.md": "new\n", "plot.png": None}  # None cannot be written
            with self.assertRaises(TypeError):
                files.publish(outputs, directory, ["table.md"])
            self.assertEqual(sorted(os.listdir(directory)), ["table.md"])
            with open(os.path.join(directory, "table.md")) as f:
                self.assertEqual(f.read(), "previous\n")

    def test_publish_removes_what_the_previous_run_wrote_and_this_one_does_not(self):
        with tempfile.TemporaryDirectory() as directory:
            for name in ("benchmark-round-01.json", "benchmark-round-07.json", "benchmark.json", "notes.txt"):
                files.atomic_write(os.path.join(directory, name), "old\n")
            files.publish({"benchmark-round-01.json": "new\n"}, directory,
                          ["benchmark-round-01.json", "benchmark-round-07.json", "benchmark.json"])
            self.assertEqual(sorted(os.listdir(directory)), ["benchmark-round-01.json", "notes.txt"])

    def test_writability_is_checked(self):
        with tempfile.TemporaryDirectory() as directory:
            files.check_writable(directory)
            files.check_writable(os.path.join(directory, "not", "yet"))  # made later, in a writable parent
            self.assertEqual(os.listdir(directory), [], "the probe is removed")
            blocker = os.path.join(directory, "a-file")
            files.atomic_write(blocker, "x")
            with self.assertRaisesRegex(files.ResultsError, "a-file is not a directory"):
                files.check_writable(os.path.join(blocker, "results"))
            read_only = OSError(30, "Read-only file system")
            with mock.patch("tempfile.mkstemp", side_effect=read_only):
                with self.assertRaisesRegex(files.ResultsError, f"cannot write to {directory}: Read-only file system"):
                    files.check_writable(directory)


class GitStateTest(unittest.TestCase):
    def test_untracked_and_modified_sources_make_a_run_dirty(self):
        with tempfile.TemporaryDirectory() as directory:
            def git(*arguments):
                subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=directory,
                               check=True, capture_output=True)

            git("init", "-q")
            with open(os.path.join(directory, ".gitignore"), "w") as f:
                f.write("build/\n")
            with open(os.path.join(directory, "model.c"), "w") as f:
                f.write("int x;\n")
            git("add", ".")
            git("commit", "-q", "-m", "first")
            state = metadata.git_state(directory)
            self.assertEqual((len(state["commit"]), state["dirty"]), (40, False))
            os.mkdir(os.path.join(directory, "build"))
            with open(os.path.join(directory, "build", "ignored.o"), "w") as f:
                f.write("x")
            self.assertFalse(metadata.git_state(directory)["dirty"], "ignored files do not count")
            os.mkdir(os.path.join(directory, "variants"))
            with open(os.path.join(directory, "variants", "arena.c"), "w") as f:
                f.write("int y;\n")
            state = metadata.git_state(directory)
            self.assertTrue(state["dirty"], "a new, untracked variant counts")
            self.assertEqual(state["changes"], ["?? variants/arena.c"])
            os.unlink(os.path.join(directory, "variants", "arena.c"))
            with open(os.path.join(directory, "model.c"), "a") as f:
                f.write("int z;\n")
            self.assertEqual(metadata.git_state(directory)["changes"], [" M model.c"])
            subprocess.run(["git", "checkout", "-q", "model.c"], cwd=directory, check=True)
            os.mkdir(os.path.join(directory, "results"))
            with open(os.path.join(directory, "results", "counts.json"), "w") as f:
                f.write("{}\n")
            self.assertTrue(metadata.git_state(directory)["dirty"])
            self.assertFalse(metadata.git_state(directory, exclude=("results",))["dirty"], "results/ left out")


class InstructionCountTest(unittest.TestCase):
    """make bench's counts: the C variants and the Python rows under the
    keys the table reads (callgrind itself: tests/test_instructions.py)."""

    def count(self, python_rows, **patches):
        defaults = {"count_instructions": lambda build_dir, variants, *rest, **keywords: {
                        v: {"instructions_per_step": 1000.0 * len(v)} for v in variants},
                    "count_python": lambda reference, python, data, steps, strategy: {
                        "instructions_per_step": {"naive": 4.2e9, "both": 1.1e9}[strategy], "steps": steps - 1},
                    "build_record": lambda build_dir: {"commit": "c"},
                    "valgrind_version": lambda: "valgrind-test"}
        defaults.update(patches)
        with contextlib.ExitStack() as stack:
            for name, replacement in defaults.items():
                stack.enter_context(mock.patch.object(instructions, name, replacement))
            return bench_run.count_run_instructions("/b", ["naive", "floor"], 5, None, python_rows)

    def test_c_and_python_rows_are_counted(self):
        rows = [(b.key, "python3", bench_run.python_strategy(b)) for b in bench_run.PYTHON_BASELINES]
        document, note = self.count(rows)
        self.assertEqual(document["variants"], {"naive": {"instructions_per_step": 5000.0},
                                                "floor": {"instructions_per_step": 5000.0}})
        self.assertEqual(sorted(document["python"]), ["both", "naive"])
        self.assertEqual(document["python"]["naive"]["steps"], 4)
        self.assertEqual((document["steps"], document["tool"], document["build"]), (5, "callgrind", {"commit": "c"}))
        self.assertIn("callgrind over 5 steps", note)
        self.assertIn("the Python rows as whole processes", note)
        # The keys are the baselines' keys: the table finds them.
        run = copy.deepcopy(load_fixture())
        run.run["instructions"] = {"note": note, "file": bench_run.INSTRUCTIONS_FILE}
        markdown = bench_table.render(run._replace(instructions=document))
        self.assertEqual(table_row(markdown, "Original Python")[INSTRUCTIONS], "4,200 M")
        self.assertEqual(table_row(markdown, "Optimized Python")[INSTRUCTIONS], "1,100 M")

    def test_python_strategy_of_a_baseline(self):
        self.assertEqual([bench_run.python_strategy(b) for b in bench_run.PYTHON_BASELINES], ["naive", "both"])
        self.assertEqual([bench_run.python_strategy(b) for b in bench_run.TORCH_BASELINES], [None, None])

    def test_default_steps_are_the_baselines(self):
        with open(os.path.join(PROJECT_DIR, "results", "instructions_baseline.json")) as f:
            self.assertEqual(bench_run.DEFAULTS["instruction_steps"], json.load(f)["steps"])

    def test_a_failing_count_leaves_the_column_not_counted(self):
        def broken(*arguments, **keywords):
            raise instructions.CountError("valgrind is not installed")

        document, note = self.count([], count_instructions=broken)
        self.assertIsNone(document)
        self.assertEqual(note, "not counted: valgrind is not installed")
        # A Python row that cannot be counted loses only its own cell.
        document, note = self.count([("naive", "python3", "naive")], count_python=broken)
        self.assertEqual(sorted(document["variants"]), ["floor", "naive"])
        self.assertNotIn("python", document)
        self.assertIn("Python naive not counted: valgrind is not installed", note)


class StepTimesTest(unittest.TestCase):
    def test_merge_and_plot(self):
        documents = [{"steps": 3, "heap_interval": 100, "variants": {name: {"seconds": [s, s * 2, s * 1.5]}}}
                     for name, s in (("naive", 1e-3), ("floor", 1e-5))]
        merged = step_times.merge(documents)
        self.assertEqual((merged["steps"], sorted(merged["variants"])), (3, ["floor", "naive"]))
        self.assertIsNone(step_times.merge([]))
        runs = step_times.runs(merged, "test")
        self.assertEqual([variant for variant, _ in runs], ["floor", "naive"])
        first, second = step_times.render(runs), step_times.render(runs)
        self.assertTrue(first.startswith(b"\x89PNG"))
        self.assertEqual(first, second)
        with self.assertRaises(files.ResultsError):
            step_times.runs({"variants": 3}, "bad")
        self.assertEqual(step_times.rolling_median([5, 1, 3, 100, 2], 3), [5, 3, 3, 3, 3])
        with tempfile.TemporaryDirectory() as directory:  # make plot redraws it from the run's file
            write_run(directory, load_fixture())
            files.atomic_write(os.path.join(directory, step_times.FILE), files.json_text(merged))
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(plot_results.main(["--results-dir", directory]), 0)
            with open(os.path.join(directory, step_times.PLOT), "rb") as f:
                self.assertEqual(f.read(), first)


class HooksTest(unittest.TestCase):
    def test_speed_factors_run_after_the_rounds(self):
        args = argparse.Namespace(python=sys.executable, bench="/b/microgpt-bench", output_dir="/r", rounds=2, steps=20,
                                  data=None)
        with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stdout(io.StringIO()):
            script = os.path.join(directory, hooks.SPEED_FACTORS)
            with open(script, "w") as f:
                f.write("import sys\nopen(sys.argv[0] + '.args', 'w').write(' '.join(sys.argv[1:]))\n")
            self.assertIsNone(hooks.run_speed_factors(args, "README.md", directory, directory))
            with open(script + ".args") as f:
                self.assertEqual(f.read(), "--bench /b/microgpt-bench --output-dir /r --rounds 2 --steps 20 "
                                           "--reference-from /r --readme README.md")
            args.factor_sizes = "reference"
            self.assertIsNone(hooks.run_speed_factors(args, None, directory, directory))
            with open(script + ".args") as f:
                self.assertTrue(f.read().endswith("--steps 20 --sizes reference --reference-from /r"))
            args.factor_sizes = ""  # none: not run
            os.unlink(script + ".args")
            self.assertIsNone(hooks.run_speed_factors(args, None, directory, directory))
            self.assertFalse(os.path.exists(script + ".args"))
            del args.factor_sizes
            with open(script, "w") as f:
                f.write("import sys\nsys.exit('no chain here')\n")
            failure = hooks.run_speed_factors(args, None, directory, directory)
        self.assertEqual(failure, "speed_factors.py failed (exit status 1): no chain here")

    def test_baselines_are_python_then_pytorch(self):
        self.assertEqual([b.label for b in bench_run.BASELINES],
                         ["Original Python", "Optimized Python", "PyTorch (per position)",
                          "PyTorch (whole sequence)"])
        for baseline in bench_run.BASELINES:  # every baseline program is in scripts/
            self.assertTrue(os.path.exists(os.path.join(bench_run.SCRIPTS_DIR, baseline.script)), baseline.script)


class PlotTest(unittest.TestCase):
    def test_plots_are_written_and_byte_stable(self):
        run = load_fixture()
        with tempfile.TemporaryDirectory() as directory:
            write_run(directory, run)
            self.assertEqual(plot_results.main(["--results-dir", directory]), 0)
            names = ("graph_size_vs_runtime.png", "graph_size_vs_runtime.svg", "phases.png")
            first = {}
            for name in names:
                with open(os.path.join(directory, name), "rb") as f:
                    first[name] = f.read()
            self.assertTrue(first["graph_size_vs_runtime.png"].startswith(b"\x89PNG"))
            self.assertTrue(first["phases.png"].startswith(b"\x89PNG"))
            self.assertIn(b"<svg", first["graph_size_vs_runtime.svg"])
            self.assertIn(b"Original Python", first["graph_size_vs_runtime.svg"])
            self.assertEqual(bench_plots.render(run), first)

    def test_every_version_is_a_point_with_its_spread(self):
        run = load_fixture()
        rows = bench_run.rows(run)
        points, left_out = bench_plots.graph_size_points(rows, run.run["settings"])
        expected = ["Original Python", "Optimized Python"] + [v["name"] for v in run.run["variants"]]
        self.assertEqual(sorted(p[0] for p in points), sorted(expected))
        self.assertEqual(left_out, [])
        for _, _, milliseconds, (low, high) in points:
            self.assertLessEqual(low, milliseconds)
            self.assertLessEqual(milliseconds, high)

    def test_labels_of_coinciding_points_are_kept_apart(self):
        def to_display(nodes, milliseconds):  # 100 pixels per decade, 1 point per pixel
            return (100 * math.log10(nodes), 100 * math.log10(milliseconds))

        points = [("a", 1000.0, 2.0), ("b", 1005.0, 1.9), ("c", 1000.0, 1.8), ("d", 5000.0, 50.0)]
        offsets = bench_plots.label_offsets(points, to_display, 1.0)
        self.assertEqual(offsets["a"], (8, 0.0))  # the top one sits by its point
        self.assertEqual(offsets["d"], (8, 0.0))  # alone
        label_height = {label: to_display(x, y)[1] + offsets[label][1] for label, x, y in points}
        self.assertGreaterEqual(label_height["a"] - label_height["b"], 13.0 - 1e-9)
        self.assertGreaterEqual(label_height["b"] - label_height["c"], 13.0 - 1e-9)

    def test_a_version_without_a_graph_is_drawn_at_one(self):
        run = load_fixture()
        rows = bench_run.rows(run)
        for row in rows:
            if row["version"] == "tape":
                row["k_nodes_per_step"] = 0.0
        points, _ = bench_plots.graph_size_points(rows, run.run["settings"])
        self.assertIn(("tape", bench_plots.NO_GRAPH_NODES), [(p[0], p[1]) for p in points])

    def test_plots_with_a_failed_row(self):
        run = with_failed_variant(load_fixture(), "fused", "failed: killed by SIGABRT")
        points, left_out = bench_plots.graph_size_points(bench_run.rows(run), run.run["settings"])
        self.assertEqual(left_out, ["fused"])
        outputs = bench_plots.render(run)
        self.assertIn(b"not plotted (failed): fused", outputs["graph_size_vs_runtime.svg"])


class ReadmeBlockTest(unittest.TestCase):
    def test_sweep_and_results_blocks_are_separate(self):
        text = README_TEXT + "\n<!-- sweep-table:begin -->\nold sweep\n<!-- sweep-table:end -->\n"
        updated = readme.replace_block(text, "new sweep\n", readme.SWEEP_TABLE)
        self.assertIn("old table", updated)
        self.assertIn("<!-- sweep-table:begin -->\nnew sweep\n<!-- sweep-table:end -->", updated)
        with self.assertRaisesRegex(files.ResultsError, "around the sweep table"):
            readme.replace_block(README_TEXT, "", readme.SWEEP_TABLE)


def with_instructions(run, counts, commit="c0ffee"):
    """A copy of the run with instructions.json holding counts ({variant: per step}) of a clean build."""
    run = copy.deepcopy(run)
    run.run["instructions"] = {"note": "callgrind", "file": bench_run.INSTRUCTIONS_FILE}
    run.run["git"] = {"commit": commit, "dirty": False, "changes": []}
    build = {"c_compiler": "GNU 12.2.0", "build_type": "Release", "c_flags": "-O2", "sanitize": False, "libc": "2.36"}
    return run._replace(instructions={"steps": 5, "build": build, "variants": {
        name: {"instructions_per_step": value} for name, value in counts.items()}})


class CompareRunsTest(unittest.TestCase):
    """scripts/compare_runs.py on two copies of the fixture, one of them altered."""

    COUNTS = {"naive": 9.0e6, "stack": 8.0e6, "fused": 5.0e6, "both": 4.0e6, "tape": 1.0e6, "seed_stack": 8.0e6}

    def setUp(self):
        self.work = tempfile.TemporaryDirectory()
        self.a_dir, self.b_dir = (os.path.join(self.work.name, name) for name in ("a", "b"))
        os.makedirs(self.a_dir)
        os.makedirs(self.b_dir)

    def tearDown(self):
        self.work.cleanup()

    def compare(self, run_a, run_b, *extra):
        write_run(self.a_dir, run_a)
        write_run(self.b_dir, run_b)
        return self.main(self.a_dir, self.b_dir, *extra)

    def main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = compare_runs.main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def test_order_kept_and_counts_agree(self):
        run = with_instructions(load_fixture(), self.COUNTS)
        slower = run
        for variant in ("naive", "tape"):  # every round 10% slower: same order, a ratio of +10%
            slower = with_times(slower, variant, "train_full",
                                [1.1 * seconds(e) for e in entries_of(run, variant, "train_full")])
        status, out, err = self.compare(run, slower)
        self.assertEqual((status, err), (0, ""))
        self.assertIn("- Order in A (fastest first, = tied): 1 tape · =2 both, fused · =4 stack, naive.", out)
        self.assertIn("in either run kept their order", out)
        self.assertIn("| naive | +10.0% |", out)
        self.assertRegex(out, r"Largest change of the time: (naive|tape), \+10\.0%")
        self.assertIn("largest difference 0.000% (naive), allowed 0.1%: the counts agree.", out)

    def test_order_swapped_among_rows_set_apart_is_flagged(self):
        run = load_fixture()
        tape, naive = (sorted(seconds(e) for e in entries_of(run, v, "train_full")) for v in ("tape", "naive"))
        self.assertLess(tape[-1], naive[0], "the fixture's tape and naive must be set apart")
        swapped = with_times(with_times(run, "tape", "train_full", naive), "naive", "train_full", tape)
        # both and fused are tied (=2): their order swapping is not a change of the table
        both, fused = ([seconds(e) for e in entries_of(run, v, "train_full")] for v in ("both", "fused"))
        swapped = with_times(with_times(swapped, "both", "train_full", fused), "fused", "train_full", both)
        status, out, _ = self.compare(run, swapped)
        self.assertEqual(status, 0)
        self.assertIn("changed order: ", out)
        self.assertIn("tape before naive in A, after it in B", out)
        changed = out.split("changed order: ")[1].splitlines()[0]
        self.assertNotIn("both before fused", changed)
        self.assertNotIn("fused before both", changed)

    def test_instruction_mismatch_of_one_build_fails(self):
        run = with_instructions(load_fixture(), self.COUNTS)
        counts = dict(self.COUNTS, stack=self.COUNTS["stack"] * 1.002)
        status, out, err = self.compare(run, with_instructions(load_fixture(), counts))
        self.assertEqual(status, 1)
        self.assertIn("largest difference 0.200% (stack)", out)
        self.assertIn("DISAGREE for stack", out)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("stack: 8,000,000 vs 8,016,000", err)
        # within 0.1%: agree
        counts = dict(self.COUNTS, stack=self.COUNTS["stack"] * 1.0005)
        self.assertEqual(self.compare(run, with_instructions(load_fixture(), counts))[0], 0)
        # another commit may cost otherwise: said, not a failure
        status, out, _ = self.compare(run, with_instructions(load_fixture(), dict(self.COUNTS, stack=9e6), "beef"))
        self.assertEqual(status, 0)
        self.assertIn("differ for stack, expected: different commits.", out)

    def test_readme_block_and_output_file(self):
        path, output = os.path.join(self.work.name, "README.md"), os.path.join(self.work.name, "block.md")
        with open(path, "w") as f:
            f.write("Intro.\n<!-- stability:begin -->\nold\n<!-- stability:end -->\nTail.\n")
        run = load_fixture()
        status, out, _ = self.compare(run, run, "--readme", path, "--output", output)
        self.assertEqual((status, out), (0, ""))
        with open(path) as f, open(output) as g:
            text, block = f.read(), g.read()
        self.assertEqual(text, "Intro.\n<!-- stability:begin -->\n" + block + "<!-- stability:end -->\nTail.\n")
        self.assertEqual(block, run_comparison.compare(self.a_dir, self.b_dir).markdown)

    def test_bad_input_is_one_line_and_exit_2(self):
        run = load_fixture()
        write_run(self.a_dir, run)
        readme_path = os.path.join(self.work.name, "README.md")
        with open(readme_path, "w") as f:
            f.write("no markers\n")
        broken = copy.deepcopy(run)
        del broken.run["settings"]
        write_run(self.b_dir, broken)
        cases = {"missing directory": (self.a_dir, os.path.join(self.work.name, "missing")),
                 "not a results directory": (self.a_dir, self.work.name),
                 "incomplete run.json": (self.a_dir, self.b_dir),
                 "README without markers": (self.a_dir, self.a_dir, "--readme", readme_path)}
        for name, argv in cases.items():
            with self.subTest(name):
                status, out, err = self.main(*argv)
                self.assertEqual((status, out), (2, ""))
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertTrue(err.startswith("compare_runs: "), err)


# A stand-in harness: writes train_full's JSON with the step time it was
# given (SECONDS) and the phases a fixed share of it, and logs each call to
# CALLS; FAIL=1 makes it exit 2 as the harness does on bad input.
FAKE_HARNESS = """#!/bin/sh
echo "$0 $*" >> "$CALLS"
test "$FAIL" = 1 && { echo "bad input" >&2; exit 2; }
cat <<JSON
{"context": {}, "benchmarks": [{"name": "train_full/floor/iterations:1/manual_time", "real_time": $(echo "$SECONDS_MS"),
 "forward_seconds": 0.001, "backward_seconds": 0.002, "update_seconds": $(echo "$UPDATE")}]}
JSON
"""


class CompareBuildsTest(unittest.TestCase):
    def harness(self, directory, name, milliseconds, update, fail=False):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(FAKE_HARNESS.replace("$(echo \"$SECONDS_MS\")", str(milliseconds))
                    .replace("$(echo \"$UPDATE\")", str(update)).replace("$FAIL", "1" if fail else "0"))
        os.chmod(path, 0o755)
        return path

    def run_script(self, arguments, calls):
        output = io.StringIO()
        with mock.patch.dict(os.environ, {"CALLS": calls}), contextlib.redirect_stdout(output), \
                contextlib.redirect_stderr(io.StringIO()):
            status = compare_builds.main(arguments)
        return status, output.getvalue()

    def test_ratios_pair_by_pair_in_alternating_order(self):
        with tempfile.TemporaryDirectory() as directory:
            old = self.harness(directory, "old", 30.0, 0.012)
            new = self.harness(directory, "new", 10.0, 0.003)
            calls, report = os.path.join(directory, "calls"), os.path.join(directory, "report.json")
            status, output = self.run_script(["--old", old, "--new", new, "--pairs", "3", "--output", report,
                                              "--", "--n-embd", "32"], calls)
            self.assertEqual(status, 0)
            with open(calls) as f:
                order = [line.split()[0] for line in f]
            self.assertEqual(order, [old, new, new, old, old, new])
            with open(calls) as f:
                self.assertTrue(all("--n-embd 32" in line and "--variant floor" in line for line in f))
            summary = json.load(open(report))["variants"]["floor"]["summary"]
            self.assertAlmostEqual(summary["step"]["ratio"]["median"], 3.0)
            self.assertAlmostEqual(summary["update"]["ratio"]["median"], 4.0)
            self.assertAlmostEqual(summary["forward"]["ratio"]["median"], 1.0)
            self.assertIn("3.00x", output)

    def test_failed_run_is_reported_and_exits_1(self):
        with tempfile.TemporaryDirectory() as directory:
            old = self.harness(directory, "old", 30.0, 0.012)
            new = self.harness(directory, "new", 10.0, 0.003, fail=True)
            status, output = self.run_script(["--old", old, "--new", new, "--pairs", "1"],
                                             os.path.join(directory, "calls"))
            self.assertEqual(status, 1)
            self.assertIn("failed", output)

    def test_bad_input_exits_2(self):
        with tempfile.TemporaryDirectory() as directory:
            new = self.harness(directory, "new", 10.0, 0.003)
            for arguments in (["--old", os.path.join(directory, "missing"), "--new", new],
                              ["--old", new, "--new", new, "--pairs", "0"],
                              ["--old", new, "--new", new, "--variant", "floor", "--variant", "floor"]):
                with self.assertRaises(SystemExit) as raised, contextlib.redirect_stderr(io.StringIO()):
                    compare_builds.main(arguments)
                self.assertEqual(raised.exception.code, 2)


class StepTimesProcessTest(unittest.TestCase):
    """Round 1 records every step's time in a harness process of its own:
    no timed process carries --step-times (its system calls, microseconds a
    step, would weigh on the fastest rows' times)."""

    def test_timed_processes_do_not_record_steps(self):
        commands = []

        def fake_run(command, stem, timeout, output_path=None, empty=None):
            commands.append(command)
            if any(part.startswith("--step-times") for part in command):
                with open(command[command.index("--step-times") + 1], "w") as f:
                    json.dump({"steps": 3, "variants": {command[2]: {"seconds": [1e-3, 1e-3, 1e-3]}}}, f)
            return {"status": "ok", "exit_code": 0, "seconds": 0.1}, {"benchmarks": [
                {"name": f"train_full/{command[2]}", "real_time": 1.0, "time_unit": "ms", "gradient_status": 0}]}

        args = run_bench.parse_arguments(["--bench", "/bin/true", "--rounds", "2", "--steps", "3", "--k-steps", "2",
                                          "--skip-python", "--factor-sizes", ""])
        with tempfile.TemporaryDirectory() as work, mock.patch.object(run_bench.processes, "run_json_process",
                                                                      fake_run), \
                contextlib.redirect_stdout(io.StringIO()):
            _, _, failed, steps = run_bench.run_rounds(args, ["floor", "naive"], [], work)
        self.assertEqual(failed, {})
        recording = [c for c in commands if "--step-times" in c]
        timed = [c for c in commands if "--step-times" not in c]
        self.assertEqual(len(timed), 4)  # two variants, two rounds
        self.assertEqual(sorted(c[2] for c in recording), ["floor", "naive"])  # round 1 only
        self.assertTrue(all("--benchmark_filter=^train_full/" in c for c in recording))
        self.assertEqual(sorted(steps["variants"]), ["floor", "naive"])


if __name__ == "__main__":
    unittest.main()
