#!/usr/bin/env python3
"""Tests of scripts/speed_factors.py and of the chain's claims.

- the chain names variants that exist (variants/<name>.c), one link fewer
  than variants;
- per-round ratios: A / B of the same round, a failed round left out,
  median and range; the table, the JSON, the plot and the README block;
- with --build-dir: the links that claim to keep the accumulation order do:
  arena_sweep and tape (the "layout" link) give identical losses, bit for
  bit, over a run.
Usage: test_speed_factors.py [--build-dir BUILD]
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

import speed_factors  # noqa: E402

README = """# Project

Intro.

<!-- speed-factors:begin -->
old
<!-- speed-factors:end -->

Tail.
"""


def synthetic_times(rounds=3):
    """Each variant twice as fast as the one before, times scaled per round
    (a round's load moves every variant alike: the ratios stay 2)."""
    return {variant: [0.1 * (1 + r) / 2**i for r in range(rounds)] for i, variant in enumerate(speed_factors.CHAIN)}


class Chain(unittest.TestCase):
    def test_variants_exist(self):
        for variant in speed_factors.CHAIN:
            self.assertTrue(os.path.exists(os.path.join(PROJECT_DIR, "variants", f"{variant}.c")), variant)
        self.assertEqual(len(speed_factors.LINKS), len(speed_factors.CHAIN) - 1)

    def test_same_round_ratios(self):
        factors = speed_factors.link_factors(synthetic_times())
        self.assertEqual([f["from"] for f in factors], list(speed_factors.CHAIN[:-1]))
        for factor in factors:
            self.assertEqual(len(factor["ratios"]), 3)
            for ratio in factor["ratios"]:
                self.assertAlmostEqual(ratio, 2.0)
        whole = speed_factors.whole_chain(synthetic_times())
        self.assertAlmostEqual(whole["median"], 2.0 ** (len(speed_factors.CHAIN) - 1))

    def test_failed_round_and_missing_variant(self):
        times = synthetic_times()
        times["arena"][1] = None
        times["tape"][0] *= 3  # one slow round: the range shows it, the median does not move
        del times["replay"]
        factors = {f["link"]: f for f in speed_factors.link_factors(times)}
        self.assertEqual(len(factors["allocation"]["ratios"]), 2)
        self.assertAlmostEqual(factors["layout"]["min"], 2 / 3)
        self.assertAlmostEqual(factors["layout"]["median"], 2.0)
        self.assertIsNone(factors["construction"]["median"])
        table = speed_factors.render_table({"reference": times})
        self.assertIn("not measured", table)
        self.assertIn("2.00× [0.67–2.00]", table)

    def test_outputs_and_readme(self):
        with tempfile.TemporaryDirectory() as directory:
            readme = os.path.join(directory, "README.md")
            with open(readme, "w") as f:
                f.write(README)
            times = {"reference": synthetic_times(), "large": synthetic_times(2)}
            table = speed_factors.write_factors(times, directory, readme, {"rounds": 3})
            for name in (speed_factors.PLOT_FILE, speed_factors.JSON_FILE, speed_factors.TABLE_FILE):
                self.assertGreater(os.path.getsize(os.path.join(directory, name)), 0, name)
            with open(readme) as f:
                text = f.read()
            self.assertIn(table, text)
            self.assertTrue(text.startswith("# Project\n\nIntro.\n") and text.endswith("Tail.\n"))
            self.assertNotIn("old", text)
            with open(os.path.join(directory, speed_factors.JSON_FILE)) as f:
                saved = json.load(f)
            self.assertEqual(saved["seconds_per_step"], times)
            # Re-rendering the saved run gives the same table and a byte-identical plot.
            again = os.path.join(directory, "again")
            with open(os.devnull, "w") as null:
                stdout, sys.stdout = sys.stdout, null
                try:
                    status = speed_factors.main(["--from-json", os.path.join(directory, speed_factors.JSON_FILE),
                                                 "--output-dir", again])
                finally:
                    sys.stdout = stdout
            self.assertEqual(status, 0)
            for name in (speed_factors.PLOT_FILE, speed_factors.TABLE_FILE):
                with open(os.path.join(directory, name), "rb") as a, open(os.path.join(again, name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)

    def test_torch_rows(self):
        times = synthetic_times()
        times["torch_sequence"] = [0.1 * (1 + r) / 2**3 for r in range(3)]  # as fast as arena_sweep
        times["torch_position"] = [None, None, None]  # torch missing: not measured
        table = speed_factors.render_table({"reference": times})
        rows = {line.split(" | ")[0]: line for line in table.splitlines() if line.startswith("| ")}
        self.assertIn("1.00×", rows["| `arena_sweep`"])
        self.assertIn("16.00×", rows["| `floor`"])
        self.assertIn("not measured", rows["| PyTorch eager, per position"])
        self.assertEqual([f["link"] for f in speed_factors.link_factors(times)],
                         [link for link, _, _ in speed_factors.LINKS], "PyTorch rows are not links")

    def test_readme_without_markers(self):
        """Left as it is, with one line on stderr; the outputs are written."""
        with tempfile.TemporaryDirectory() as directory:
            readme = os.path.join(directory, "README.md")
            with open(readme, "w") as f:
                f.write("# no block\n")
            stderr, sys.stderr = sys.stderr, io.StringIO()
            try:
                speed_factors.write_factors({"reference": synthetic_times()}, directory, readme)
                message = sys.stderr.getvalue()
            finally:
                sys.stderr = stderr
            self.assertIn("speed-factors", message)
            with open(readme) as f:
                self.assertEqual(f.read(), "# no block\n")
            self.assertTrue(os.path.exists(os.path.join(directory, speed_factors.TABLE_FILE)))

    def test_harness_json(self):
        benchmark = {"benchmarks": [
            {"name": "sweep/naive/e16_h4_l1_b16", "run_name": "sweep/naive/e16_h4_l1_b16", "run_type": "iteration",
             "real_time": 2000.0, "time_unit": "ms"},
            {"name": "sweep/floor/e16_h4_l1_b16", "run_name": "sweep/floor/e16_h4_l1_b16", "run_type": "iteration",
             "real_time": 30.0, "time_unit": "ms"}]}
        measured = speed_factors.seconds_per_step(benchmark, 1000)
        self.assertEqual(sorted(measured), ["floor", "naive"])
        self.assertAlmostEqual(measured["naive"], 0.002)
        self.assertAlmostEqual(measured["floor"], 0.00003)
        command = speed_factors.harness_command("bench", "large", 10, ["naive", "floor"], "out.json")
        self.assertIn("--sweep", command)
        self.assertEqual(command[command.index("--n-embd") + 1], "128")
        self.assertEqual(command[command.index("--n-layer") + 1], "4")
        self.assertEqual([command[i + 1] for i, word in enumerate(command) if word == "--variant"], ["naive", "floor"])


    def test_reference_times_from_a_bench_run(self):
        """--reference-from: the table's own rounds, per step, a round
        without a row's run as None; a run without the chain's variants is
        refused."""
        fixture = os.path.join(TESTS_DIR, "fixtures", "bench_small")
        with self.assertRaisesRegex(speed_factors.FactorsError, "no timings of arena"):
            speed_factors.times_from_results(fixture)
        chain = speed_factors.CHAIN
        try:
            speed_factors.CHAIN = ("naive", "fused", "tape")
            times = speed_factors.times_from_results(fixture)
        finally:
            speed_factors.CHAIN = chain
        with open(os.path.join(fixture, "run.json")) as f:
            steps = json.load(f)["settings"]["steps"]
        with open(os.path.join(fixture, "benchmark-round-02.json")) as f:
            entry = next(e for e in json.load(f)["benchmarks"] if e["name"].startswith("train_full/fused"))
        self.assertEqual(len(times["fused"]), 3)
        self.assertAlmostEqual(times["fused"][1], entry["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3,
                                                                       "s": 1.0}[entry["time_unit"]] / steps)
        self.assertNotIn("both", times)


class SameOrderLinks(unittest.TestCase):
    """The chain's claims about accumulation order, checked on the programs."""

    build_dir = None  # set by main() from --build-dir

    def losses(self, variant, directory):
        path = os.path.join(directory, f"{variant}.losses")
        program = os.path.join(self.build_dir, f"microgpt-{variant}")
        subprocess.run([program, "--steps", "200", "--samples", "0", "--quiet", "--losses", path], check=True,
                       stdout=subprocess.DEVNULL)
        with open(path) as f:
            return f.read()

    def test_layout_keeps_the_sweep_order(self):
        if self.build_dir is None:
            self.skipTest("no --build-dir")
        with tempfile.TemporaryDirectory() as directory:
            sweep, tape = self.losses("arena_sweep", directory), self.losses("tape", directory)
            self.assertEqual(sweep, tape, "arena_sweep and tape sum in the same order: identical losses")
            self.assertNotEqual(sweep, self.losses("naive", directory), "the sweep's order is not the reference's")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", help="where the microgpt-<variant> programs are")
    args, rest = parser.parse_known_args()
    SameOrderLinks.build_dir = args.build_dir
    result = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
