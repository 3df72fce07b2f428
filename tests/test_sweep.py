#!/usr/bin/env python3
"""tool.sweep: `make sweep`'s plumbing on two tiny sizes with PyTorch: every
point measured (C variants by the harness, PyTorch's rows by
baselines/microgpt_torch.py with its losses held to floor's at that size),
the CSV, the table with the crossover lines and the four plots written, and
README.md untouched; a sweep without naive (no reference nodes) still ends well. Skipped (77), with the reason, where torch is absent.
Usage: test_sweep.py BUILD_DIR DATASET"""
import json
import os
import subprocess
import sys
import tempfile

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPPED = 77


def main():
    build_dir, data = sys.argv[1], sys.argv[2]
    with open(os.path.join(PROJECT_DIR, "README.md"), "rb") as f:
        readme = f.read()
    with tempfile.TemporaryDirectory(prefix="test-sweep-") as work:
        done = subprocess.run([sys.executable, os.path.join(PROJECT_DIR, "scripts", "bench"), "sweep", "--quick",
                               "--n-embd", "8,16", "--n-layer", "1", "--variants", "floor,naive", "--bench",
                               os.path.join(build_dir, "microgpt-bench"), "--data", data, "--run-dir", work],
                              capture_output=True, text=True)
        output = done.stdout + done.stderr
        print(output[-4000:])
        with open(os.path.join(work, "sweep_run.json")) as f:
            points = json.load(f)["points"]
        torch_points = [p for p in points if p["kind"] == "torch"]
        if torch_points and all(p.get("not_measured") for p in torch_points):
            print(f"skipped: PyTorch not measured here: {torch_points[0]['status']}")
            return SKIPPED
        checks = {
            "exit 0": done.returncode == 0,
            "2 sizes x (2 variants + 4 PyTorch rows) points, all measured":
                len(points) == 12 and all(p["status"] == "ok" for p in points),
            "PyTorch's losses compared with floor's at each size":
                all("max_abs_loss_difference" in p for p in torch_points),
            "every output written": all(os.path.getsize(os.path.join(work, name)) > 0 for name in (
                "sweep.json", "sweep.csv", "sweep_table.md", "sweep_crossover.png", "sweep_memory.png",
                "sweep_ns_per_node.png", "sweep_time_vs_nodes.png")),
            "the table has PyTorch's rows and the crossover lines":
                "PyTorch (whole sequence)" in open(os.path.join(work, "sweep_table.md")).read() and
                "overtakes" in open(os.path.join(work, "sweep_table.md")).read(),
            "the CSV has a row per point": len(open(os.path.join(work, "sweep.csv")).read().splitlines()) == 13,
        }
    with tempfile.TemporaryDirectory(prefix="test-sweep-floor-") as work:  # no naive: no reference nodes
        done = subprocess.run([sys.executable, os.path.join(PROJECT_DIR, "scripts", "bench"), "sweep", "--quick",
                               "--n-embd", "8", "--n-layer", "1", "--variants", "floor", "--no-torch", "--bench",
                               os.path.join(build_dir, "microgpt-bench"), "--data", data, "--run-dir", work],
                              capture_output=True, text=True)
        print(done.stdout[-1000:] + done.stderr[-2000:])
        checks["a sweep without naive: exit 0, the plots that need it left out"] = done.returncode == 0 and \
            "sweep_ns_per_node.png not drawn" in done.stdout and os.path.exists(os.path.join(work, "sweep_crossover.png"))
    with open(os.path.join(PROJECT_DIR, "README.md"), "rb") as f:
        checks["README.md untouched"] = f.read() == readme
    for label, passed in checks.items():
        print(f"{'ok' if passed else 'FAILED'}: {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
