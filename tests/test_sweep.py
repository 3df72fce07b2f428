#!/usr/bin/env python3
"""sweep.smoke: the `make sweep` driver (scripts/run_sweep.py), its table
(scripts/make_sweep_table.py) and plots (scripts/plot_sweep.py), into a
temporary directory (never results/).

1. A real sweep on a tiny grid (n_embd 8,16 x n_layer 1,2, n_head 2,
   block_size 8, 2 steps), every variant the harness has: every output
   written, one CSV row and one progress line per point, the sizes and
   counters in the JSON, peak RSS that is the harness's own.
2. One point crashing (a wrapper around the real harness kills itself with
   SIGSEGV there): its row says so, the others are written, exit 1.
3. Bad input fails at once: an n_embd that n_head does not divide.
4. The table and plots on made-up points: the fitted slope, a variant without a graph
   (floor: no nodes, so no ns per node and no place on the log-log plot), the
   reference columns, byte-stable output.

usage: test_sweep.py --bench build/microgpt-bench
"""
import argparse
import contextlib
import copy
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
RUN_SWEEP = os.path.join(PROJECT_DIR, "scripts", "run_sweep.py")
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

import make_sweep_table  # noqa: E402
import plot_sweep  # noqa: E402
from microgpt_bench import checks, sweep_plots, sweep_run, sweep_table  # noqa: E402

TINY = ["--n-embd", "8,16", "--n-layer", "1,2", "--n-head", "2", "--block-size", "8", "--steps", "2",
        "--min-time", "0.02"]
SHAPES = ("e8_h2_l1_b8", "e8_h2_l2_b8", "e16_h2_l1_b8", "e16_h2_l2_b8")  # smallest model first
OUTPUTS = ("sweep.json", "sweep_run.json", "sweep.csv", "sweep_table.md", "sweep_time_vs_nodes.png",
           "sweep_ns_per_node.png", "sweep_memory.png")
README = "# T\n\nkept\n\n<!-- sweep-table:begin -->\nnothing yet\n<!-- sweep-table:end -->\n\nkept too\n"

# Runs the real harness, except at the point named by $CRASH_POINT
# ("variant/shape"), where it kills itself with SIGSEGV.
WRAPPER = """#!{python}
import os, signal, sys
arguments = sys.argv[1:]
def value(flag):
    return arguments[arguments.index(flag) + 1] if flag in arguments else None
if "--sweep" in arguments:
    point = "{{}}/e{{}}_h{{}}_l{{}}_b{{}}".format(value("--variant"), value("--n-embd"), value("--n-head"),
                                             value("--n-layer"), value("--block-size"))
    if point == os.environ.get("CRASH_POINT"):
        print("about to crash", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
os.execv({bench!r}, [{bench!r}] + arguments)
"""


class SweepDriverTest(unittest.TestCase):
    bench = None

    def setUp(self):
        self.directory = tempfile.TemporaryDirectory(prefix="sweep-smoke-")
        self.output = os.path.join(self.directory.name, "results")

    def tearDown(self):
        self.directory.cleanup()

    def run_sweep(self, *arguments, bench=None, environment=None):
        command = [sys.executable, RUN_SWEEP, "--bench", bench or self.bench, "--output-dir", self.output, *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **(environment or {})))

    def variants(self):
        return subprocess.run([self.bench, "--list-variants"], capture_output=True, text=True,
                              check=True).stdout.split()

    def csv_rows(self):
        with open(os.path.join(self.output, "sweep.csv")) as f:
            return list(csv.DictReader(f))

    def test_tiny_sweep(self):
        readme = os.path.join(self.directory.name, "README.md")
        with open(readme, "w") as f:
            f.write(README)
        result = self.run_sweep(*TINY, "--readme", readme)
        variants = self.variants()
        rows = self.csv_rows()
        wrong = [row for row in rows if row["status"] == "wrong gradients"]  # not a declared negative control
        self.assertEqual(result.returncode, 1 if wrong else 0, result.stdout + result.stderr)
        self.assertEqual(sorted(os.listdir(self.output)), sorted(OUTPUTS), "no staging left behind")
        for name in OUTPUTS:
            with open(os.path.join(self.output, name), "rb") as f:
                data = f.read()
            self.assertGreater(len(data), 0, name)
            if name.endswith(".png"):
                self.assertTrue(data.startswith(b"\x89PNG"), name)
        # One progress line and one CSV row per point, smallest model first.
        count = len(variants) * len(SHAPES)
        for variant in variants:
            for shape in SHAPES:
                self.assertRegex(result.stdout, rf"\[\d+/{count}\] {variant} {shape}: ")
        self.assertEqual(len(rows), count)
        self.assertEqual([row["n_embd"] + "/" + row["n_layer"] for row in rows[::len(variants)]],
                         ["8/1", "8/2", "16/1", "16/2"])
        # An AddressSanitizer build holds shadow memory and a quarantine of
        # freed blocks: its peak is several hundred MB whatever the model.
        with open(self.bench, "rb") as f:
            sanitized = b"__asan_init" in f.read()
        for row in rows:
            with self.subTest(variant=row["variant"], n_embd=row["n_embd"], n_layer=row["n_layer"]):
                self.assertTrue(row["status"] in ("bit-exact", "wrong gradients (negative control)")
                                or row["status"].startswith("within tol"), row["status"])
                self.assertEqual((row["n_head"], row["block_size"], row["steps"]), ("2", "8", "2"))
                self.assertGreaterEqual(int(row["runs"]), 1)
                embd, layers = int(row["n_embd"]), int(row["n_layer"])
                self.assertEqual(int(row["parameters"]), 2 * 27 * embd + 8 * embd + 12 * layers * embd * embd)
                self.assertGreater(float(row["ms_per_step"]), 0)
                # The harness's own peak, not the Python that started it.
                if not sanitized:
                    self.assertLess(int(row["peak_rss_bytes"]), 200 * 2**20)
                self.assertGreaterEqual(int(row["peak_rss_bytes"]), int(row["rss_before_run_bytes"]))
                if float(row["nodes_per_step"]) > 0:
                    self.assertGreater(float(row["ns_per_node"]), 0)
                    self.assertGreater(float(row["graph_bytes_per_node"]), 0)
                else:
                    self.assertEqual(row["ns_per_node"], "")
                self.assertLessEqual(int(row["sort_depth_max"]), int(row["sort_depth_bound"]))
                self.assertGreater(float(row["ns_per_reference_node"]), 0)
        naive = {(row["n_embd"], row["n_layer"]): row for row in rows if row["variant"] == "naive"}
        for row in rows:
            if row["variant"] == "stack":  # the same graph as naive, sorted without recursion
                reference = naive[(row["n_embd"], row["n_layer"])]
                self.assertEqual(row["nodes_per_step"], reference["nodes_per_step"])
                self.assertEqual(row["sort_depth_max"], reference["sort_depth_max"])
                self.assertGreater(int(row["sort_depth_max"]), 0)
        with open(os.path.join(self.output, "sweep.json")) as f:
            names = {"/".join(entry["run_name"].split("/")[:3]) for entry in json.load(f)["benchmarks"]}
        self.assertEqual(names, {f"sweep/{variant}/{shape}" for variant in variants for shape in SHAPES})
        with open(os.path.join(self.output, "sweep_run.json")) as f:
            run = json.load(f)
        self.assertEqual(run["settings"]["gradient_check_shape"], "e8_h2_l2_b8")
        self.assertIn("slope of log time per step", result.stdout)
        with open(readme) as f:
            text = f.read()
        self.assertTrue(text.startswith("# T\n\nkept\n\n<!-- sweep-table:begin -->\n| variant | ms/step e8 l1 |"), text)
        self.assertTrue(text.endswith("<!-- sweep-table:end -->\n\nkept too\n"))
        for variant in variants:
            self.assertIn(f"\n| {variant} | ", text)
        self.assertIn("depth-first topological sort at e16_h2_l2_b8: ", text)

    def test_crashing_point_loses_only_its_row(self):
        variants = self.variants()
        wrapper = os.path.join(self.directory.name, "bench-wrapper")
        with open(wrapper, "w") as f:
            f.write(WRAPPER.format(python=sys.executable, bench=os.path.abspath(self.bench)))
        os.chmod(wrapper, 0o755)
        crash = f"{variants[0]}/e16_h2_l1_b8"
        result = self.run_sweep("--n-embd", "8,16", "--n-layer", "1", "--n-head", "2", "--block-size", "8",
                                "--steps", "2", "--min-time", "0", bench=wrapper, environment={"CRASH_POINT": crash})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"{variants[0]} e16_h2_l1_b8: failed: killed by SIGSEGV", result.stdout)
        self.assertIn("about to crash", result.stdout)
        self.assertRegex(result.stderr, r"point\(s\) failed: .*killed by SIGSEGV")
        rows = self.csv_rows()
        self.assertEqual(len(rows), len(variants) * 2)
        failed = [row for row in rows if row["status"].startswith("failed")]
        self.assertEqual([(row["variant"], row["n_embd"], row["n_layer"]) for row in failed],
                         [(variants[0], "16", "1")])
        self.assertEqual(failed[0]["ms_per_step"], "")
        for name in OUTPUTS:
            self.assertTrue(os.path.exists(os.path.join(self.output, name)), name)

    def test_bad_grid_fails_at_once(self):
        result = self.run_sweep("--n-embd", "8,30", "--n-head", "4")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--n-embd 30 not divisible by --n-head 4", result.stderr)
        self.assertFalse(os.path.exists(self.output))

    def test_readme_without_markers_fails_before_running(self):
        readme = os.path.join(self.directory.name, "README.md")
        with open(readme, "w") as f:
            f.write("# no markers\n")
        result = self.run_sweep(*TINY, "--readme", readme)
        self.assertEqual(result.returncode, 2)
        self.assertIn("missing the marker lines <!-- sweep-table:begin --> and <!-- sweep-table:end -->", result.stderr)
        self.assertNotIn("[1/", result.stdout)
        self.assertFalse(os.path.exists(self.output))


def made_up_run():
    """Three variants at three sizes: naive (time ~ nodes), fused (a smaller
    graph), floor (no graph)."""
    benchmarks, points = [], []
    for embd, reference_nodes in ((16, 1e4), (32, 4e4), (64, 1.6e5)):
        shape = f"e{embd}_h4_l1_b16"
        for variant, nodes, milliseconds in (("naive", reference_nodes, reference_nodes * 5e-5),
                                             ("fused", reference_nodes / 5, reference_nodes * 1e-5),
                                             ("floor", 0, reference_nodes * 1e-6)):
            points.append({"variant": variant, "shape": shape, "n_embd": embd, "n_layer": 1, "status": "ok",
                           "exit_code": 0, "seconds": 1.0})
            benchmarks.append({
                "name": f"sweep/{variant}/{shape}/iterations:1/manual_time",
                "run_name": f"sweep/{variant}/{shape}/iterations:1/manual_time", "run_type": "iteration",
                "repetition_index": 0, "iterations": 3, "real_time": 10 * milliseconds, "time_unit": "ms", "steps": 10.0,
                "n_embd": embd, "n_head": 4, "n_layer": 1, "block_size": 16, "parameters": 1000.0 * embd,
                "nodes_per_step": nodes, "nodes_max": 2 * nodes, "edges_per_step": 2 * nodes,
                "bytes_per_step": 80 * nodes if nodes else 4096.0, "bytes_max": 160 * nodes,
                "forward_seconds": 0.004 * milliseconds, "backward_seconds": 0.005 * milliseconds,
                "update_seconds": 0.001 * milliseconds, "sort_depth_max": 300.0 if variant == "naive" else 0.0,
                "sort_depth_bound": 400.0, "max_rss_bytes": 1e7 + 100 * nodes, "rss_before_run_bytes": 1e7,
                "ru_maxrss_bytes": 6e7, "gradient_status": 0.0, "expected_wrong": 0.0, "label": "bit-exact"})
    run = {"settings": {"steps": 10, "min_time": 0.5, "n_embd": [16, 32, 64], "n_layer": [1], "n_head": 4, "block_size": 16},
           "points": points}
    return {"context": {}, "benchmarks": benchmarks}, run


class PlotSweepTest(unittest.TestCase):
    def test_fitted_slope(self):
        self.assertAlmostEqual(sweep_run.fitted_slope([(10, 3), (100, 30), (1000, 300)]), 1.0)
        self.assertAlmostEqual(sweep_run.fitted_slope([(2, 4), (4, 16), (8, 64)]), 2.0)
        self.assertIsNone(sweep_run.fitted_slope([(10, 3)]))
        self.assertIsNone(sweep_run.fitted_slope([(0, 3), (0, 4)]))

    def test_rows_and_csv(self):
        sweep_json, run = made_up_run()
        rows = sweep_run.rows(sweep_json, run)
        self.assertEqual(len(rows), 9)
        floor = [row for row in rows if row["variant"] == "floor"]
        self.assertTrue(all(row["ns_per_node"] is None and row["graph_bytes_per_node"] is None for row in floor))
        for row in rows:  # every variant against naive's nodes at that size
            self.assertAlmostEqual(row["ns_per_reference_node"], 1e6 * row["ms_per_step"] / row["reference_nodes_per_step"])
        naive = [row for row in rows if row["variant"] == "naive"]
        self.assertAlmostEqual(naive[0]["ns_per_node"], 50.0)
        self.assertAlmostEqual(naive[0]["graph_bytes_per_node"], 80.0)
        text = sweep_run.csv_text(rows)
        parsed = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual(tuple(parsed[0]), sweep_run.CSV_COLUMNS)
        self.assertEqual(parsed[2]["variant"], "floor")
        self.assertEqual(parsed[2]["ns_per_node"], "")
        self.assertEqual(parsed[0]["ms_per_step"], "0.5")
        lines = sweep_table.summary_lines(rows)
        self.assertIn("naive 1.00/1.00", lines[0])
        self.assertIn("floor -/1.00", lines[0])
        self.assertTrue(lines[1].startswith("at e64_h4_l1_b16: floor 0.16 ms/step"), lines[1])

    def test_failed_point_and_wrong_gradients(self):
        sweep_json, run = made_up_run()
        run = copy.deepcopy(run)
        run["points"][0]["status"] = "failed: killed by SIGSEGV"
        for entry in sweep_json["benchmarks"]:
            if entry["run_name"].startswith("sweep/fused/"):
                entry.update(gradient_status=2, expected_wrong=0, label="wrong gradients")
        rows = sweep_run.rows(sweep_json, run)
        self.assertEqual(rows[0]["status"], "failed: killed by SIGSEGV")
        self.assertEqual(rows[0]["check"], checks.FAILED)
        self.assertIsNone(rows[0]["ms_per_step"])
        self.assertIsNone(rows[1]["reference_nodes_per_step"], "no naive at that size: no reference")
        self.assertEqual({row["check"] for row in rows if row["variant"] == "fused"}, {checks.WRONG})
        self.assertEqual(sorted(sweep_plots.render(sweep_json, run)), sorted(["sweep_time_vs_nodes.png",
                                                                              "sweep_ns_per_node.png",
                                                                              "sweep_memory.png"]))
        outputs = sweep_table.render(sweep_json, run)
        self.assertEqual(sorted(outputs), ["sweep.csv", "sweep_table.md"])
        table = outputs["sweep_table.md"]
        self.assertIn("| fused | ", table)
        self.assertIn("| wrong gradients |", table)

    def test_table(self):
        sweep_json, run = made_up_run()
        lines = sweep_table.table_lines(sweep_run.rows(sweep_json, run), run)
        self.assertEqual(lines[0].split(" | ")[1:3], ["ms/step e16 l1", "ms/step e64 l1"])
        rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in lines if line.startswith("| ")}
        self.assertEqual(list(rows)[1:], ["naive", "fused", "floor"], "slowest first")
        self.assertEqual(rows["naive"][1:4], ["0.5", "8", "50 → 50"])
        self.assertEqual(rows["floor"][5], "—", "no graph: no ns per own node")
        self.assertEqual(rows["floor"][6], "—")
        self.assertEqual(rows["fused"][6:8], ["1.00", "1.00"])

    def test_render_is_byte_stable(self):
        sweep_json, run = made_up_run()
        for render in (sweep_plots.render, sweep_table.render):
            self.assertEqual(render(sweep_json, run), render(sweep_json, run))

    def test_main_writes_next_to_the_run(self):
        sweep_json, run = made_up_run()
        with tempfile.TemporaryDirectory() as directory:
            with contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(plot_sweep.main(["--results-dir", directory]), 2, "nothing to plot yet")
                self.assertEqual(make_sweep_table.main(["--results-dir", directory]), 2)
            self.assertIn("run `make sweep` first", err.getvalue())
            for name, value in ((sweep_run.SWEEP_FILE, sweep_json), (sweep_run.SWEEP_RUN_FILE, run)):
                with open(os.path.join(directory, name), "w") as f:
                    json.dump(value, f)
            self.assertEqual(plot_sweep.main(["--results-dir", directory]), 0)
            self.assertEqual(make_sweep_table.main(["--results-dir", directory]), 0)
            self.assertEqual(sorted(os.listdir(directory)), sorted(OUTPUTS))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", required=True, help="build/microgpt-bench")
    args, rest = parser.parse_known_args()
    SweepDriverTest.bench = os.path.abspath(args.bench)
    unittest.main(argv=[sys.argv[0], *rest])


if __name__ == "__main__":
    main()
