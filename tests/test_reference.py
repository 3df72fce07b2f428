#!/usr/bin/env python3
"""test_reference: the Python reference (baselines/microgpt_reference.py), both
strategies, against every C variant on a short run: the same losses, bit for
bit, and the same output lines up to the summary; and the same graph sizes
where the graphs are the same (naive ~ the scalar graph, both ~ the fused one).
Which variants there are, and what each promises, comes from their tables
(microgpt-variants --json): a declared tolerance of 0 means bit for bit,
another within that tolerance; negative controls are left out (their
trajectory is checked by test_run).

Usage: test_reference.py BUILD_DIR DATASET"""
import argparse
import os
import subprocess
import sys
import tempfile

from registry import variant_facts

STEPS, SAMPLES = "3", "4"


def reference_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "baselines")


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
    args = parser.parse_args()
    variants = [facts for facts in variant_facts(args.build_dir) if not facts["expected_wrong"]]
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
        for facts in variants:
            variant, tolerance = facts["name"], facts["tolerance"]
            command = [os.path.join(args.build_dir, f"microgpt-{variant}"), "--data", args.dataset, "--steps", STEPS,
                       "--samples", SAMPLES]
            losses, body, summary = run_and_read(command, os.path.join(directory, f"{variant}.txt"))
            expected_losses, expected_body, expected_summary = references["naive"]
            checks += 2
            failures_before = failures
            if tolerance > 0:
                differences = [abs(float(a) - float(b)) for a, b in zip(losses.split(), expected_losses.split())]
                if len(losses.split()) != len(expected_losses.split()) or max(differences) > tolerance:
                    failures += 1
                    print(f"FAIL: {variant} losses differ from the Python reference by more than {tolerance}")
            elif losses != expected_losses:
                failures += 1
                print(f"FAIL: {variant} losses differ from the Python reference:\n{losses}\nvs\n{expected_losses}")
            if body != expected_body:
                failures += 1
                print(f"FAIL: {variant} output differs from the Python reference:\n{body}\nvs\n{expected_body}")
            matching = [s for s in ("naive", "both") if graph_lines(summary) == graph_lines(references[s][2])]
            expected = {"scalar": "naive", "fused": "both"}.get(facts["graph"])
            if expected:
                checks += 1
                if matching != [expected]:
                    failures += 1
                    print(f"FAIL: {variant} graph sizes {graph_lines(summary)}, Python {expected}: "
                          f"{graph_lines(references[expected][2])}")
            if failures == failures_before:
                agreement = "equal" if tolerance == 0 else f"within {tolerance:g} of"
                print(f"{variant}: losses and output {agreement} the Python reference; "
                      f"graph sizes as Python's {matching or 'none'}")
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
