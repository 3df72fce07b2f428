#!/usr/bin/env python3
"""test_reference: the Python reference (scripts/microgpt_reference.py), both
strategies, against every C variant on a short run: the same losses, bit for
bit, and the same output lines up to the summary; and the same graph sizes
where the graphs are the same (naive ~ scalar variants, both ~ fused ones).
Variants named after --tolerant (declared tolerance > 0) must agree within
TOLERANCE instead of bit for bit.

Usage: test_reference.py BUILD_DIR DATASET VARIANT [VARIANT ...] [--tolerant VARIANT ...]"""
import argparse
import os
import subprocess
import sys
import tempfile

STEPS, SAMPLES = "3", "4"
TOLERANCE = 1e-9


def reference_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts")


def run_and_read(command, losses_path):
    result = subprocess.run(command + ["--losses", losses_path], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr}")
    with open(losses_path) as f:
        losses = f.read()
    body, _, summary = result.stdout.partition("\n--- summary")
    return losses, body, summary


def graph_lines(summary):
    return [line for line in summary.splitlines() if line.startswith("graph ")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("dataset")
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--tolerant", nargs="*", default=[])
    args = parser.parse_args()
    failures = checks = 0
    with tempfile.TemporaryDirectory() as directory:
        references = {}
        for strategy in ("naive", "both"):
            command = [sys.executable, os.path.join(reference_dir(), "microgpt_reference.py"), "--strategy", strategy,
                       "--data", args.dataset, "--steps", STEPS, "--samples", SAMPLES]
            references[strategy] = run_and_read(command, os.path.join(directory, f"python-{strategy}.txt"))
        checks += 1
        if references["naive"][:2] != references["both"][:2]:
            failures += 1
            print("FAIL: the Python reference's two strategies disagree")
        for variant in args.variants + args.tolerant:
            command = [os.path.join(args.build_dir, f"microgpt-{variant}"), "--data", args.dataset, "--steps", STEPS,
                       "--samples", SAMPLES]
            losses, body, summary = run_and_read(command, os.path.join(directory, f"{variant}.txt"))
            expected_losses, expected_body, expected_summary = references["naive"]
            checks += 2
            if variant in args.tolerant:
                differences = [abs(float(a) - float(b)) for a, b in zip(losses.split(), expected_losses.split())]
                if len(losses.split()) != len(expected_losses.split()) or max(differences) > TOLERANCE:
                    failures += 1
                    print(f"FAIL: {variant} losses differ from the Python reference by more than {TOLERANCE}")
            elif losses != expected_losses:
                failures += 1
                print(f"FAIL: {variant} losses differ from the Python reference:\n{losses}\nvs\n{expected_losses}")
            if body != expected_body:
                failures += 1
                print(f"FAIL: {variant} output differs from the Python reference:\n{body}\nvs\n{expected_body}")
            matching = [s for s in ("naive", "both") if graph_lines(summary) == graph_lines(references[s][2])]
            print(f"{variant}: losses and output equal the Python reference; graph sizes as Python's {matching or 'none'}")
            if variant in ("naive", "stack", "fused", "both"):
                checks += 1
                expected = "both" if variant in ("fused", "both") else "naive"
                if matching != [expected]:
                    failures += 1
                    print(f"FAIL: {variant} graph sizes {graph_lines(summary)}, Python {expected}: "
                          f"{graph_lines(references[expected][2])}")
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
