#!/usr/bin/env python3
"""bench.smoke: the real `make bench` driver with a few steps, into a
temporary directory (never results/).

1. A whole run (every variant in two rounds, the Python baselines in the
   first): every output written, one Google Benchmark JSON per round with
   every variant once, the order rotated, round 1's per-step times of every
   variant (step_times.json) and their plot (step_time.png), the README
   block replaced when asked (--readme). With valgrind, a short run with
   instruction counts fills the table's instruction column (skipped
   without valgrind).
2. One variant crashing (a wrapper around the real harness kills itself
   with SIGSEGV for it): its row says so, it leaves the later rounds, the
   others are written, exit 1; a README offered with --readme-if-default is
   left as it was, since the settings are not the defaults.
3. Ctrl-C during a run: exit 130 and the previous results untouched.
4. A README without markers, or an output directory that cannot be
   written: exit 2 with one line, before any measurement.

usage: test_bench_smoke.py --bench build/microgpt-bench
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import shutil
import tempfile
import time
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
RUN_BENCH = os.path.join(PROJECT_DIR, "scripts", "run_bench.py")
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

from microgpt_bench import bench_run  # noqa: E402  (which baselines a run has)
import registry  # noqa: E402  (tests/registry.py: the build's facts)

SMALL = ["--steps", "4", "--k-steps", "2", "--rounds", "2", "--baseline-rounds", "1", "--phase-iterations", "3",
         "--instruction-steps", "0", "--factor-sizes", ""]  # speed factors: tests/test_speed_factors.py
OUTPUTS = ("benchmark-round-01.json", "benchmark-round-02.json", "run.json", "table.md", "graph_size_vs_runtime.png",
           "graph_size_vs_runtime.svg", "phases.png", "step_times.json", "step_time.png")
README = "# T\n\nkept\n\n<!-- results-table:begin -->\nnothing yet\n<!-- results-table:end -->\n\nkept too\n"

# Runs the real harness, except for a process of the variant named in
# $CRASH_VARIANT (killed by SIGSEGV) or in $HANG_VARIANT (sleeps).
WRAPPER = """#!{python}
import os, signal, sys, time
arguments = sys.argv[1:]
variants = [arguments[i + 1] for i, flag in enumerate(arguments[:-1]) if flag == "--variant"]
if os.environ.get("CRASH_VARIANT") in variants:
    print("about to crash", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
if os.environ.get("HANG_VARIANT") in variants:
    time.sleep(60)
os.execv({bench!r}, [{bench!r}] + arguments)
"""


class BenchSmokeTest(unittest.TestCase):
    bench = None

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory(prefix="bench-smoke-")
        self.output = os.path.join(self.directory.name, "results")
        self.readme = os.path.join(self.directory.name, "README.md")
        with open(self.readme, "w") as f:
            f.write(README)

    def tearDown(self):
        self.directory.cleanup()

    def wrapper(self):
        path = os.path.join(self.directory.name, "bench-wrapper")
        with open(path, "w") as f:
            f.write(WRAPPER.format(python=sys.executable, bench=os.path.abspath(self.bench)))
        os.chmod(path, 0o755)
        return path

    def run_bench(self, *arguments, bench=None, environment=None):
        command = [sys.executable, RUN_BENCH, "--bench", bench or self.bench, "--output-dir", self.output,
                   *SMALL, *arguments]
        # ctest's TIMEOUT bounds the test (120 s; 600 s for a sanitizer build,
        # whose run takes minutes on a loaded machine): this one only stops a
        # hung run within it.
        return subprocess.run(command, capture_output=True, text=True, timeout=540,
                              env=dict(os.environ, **(environment or {})))

    def load(self, name):
        with open(os.path.join(self.output, name)) as f:
            return json.load(f) if name.endswith(".json") else f.read()

    def variants(self):
        return subprocess.run([self.bench, "--list-variants"], capture_output=True, text=True,
                              check=True).stdout.split()

    def test_whole_run(self):
        result = self.run_bench("--readme", self.readme)
        rounds = [self.load(name) for name in OUTPUTS[:2]]
        # A variant with wrong gradients is timed, flagged, and makes the run exit 1,
        # unless it is a declared negative control.
        wrong = {entry["run_name"].split("/")[1] for benchmark_json in rounds
                 for entry in benchmark_json["benchmarks"] if entry["label"] == "wrong gradients"}
        self.assertEqual(result.returncode, 1 if wrong else 0, result.stdout + result.stderr)
        for name in OUTPUTS:
            self.assertGreater(os.path.getsize(os.path.join(self.output, name)), 0, name)
        self.assertEqual(sorted(os.listdir(self.output)), sorted(OUTPUTS))  # no staging left behind
        variants = self.variants()
        for number in (1, 2):
            for index, variant in enumerate(variants, 1):
                self.assertRegex(result.stdout, rf"\[round {number}/2, \d+/{len(variants)}\] {variant}: ")
        for benchmark_json in rounds:  # every variant once per round
            names = sorted(entry["run_name"].split("/")[0] + "/" + entry["run_name"].split("/")[1]
                           for entry in benchmark_json["benchmarks"])
            self.assertEqual(names, sorted(f"{kind}/{variant}" for variant in variants
                                           for kind in ("train_full", "train_k", "forward", "backward", "update")))
        for entry in [entry for benchmark_json in rounds for entry in benchmark_json["benchmarks"]]:
            label = entry["label"]
            self.assertTrue(label in ("bit-exact", "wrong gradients", "wrong gradients (negative control)")
                            or label.startswith("within tol"), label)
            self.assertEqual(label.startswith("wrong gradients"), entry["gradient_status"] == 2)
            self.assertEqual(label.endswith("(negative control)"), entry["expected_wrong"] == 1)
            if entry["run_name"].startswith("train_full"):
                self.assertEqual(entry["iterations"], 1)
                self.assertEqual(entry["steps"], 4)
                for counter in ("nodes_per_step", "edges_per_step", "bytes_per_step", "final_loss", "mean_loss",
                                "ns_per_node", "gradient_status"):
                    self.assertIn(counter, entry)
                if entry["run_name"].startswith("train_full/naive/"):  # the heap graph's bytes come through
                    self.assertGreater(entry["bytes_per_step"], 0)
        steps = self.load("step_times.json")  # round 1's train_full, every step, every variant
        self.assertEqual((steps["steps"], sorted(steps["variants"])), (4, sorted(variants)))
        for variant, record in steps["variants"].items():
            self.assertEqual(len(record["seconds"]), 4, variant)
        with open(os.path.join(self.output, "step_time.png"), "rb") as f:
            self.assertTrue(f.read().startswith(b"\x89PNG"))
        run = self.load("run.json")
        self.assertEqual(run["settings"]["python_steps"], 2)
        self.assertEqual([record["order"] for record in run["rounds"]], [variants, variants[1:] + variants[:1]])
        expected = sorted(baseline.key for baseline in bench_run.BASELINES)
        self.assertEqual([sorted(record.get("baselines", {})) for record in run["rounds"]], [expected, []])
        baselines = run["rounds"][0]["baselines"]
        self.assertEqual(baselines["naive"]["status"], "ok")
        self.assertEqual(baselines["both"]["losses"], baselines["naive"]["losses"])
        self.assertEqual(len(run["git"]["commit"]), 40)
        self.assertEqual(run["instructions"], {"note": "not counted (--instruction-steps 0)"})
        table = self.load("table.md")
        for variant in variants:
            self.assertIn(f"| {variant} |", table)
        self.assertIn("| Original Python |", table)
        self.assertIn("agree: yes, bit for bit", table)
        self.assertIn("median [min–max] over 2 rounds", table)
        with open(self.readme) as f:
            readme = f.read()
        self.assertNotIn("nothing yet", readme)
        self.assertTrue(readme.startswith("# T\n\nkept\n\n<!-- results-table:begin -->\n| Version |"))
        self.assertTrue(readme.endswith("<!-- results-table:end -->\n\nkept too\n"))

    def test_instruction_column_is_filled(self):
        if shutil.which("valgrind") is None:
            self.skipTest("valgrind is not installed: nothing fills the instruction column")
        if registry.is_sanitizer_build(os.path.dirname(self.bench)):
            self.skipTest("a sanitizer build: valgrind cannot run its programs, nothing is counted")
        # Two variants, one round, no Python rows: the Python counts take a
        # minute under callgrind (tests/test_instructions.py counts one).
        counted = ["naive", "floor"]
        result = self.run_bench("--skip-python", "--variants", ",".join(counted), "--rounds", "1",
                                "--instruction-steps", "2")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        counts = self.load("instructions.json")
        self.assertEqual((counts["tool"], counts["steps"], sorted(counts["variants"])),
                         ("callgrind", 2, sorted(counted)))
        self.assertEqual(self.load("run.json")["instructions"]["file"], "instructions.json")
        table = self.load("table.md")
        header_line = next(line for line in table.splitlines() if line.startswith("| Version |"))
        header = [cell.strip() for cell in header_line.strip("|").split("|")]
        column = header.index("Instructions/step")
        for variant in counted:
            row = next(line for line in table.splitlines() if line.startswith(f"| {variant} |"))
            cell = [cell.strip() for cell in row.strip("|").split("|")][column]
            self.assertRegex(cell, r"^[0-9.,]+ M$", f"{variant}: {row}")
        self.assertIn("Instructions/step: callgrind over 2 steps", table)

    def test_crashing_variant_loses_only_its_row(self):
        every = self.variants()
        variants = every[:2] + every[-1:]  # three are enough, and quicker
        crash = variants[-1]
        result = self.run_bench("--skip-python", "--variants", ",".join(variants), "--readme-if-default", self.readme,
                                bench=self.wrapper(), environment={"CRASH_VARIANT": crash})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"{crash}: failed: killed by SIGSEGV", result.stdout)
        self.assertNotRegex(result.stdout, rf"\[round 2/2, \d+/\d+\] {crash}:", "a crashed variant leaves the rounds")
        self.assertRegex(result.stdout, rf"round 2/2: {', '.join(variants[1:-1])}, {variants[0]}\n")
        self.assertIn("about to crash", result.stdout)  # the stderr tail is shown
        self.assertRegex(result.stderr, r"row\(s\) failed: .*failed: killed by SIGSEGV")
        table = self.load("table.md")
        self.assertIn(f"| {crash} | — | — | — | — | — | — | — | — | failed: killed by SIGSEGV |", table)
        for variant in variants[:-1]:  # timed, with the verdict of their gradient check
            self.assertRegex(table, rf"\| {variant} \| [0-9.]+ m?s( \[[0-9.]+–[0-9.]+\])?( \*unstable\*)? \|"
                                    rf".*\| (bit-exact|within tol .*|wrong gradients.*) \|")
        statuses = {v["name"]: v["status"] for v in self.load("run.json")["variants"]}
        self.assertEqual(statuses[crash], "failed: killed by SIGSEGV")
        with open(self.readme) as f:
            self.assertEqual(f.read(), README, "a run with other than the default settings leaves the README")
        self.assertIn("left as it is: not the default settings (STEPS=4 K_STEPS=2 ROUNDS=2", result.stdout)

    def test_interrupted_run_keeps_previous_results(self):
        os.makedirs(self.output)
        previous = {}
        for name in OUTPUTS:
            previous[name] = f"previous {name}\n".encode()
            with open(os.path.join(self.output, name), "wb") as f:
                f.write(previous[name])
        every = self.variants()
        variants = every[:2] + every[-1:]
        command = [sys.executable, RUN_BENCH, "--bench", self.wrapper(), "--output-dir", self.output, *SMALL,
                   "--variants", ",".join(variants)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, HANG_VARIANT=variants[-1]))
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:  # wait until the hanging variant (last of round 1) has started
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith(f"[round 1/2, {len(variants) - 1}/{len(variants)}]") or not line:
                break
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 130, "".join(lines) + stdout + stderr)
        self.assertIn("left as it was", stderr)
        self.assertEqual(sorted(os.listdir(self.output)), sorted(OUTPUTS))
        for name in OUTPUTS:
            with open(os.path.join(self.output, name), "rb") as f:
                self.assertEqual(f.read(), previous[name], name)

    def test_readme_without_markers_fails_before_running(self):
        with open(self.readme, "w") as f:
            f.write("# no markers\n")
        start = time.monotonic()
        result = self.run_bench("--readme", self.readme)
        self.assertEqual(result.returncode, 2)
        self.assertIn("missing the marker lines", result.stderr)
        self.assertLess(time.monotonic() - start, 10)
        self.assertFalse(os.path.exists(self.output))

    def test_unwritable_output_fails_before_measuring(self):
        blocker = os.path.join(self.directory.name, "a-file")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        start = time.monotonic()
        command = [sys.executable, RUN_BENCH, "--bench", self.bench, "--output-dir", os.path.join(blocker, "results"),
                   *SMALL]
        result = subprocess.run(command, capture_output=True, text=True, timeout=100)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertRegex(result.stderr, r"^run_bench: cannot write to .*a-file/results: .*a-file is not a directory\n$")
        self.assertNotIn("round 1", result.stdout)
        self.assertLess(time.monotonic() - start, 10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", required=True, help="build/microgpt-bench")
    args, rest = parser.parse_known_args()
    BenchSmokeTest.bench = os.path.abspath(args.bench)
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
