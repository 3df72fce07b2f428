#!/usr/bin/env python3
"""step_time.smoke: time across the run, from the harness to the plot.

1. microgpt-bench --step-times FILE on two variants: one entry per step
   (wall and CPU time, nodes, page faults, context switches), heap snapshots,
   and the per-run memory counters (peak_rss_bytes, page_faults_minor,
   page_faults_major) in Google Benchmark's JSON.
2. scripts/plot_step_time.py: a PNG, byte-identical when drawn twice; an
   unreadable input is one line on stderr and exit 2; rolling_median.

usage: test_step_time.py --bench build/microgpt-bench
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

import registry  # noqa: E402  (tests/registry.py)

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOT = os.path.join(PROJECT_DIR, "scripts", "plot_step_time.py")
STEPS = 120
VARIANTS = ("naive", "floor")


class StepTimeTest(unittest.TestCase):
    bench = None

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory(prefix="step-time-")
        self.work = self.directory.name

    def tearDown(self):
        self.directory.cleanup()

    def run_bench(self):
        step_times = os.path.join(self.work, "step_times.json")
        benchmark = os.path.join(self.work, "benchmark.json")
        command = [self.bench, "--steps", str(STEPS), "--k-steps", "2", "--step-times", step_times,
                   "--benchmark_filter=train_", f"--benchmark_out={benchmark}", "--benchmark_out_format=json"]
        for variant in VARIANTS:
            command += ["--variant", variant]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(step_times, encoding="utf-8") as text:
            steps = json.load(text)
        with open(benchmark, encoding="utf-8") as text:
            results = json.load(text)
        return step_times, steps, results

    def test_harness_records_steps_and_memory(self):
        _, steps, results = self.run_bench()
        self.assertEqual(steps["steps"], STEPS)
        self.assertEqual(sorted(steps["variants"]), sorted(VARIANTS))
        for variant, run in steps["variants"].items():
            for key in ("seconds", "cpu_seconds", "nodes", "minor_faults", "involuntary_switches"):
                self.assertEqual(len(run[key]), STEPS, f"{variant}: {key}")
            self.assertTrue(all(seconds > 0 for seconds in run["seconds"]), variant)
            self.assertEqual([snapshot["step"] for snapshot in run["heap"]], [100, STEPS], variant)
            if not registry.is_sanitizer_build(os.path.dirname(self.bench)):  # ASan's allocator: no mallinfo2
                self.assertGreater(run["heap"][-1]["arena_bytes"], 0, variant)
        self.assertGreater(min(steps["variants"]["naive"]["nodes"]), 0)
        self.assertEqual(max(steps["variants"]["floor"]["nodes"]), 0)
        names = set()
        for row in results["benchmarks"]:
            names.add(row["name"].split("/")[0])
            self.assertGreater(row["peak_rss_bytes"], 1e6, row["name"])
            self.assertGreaterEqual(row["page_faults_minor"], 0, row["name"])
            self.assertGreaterEqual(row["page_faults_major"], 0, row["name"])
        self.assertEqual(names, {"train_full", "train_k"})

    def test_plot_is_byte_stable(self):
        step_times, _, _ = self.run_bench()
        outputs = [os.path.join(self.work, f"step_time_{i}.png") for i in range(2)]
        for output in outputs:
            subprocess.run([sys.executable, PLOT, step_times, step_times, "--output", output], check=True,
                           stdout=subprocess.DEVNULL)
        with open(outputs[0], "rb") as first, open(outputs[1], "rb") as second:
            content = first.read()
            self.assertTrue(content.startswith(b"\x89PNG"))
            self.assertEqual(content, second.read())

    def test_plot_refuses_bad_input(self):
        bad = os.path.join(self.work, "bad.json")
        with open(bad, "w", encoding="utf-8") as text:
            text.write("{\"variants\": 3}")
        completed = subprocess.run([sys.executable, PLOT, bad, "--output", os.path.join(self.work, "x.png")],
                                   capture_output=True, text=True, check=False)
        self.assertEqual(completed.returncode, 2)
        self.assertEqual(len(completed.stderr.strip().splitlines()), 1, completed.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.work, "x.png")))

    def test_rolling_median(self):
        sys.path.insert(0, os.path.dirname(PLOT))
        import plot_step_time  # pylint: disable=import-outside-toplevel
        self.assertEqual(plot_step_time.rolling_median([5, 1, 3, 100, 2], 3), [5, 3, 3, 3, 3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", required=True)
    args, rest = parser.parse_known_args()
    StepTimeTest.bench = os.path.abspath(args.bench)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
