#!/usr/bin/env python3
"""Tests of the benchmark scripts on a recorded run (tests/fixtures/bench_small).

The table, the README block, the plots and atomic writing, on the fixture and
on copies of it edited to hold a crashed variant, a variant with wrong
gradients and a failed Python baseline. Needs a python3 that can import
matplotlib (ctest runs it with the one CMake found). The harness itself is
exercised by tests/test_bench_smoke.py.
"""
import contextlib
import copy
import io
import os
import sys
import tempfile
import unittest
from unittest import mock

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
FIXTURE_DIR = os.path.join(TESTS_DIR, "fixtures", "bench_small")
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

import bench_results  # noqa: E402
import make_table  # noqa: E402
import plot_results  # noqa: E402
import run_bench  # noqa: E402

README_TEXT = """# Project

Intro that must survive.

<!-- results-table:begin -->
old table
<!-- results-table:end -->

Tail that must survive.
"""


def load_fixture():
    return bench_results.load_run(FIXTURE_DIR)


def with_failed_variant(benchmark_json, run_json, variant, status):
    """A copy of the run in which `variant` crashed: no benchmarks, a status."""
    benchmark_json, run_json = copy.deepcopy(benchmark_json), copy.deepcopy(run_json)
    benchmark_json["benchmarks"] = [b for b in benchmark_json["benchmarks"]
                                    if b["run_name"].split("/")[1] != variant]
    for outcome in run_json["variants"]:
        if outcome["name"] == variant:
            outcome["status"], outcome["exit_code"] = status, -11
    return benchmark_json, run_json


def with_label(benchmark_json, variant, label):
    benchmark_json = copy.deepcopy(benchmark_json)
    for entry in benchmark_json["benchmarks"]:
        if entry["run_name"].split("/")[1] == variant:
            entry["label"] = label
    return benchmark_json


def table_row(markdown, version):
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {version} |")]
    assert len(rows) == 1, f"expected one row for {version} in:\n{markdown}"
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def write_run(directory, benchmark_json, run_json):
    bench_results.atomic_write(os.path.join(directory, bench_results.BENCHMARK_FILE),
                               bench_results.json_text(benchmark_json))
    bench_results.atomic_write(os.path.join(directory, bench_results.RUN_FILE), bench_results.json_text(run_json))


class TableTest(unittest.TestCase):
    def setUp(self):
        self.benchmark_json, self.run_json = load_fixture()

    def test_fixture_is_a_real_run_with_medians(self):
        medians = [b for b in self.benchmark_json["benchmarks"] if b.get("aggregate_name") == "median"]
        self.assertEqual(len(medians), 5 * len(self.run_json["variants"]))
        self.assertEqual(self.benchmark_json["context"]["library_build_type"], "debug")

    def test_table_has_every_version_and_column(self):
        markdown = make_table.render(self.benchmark_json, self.run_json)
        header = markdown.splitlines()[0]
        for column in ("Version", "Time (20 steps)", "Time (first 5 steps)", "Speedup vs Python",
                       "Speedup vs naive C", "Loss (final, mean)", "Graph size (nodes/step, mean)", "Status"):
            self.assertIn(f"| {column} |", header + " |")
        for version in ("Original Python", "Optimized Python", "naive", "stack", "fused", "both"):
            table_row(markdown, version)
        body = [line for line in markdown.splitlines() if line.startswith("| ")][1:]
        self.assertEqual(body[0].split("|")[1].strip(), "Original Python")
        self.assertEqual(body[2].split("|")[1].strip(), "naive")

    def test_numbers_come_from_the_json(self):
        markdown = make_table.render(self.benchmark_json, self.run_json)
        entries = bench_results.benchmark_entries(self.benchmark_json)
        full = entries[("train_full", "fused")]
        row = table_row(markdown, "fused")
        self.assertEqual(row[-1], "bit-exact")
        self.assertEqual(row[5], f"{full['final_loss']:.4f}, {full['mean_loss']:.4f}")
        self.assertEqual(row[6], f"{full['nodes_per_step']:,.2f}")
        naive_seconds = bench_results.entry_seconds(entries[("train_full", "naive")])
        self.assertEqual(row[4], make_table.format_ratio(naive_seconds, bench_results.entry_seconds(full)))
        self.assertEqual(table_row(markdown, "naive")[4], "1.00×")
        self.assertEqual(table_row(markdown, "Original Python")[3], "1.00×")
        python = self.run_json["python"]["naive"]
        python_row = table_row(markdown, "Original Python")
        self.assertIn("(est.)", python_row[1])  # 5 of 20 steps measured
        self.assertIn("(5 steps)", python_row[5])
        self.assertEqual(python_row[-1], "reference")
        self.assertEqual(table_row(markdown, "Optimized Python")[-1], "bit-exact")
        speedup = make_table.format_ratio(python["train_seconds"],
                                          bench_results.entry_seconds(entries[("train_k", "naive")]))
        self.assertEqual(table_row(markdown, "naive")[3], speedup)

    def test_recorded_verdicts_of_the_gradient_check(self):
        # The fixture holds a negative control (seed_stack) and a variant within
        # tolerance (tape): their labels come from the harness's check.
        markdown = make_table.render(self.benchmark_json, self.run_json)
        self.assertEqual(table_row(markdown, "seed_stack")[-1], "wrong gradients (negative control)")
        self.assertRegex(table_row(markdown, "tape")[-1], r"^within tol [0-9.]+e-[0-9]+$")
        statuses = [r["status"] for r in bench_results.rows(self.benchmark_json, self.run_json)]
        self.assertFalse(any(bench_results.is_failure(s) for s in statuses))

    def test_notes_say_what_was_measured(self):
        markdown = make_table.render(self.benchmark_json, self.run_json)
        self.assertIn("median of 2 repetitions", markdown)
        self.assertIn("on the first 5 steps only", markdown)
        self.assertIn("agree: yes, bit for bit", markdown)
        self.assertIn("Library was built as DEBUG", markdown)

    def test_crashed_variant_gets_a_failed_row(self):
        benchmark_json, run_json = with_failed_variant(self.benchmark_json, self.run_json, "stack",
                                                       "failed: killed by SIGSEGV")
        markdown = make_table.render(benchmark_json, run_json)
        row = table_row(markdown, "stack")
        self.assertEqual(row[-1], "failed: killed by SIGSEGV")
        self.assertEqual(row[1:7], [make_table.MISSING] * 6)
        self.assertEqual(table_row(markdown, "fused")[-1], "bit-exact")
        statuses = [r["status"] for r in bench_results.rows(benchmark_json, run_json)]
        self.assertEqual(sum(bench_results.is_failure(s) for s in statuses), 1)

    def test_failed_reference_variant_leaves_no_naive_speedups(self):
        benchmark_json, run_json = with_failed_variant(self.benchmark_json, self.run_json, "naive",
                                                       "failed: exit status 2")
        markdown = make_table.render(benchmark_json, run_json)
        self.assertEqual(table_row(markdown, "fused")[4], make_table.MISSING)
        self.assertNotIn("agree:", markdown)

    def test_wrong_gradients_are_timed_and_flagged(self):
        benchmark_json = with_label(self.benchmark_json, "both", "wrong gradients")
        markdown = make_table.render(benchmark_json, self.run_json)
        row = table_row(markdown, "both")
        self.assertEqual(row[-1], "wrong gradients")
        self.assertNotEqual(row[1], make_table.MISSING)
        self.assertRegex(markdown, r"Wrong gradients \(both(, [a-z_]+)*\): such a variant trains a different model")
        self.assertTrue(bench_results.is_failure("wrong gradients"))
        self.assertFalse(bench_results.is_failure("within tol 2.2e-16"))

    def test_wrong_gradients_have_no_speedups(self):
        # A variant that trains a different model: its time is shown, its speed is not a result.
        markdown = make_table.render(self.benchmark_json, self.run_json)
        row = table_row(markdown, "seed_stack")
        self.assertEqual(row[3:5], ["not a result", "not a result"])
        self.assertNotEqual(table_row(markdown, "tape")[3], "not a result")

    def test_targets_are_ratios_from_the_run(self):
        rows = bench_results.rows(self.benchmark_json, self.run_json)
        by_version = {row["version"]: row for row in rows}
        floor = copy.deepcopy(by_version["tape"])
        floor.update(version="floor", status="bit-exact", nodes_per_step=0.0)
        floor["full_seconds"] /= 4
        floor["k_seconds"] = by_version["Original Python"]["k_seconds"] / 6000
        line = make_table.target_lines(rows + [floor], self.run_json["settings"])[0]
        self.assertIn("floor is 6,000× faster per step than Original Python (target 5,000×: met)", line)
        self.assertRegex(line, r"naive is [\d,]+× faster per step than Original Python \(target 200×: ")
        # tape is not bit-exact in the fixture; the fastest bit-exact graph variant is compared with floor
        graphs = [r for r in rows if r["kind"] == "c" and r["status"] == "bit-exact"]
        best = min(graphs, key=lambda r: r["full_seconds"])
        ratio = best["full_seconds"] / floor["full_seconds"]
        self.assertIn(f"{best['version']}, takes {ratio:.2f}× floor's time (target at most 1.5×: missed by "
                      f"{ratio / 1.5:.2f}×)", line)

    def test_rows_go_from_the_reference_to_the_fastest(self):
        rows = [r for r in bench_results.rows(self.benchmark_json, self.run_json) if r["kind"] == "c"]
        self.assertEqual(rows[0]["version"], "naive")
        sound = [r for r in rows[1:] if not r["status"].startswith("wrong")]
        self.assertEqual([r["full_seconds"] for r in sound], sorted((r["full_seconds"] for r in sound), reverse=True))
        self.assertTrue(rows[-1]["status"].startswith("wrong gradients"))

    def test_negative_control_is_flagged_but_not_a_failure(self):
        benchmark_json = with_label(self.benchmark_json, "stack", "wrong gradients (negative control)")
        markdown = make_table.render(benchmark_json, self.run_json)
        self.assertEqual(table_row(markdown, "stack")[-1], "wrong gradients (negative control)")
        self.assertIn("negative control", markdown)
        statuses = [r["status"] for r in bench_results.rows(benchmark_json, self.run_json)]
        self.assertFalse(any(bench_results.is_failure(s) for s in statuses))
        outputs = plot_results.render(benchmark_json, self.run_json)
        self.assertIn(b"wrong gradients", outputs["graph_size_vs_runtime.svg"])

    def test_failed_python_baseline(self):
        run_json = copy.deepcopy(self.run_json)
        run_json["python"]["naive"] = {"status": "failed: exit status 1: boom", "label": "Original Python"}
        markdown = make_table.render(self.benchmark_json, run_json)
        self.assertEqual(table_row(markdown, "Original Python")[-1], "failed: exit status 1: boom")
        self.assertEqual(table_row(markdown, "naive")[3], make_table.MISSING)
        self.assertEqual(table_row(markdown, "Optimized Python")[-1], "not compared")

    def test_optimized_python_with_other_losses_is_flagged(self):
        run_json = copy.deepcopy(self.run_json)
        run_json["python"]["both"]["losses"][-1] += 1e-12
        markdown = make_table.render(self.benchmark_json, run_json)
        self.assertEqual(table_row(markdown, "Optimized Python")[-1], "losses differ from the reference")

    def test_full_python_run_is_not_estimated(self):
        run_json = copy.deepcopy(self.run_json)
        run_json["settings"]["python_steps"] = 20
        for report in run_json["python"].values():
            report["steps"] = 20
        markdown = make_table.render(self.benchmark_json, run_json)
        row = table_row(markdown, "Original Python")
        self.assertNotIn("est.", row[1])
        self.assertEqual(row[2], make_table.MISSING)
        self.assertIn("for all 20 steps", markdown)

    def test_main_writes_table(self):
        with tempfile.TemporaryDirectory() as directory:
            write_run(directory, self.benchmark_json, self.run_json)
            self.assertEqual(make_table.main(["--results-dir", directory]), 0)
            with open(os.path.join(directory, "table.md"), encoding="utf-8") as f:
                text = f.read()
            self.assertTrue(text.startswith("# microgpt benchmark results"))
            self.assertIn(make_table.render(self.benchmark_json, self.run_json), text)

    def test_main_without_results_fails_clearly(self):
        with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(make_table.main(["--results-dir", directory]), 2)
        self.assertIn("run `make bench` first", err.getvalue())


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.readme = os.path.join(self.directory.name, "README.md")
        self.results = os.path.join(self.directory.name, "results")
        os.mkdir(self.results)
        write_run(self.results, *load_fixture())

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
        block = make_table.render(*load_fixture())
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


class AtomicWriteTest(unittest.TestCase):
    def test_replaces_whole_file_and_keeps_mode(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.txt")
            bench_results.atomic_write(path, "old\n")
            os.chmod(path, 0o600)
            bench_results.atomic_write(path, "new\n")
            with open(path) as f:
                self.assertEqual(f.read(), "new\n")
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            self.assertEqual(os.listdir(directory), ["out.txt"])

    def test_interrupted_write_leaves_old_file(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.txt")
            bench_results.atomic_write(path, "old\n")
            with mock.patch("os.replace", side_effect=KeyboardInterrupt):
                with self.assertRaises(KeyboardInterrupt):
                    bench_results.atomic_write(path, "new\n" * 1000)
            with open(path) as f:
                self.assertEqual(f.read(), "old\n")
            self.assertEqual(os.listdir(directory), ["out.txt"])

    def test_failed_publish_leaves_previous_results(self):
        with tempfile.TemporaryDirectory() as directory:
            bench_results.atomic_write(os.path.join(directory, "table.md"), "previous\n")
            outputs = {"benchmark.json": "{}\n", "table.md": "new\n", "plot.png": None}  # None cannot be written
            with self.assertRaises(TypeError):
                run_bench.publish(outputs, directory)
            self.assertEqual(sorted(os.listdir(directory)), ["table.md"])
            with open(os.path.join(directory, "table.md")) as f:
                self.assertEqual(f.read(), "previous\n")


class PlotTest(unittest.TestCase):
    def test_plots_are_written_and_byte_stable(self):
        benchmark_json, run_json = load_fixture()
        with tempfile.TemporaryDirectory() as directory:
            write_run(directory, benchmark_json, run_json)
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
            self.assertEqual(plot_results.render(benchmark_json, run_json), first)

    def test_every_version_is_a_point(self):
        benchmark_json, run_json = load_fixture()
        rows = bench_results.rows(benchmark_json, run_json)
        points, left_out = plot_results.graph_size_points(rows, run_json["settings"])
        expected = ["Original Python", "Optimized Python"] + [v["name"] for v in run_json["variants"]]
        self.assertEqual(sorted(p[0] for p in points), sorted(expected))
        self.assertEqual(left_out, [])

    def test_labels_of_coinciding_points_are_kept_apart(self):
        import math

        def to_display(nodes, milliseconds):  # 100 pixels per decade, 1 point per pixel
            return (100 * math.log10(nodes), 100 * math.log10(milliseconds))

        points = [("a", 1000.0, 2.0), ("b", 1005.0, 1.9), ("c", 1000.0, 1.8), ("d", 5000.0, 50.0)]
        offsets = plot_results.label_offsets(points, to_display, 1.0)
        self.assertEqual(offsets["a"], (8, 0.0))  # the top one sits by its point
        self.assertEqual(offsets["d"], (8, 0.0))  # alone
        label_height = {label: to_display(x, y)[1] + offsets[label][1] for label, x, y in points}
        self.assertGreaterEqual(label_height["a"] - label_height["b"], 13.0 - 1e-9)
        self.assertGreaterEqual(label_height["b"] - label_height["c"], 13.0 - 1e-9)

    def test_a_version_without_a_graph_is_drawn_at_one(self):
        benchmark_json, run_json = load_fixture()
        rows = bench_results.rows(benchmark_json, run_json)
        for row in rows:
            if row["version"] == "tape":
                row["k_nodes_per_step"] = 0.0
        points, _ = plot_results.graph_size_points(rows, run_json["settings"])
        self.assertIn(("tape", plot_results.NO_GRAPH_NODES), [(p[0], p[1]) for p in points])

    def test_plots_with_a_failed_row(self):
        benchmark_json, run_json = with_failed_variant(*load_fixture(), "fused", "failed: killed by SIGABRT")
        rows = bench_results.rows(benchmark_json, run_json)
        points, left_out = plot_results.graph_size_points(rows, run_json["settings"])
        self.assertEqual(left_out, ["fused"])
        outputs = plot_results.render(benchmark_json, run_json)
        self.assertIn(b"not plotted (failed): fused", outputs["graph_size_vs_runtime.svg"])


if __name__ == "__main__":
    unittest.main()
