#!/usr/bin/env python3
"""tool.unit: the bench tool's pieces that need no build (scripts/microgpt_bench):
number formats, statistics over rounds, README blocks, the comparison of
two files and its errors, the loss verdicts, speed factors and crossovers."""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(PROJECT_DIR, "scripts", "bench")
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

from microgpt_bench import factors, report, rows, sweep, util  # noqa: E402


def tool(*arguments):
    done = subprocess.run([sys.executable, TOOL, *arguments], capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


class Formats(unittest.TestCase):
    def test_numbers_never_use_an_exponent(self):
        for value, text in ((977, "977"), (1180, "1,180"), (1.18, "1.18"), (0.0123, "0.0123"), (12232.4, "12,232")):
            self.assertEqual(util.number(value), text)
        spread = util.Spread(0.977, 0.943, 1.18, 0.05, 5)
        self.assertEqual(util.format_time(spread), "977 ms [943–1,180]")
        self.assertNotIn("e+", util.format_time(util.Spread(977.0, 943.0, 1180.0, 0.05, 5)))

    def test_times_carry_units_and_marks(self):
        self.assertEqual(util.format_seconds(2.6e-5), "26.0 µs")
        self.assertTrue(util.format_time(util.Spread(2.0, 1.0, 3.0, 0.5, 3), estimated=True).startswith("~2.00 s"))
        self.assertIn("*unstable*", util.format_time(util.Spread(2.0, 1.0, 3.0, 0.5, 3)))

    def test_a_cell_keeps_angle_brackets_visible(self):
        self.assertEqual(util.markdown_cell("Rc<RefCell<Value>> | `Rc<T>`"), "Rc&lt;RefCell&lt;Value>> / `Rc<T>`")


class Statistics(unittest.TestCase):
    def test_ratios_are_taken_within_rounds(self):
        summary = util.round_ratios({1: 2.0, 2: 4.0, 3: 9.0}, {1: 1.0, 2: 1.0})
        self.assertEqual((summary.median, summary.count), (3.0, 2))

    def test_overlapping_rows_are_tied(self):
        ranks = util.tie_groups({"a": util.Spread(1, 0.9, 1.2, None, 3), "b": util.Spread(1.1, 1.0, 1.3, None, 3),
                                 "c": util.Spread(5, 4.9, 5.1, None, 3)})
        self.assertEqual(ranks, {"a": (1, True), "b": (1, True), "c": (3, False)})


class ReadmeBlocks(unittest.TestCase):
    def test_a_block_is_replaced_and_nothing_else(self):
        text = "top\n<!-- results:begin -->\nold\n<!-- results:end -->\nbottom\n"
        self.assertEqual(report.replace_block(text, "results", "new", "R"),
                         "top\n<!-- results:begin -->\nnew\n<!-- results:end -->\nbottom\n")

    def test_missing_or_doubled_markers_are_refused(self):
        for text in ("no markers", "<!-- results:end -->\n<!-- results:begin -->", "<!-- results:begin -->" * 2):
            with self.assertRaises(util.ResultsError):
                report.replace_block(text, "results", "new", "R")


class Comparison(unittest.TestCase):
    def write(self, directory, name, document):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            json.dump(document, f)
        return path

    def test_two_benchmark_files_read_with_units(self):
        with tempfile.TemporaryDirectory() as work:
            entry = {"name": "train_full/floor", "run_type": "iteration", "time_unit": "ms"}
            a = self.write(work, "a.json", {"benchmarks": [dict(entry, real_time=6.0),
                                                           dict(entry, name="train_k/floor", real_time=0.02)]})
            b = self.write(work, "b.json", {"benchmarks": [dict(entry, real_time=10.0),
                                                           dict(entry, name="train_k/floor", real_time=0.03)]})
            code, out, err = tool("compare", a, b)
            self.assertEqual(code, 0, err)
            self.assertIn("| train_full/floor | 6.00 ms | 10.0 ms | 1.667 | +66.7% |", out)
            self.assertIn("| train_k/floor | 20.0 µs | 30.0 µs |", out)
            self.assertNotIn("\x1b", out)

    def test_a_file_that_is_not_benchmark_json_is_one_line_and_exit_2(self):
        with tempfile.TemporaryDirectory() as work:
            run_json = self.write(work, "run.json", {"rounds": []})
            code, out, err = tool("compare", run_json, run_json)
            self.assertEqual((code, out), (2, ""))
            self.assertEqual(len(err.strip().splitlines()), 1)
            self.assertIn("not a Google Benchmark JSON file", err)
            self.assertNotIn("Traceback", err)

    def test_a_malformed_benchmark_entry_is_one_line_and_exit_2(self):
        with tempfile.TemporaryDirectory() as work:
            bad = self.write(work, "bad.json", {"benchmarks": [{"real_time": 1.0, "time_unit": "fortnights"}]})
            code, out, err = tool("compare", bad, bad)
            self.assertEqual((code, out, len(err.strip().splitlines())), (2, "", 1), err)
            self.assertNotIn("Traceback", err)


class BadArguments(unittest.TestCase):
    def test_one_line_and_exit_2(self):
        for arguments in (("run", "--timeout", "0"), ("sweep", "--timeout", "-5"), ("instructions", "--program", "foo")):
            code, _, err = tool(*arguments)
            self.assertEqual(code, 2, arguments)
            self.assertNotIn("Traceback", err)


class Publishing(unittest.TestCase):
    def test_all_files_or_none(self):
        with tempfile.TemporaryDirectory() as work:
            kept, blocked = os.path.join(work, "table.md"), os.path.join(work, "phases.png")
            with open(kept, "w") as f:
                f.write("old")
            os.mkdir(blocked)  # a target that cannot be replaced
            with self.assertRaises(util.ResultsError):
                util.atomic_write_all({kept: "new", blocked: b"png"})
            with open(kept) as f:
                self.assertEqual(f.read(), "old")
            self.assertEqual(sorted(os.listdir(work)), ["phases.png", "table.md"])  # no temporary file left
            util.atomic_write_all({kept: "new"})
            with open(kept) as f:
                self.assertEqual(f.read(), "new")


class Verdicts(unittest.TestCase):
    def test_losses_against_the_reference(self):
        self.assertEqual(rows.losses_status([1.0, 2.0], [1.0, 2.0]), (rows.EXACT, "bit-exact"))
        check, text = rows.losses_status([1.0, 2.0 + 2 ** -48], [1.0, 2.0])
        self.assertEqual((check, text), (rows.TOLERANT, "within tol 3.6e-15"))
        self.assertIn("differ", rows.losses_status([1.0, 2.1], [1.0, 2.0])[1])

    def test_a_harness_entry_verdict(self):
        self.assertEqual(rows.verdict({"gradient_status": 0}), rows.EXACT)
        self.assertEqual(rows.verdict({"gradient_status": 2, "expected_wrong": 1}), rows.NEGATIVE_CONTROL)
        self.assertEqual(rows.verdict({}), rows.UNCHECKED)


class SpeedFactors(unittest.TestCase):
    def test_a_link_is_first_over_second_within_rounds(self):
        link = factors.CHAIN_LINKS[0]
        entry = factors.factor({link.first: [4.0, 6.0, None], link.second: [2.0, 2.0, 1.0]}, link)
        self.assertEqual((entry["median"], entry["min"], entry["max"], entry["ratios"]), (2.5, 2.0, 3.0, 2))
        self.assertIsNone(factors.factor({}, link)["median"])

    def test_the_chain_runs_from_naive_to_floor(self):
        self.assertEqual((factors.CHAIN[0], factors.CHAIN[-1]), ("naive", "floor"))
        for before, after in zip(factors.CHAIN_LINKS, factors.CHAIN_LINKS[1:]):
            self.assertEqual(before.second, after.first)


class Crossover(unittest.TestCase):
    def point(self, key, n_embd, ms):
        return {"key": key, "shape": (n_embd, 4, 4, 16), "ms_per_step": ms, "parameters": n_embd ** 2}

    def test_the_size_where_pytorch_becomes_faster(self):
        points = [self.point("floor", e, ms) for e, ms in ((16, 1.0), (64, 10.0), (256, 100.0))]
        points += [self.point("torch_sequence", e, ms) for e, ms in ((16, 10.0), (64, 20.0), (256, 50.0))]
        (torch_key, c_key, at, ratio, largest), = sweep.crossovers(points)
        self.assertEqual((torch_key, c_key, largest), ("torch_sequence", "floor", 256 ** 2))
        self.assertTrue(64 ** 2 < at < 256 ** 2)
        self.assertAlmostEqual(ratio, 2.0)
        interpolated = math.exp(math.log(64 ** 2) + math.log(16) * math.log(2) / math.log(4))  # on log-log axes
        self.assertEqual(at, float(f"{interpolated:.2g}"))  # said to two significant digits

    def test_never_overtaken(self):
        points = [self.point("floor", e, 1.0) for e in (16, 64)] + [self.point("torch_sequence", e, 5.0) for e in (16, 64)]
        self.assertIsNone(sweep.crossovers(points)[0][2])
        self.assertIn("never overtakes `floor`", sweep.crossover_lines(points)[0])


if __name__ == "__main__":
    unittest.main(verbosity=1)
