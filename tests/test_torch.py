#!/usr/bin/env python3
"""Tests of the PyTorch rows' plumbing (baselines/microgpt_torch.py).

A few training steps in each mode: the loss of step 1 equals the reference's
(tests/fixtures/reference_20.losses, made by baselines/microgpt_reference.py)
to within 1e-12, the next ones stay close, the autograd node count is
positive and the same for every step of the same length and across two
runs, and the report has the keys the bench scripts read. Skipped (exit code
77, ctest SKIP_RETURN_CODE) with the reason when torch cannot be imported.
Dataset: $MICROGPT_DATA, else data/names.txt.
"""
import json
import os
import sys
import tempfile
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
REFERENCE_LOSSES = os.path.join(TESTS_DIR, "fixtures", "reference_20.losses")
sys.path.insert(0, os.path.join(PROJECT_DIR, "baselines"))

import microgpt_torch  # noqa: E402

SKIP_RETURN_CODE = 77
STEPS = 4
DATA = os.environ.get("MICROGPT_DATA", os.path.join(PROJECT_DIR, "data", "names.txt"))


def run(mode, *extra):
    """The report of a short run, through the script's own main()."""
    with tempfile.TemporaryDirectory() as directory:
        report = os.path.join(directory, "report.json")
        argv = ["--mode", mode, "--steps", str(STEPS), "--quiet", "--data", DATA, "--report", report,
                "--reference-losses", REFERENCE_LOSSES, *extra]
        with open(os.devnull, "w") as null:
            stdout, sys.stdout = sys.stdout, null
            try:
                status = microgpt_torch.main(argv)
            finally:
                sys.stdout = stdout
        if status != 0:
            raise AssertionError(f"microgpt_torch {' '.join(argv)} exited with {status}")
        with open(report) as f:
            return json.load(f)


class TorchRows(unittest.TestCase):
    def test_modes(self):
        with open(REFERENCE_LOSSES) as f:
            reference = [float(line) for line in f]
        for mode in microgpt_torch.MODES:
            with self.subTest(mode=mode):
                report = run(mode)
                losses = report["losses"]
                self.assertEqual(len(losses), STEPS)
                # Step 1 does not depend on the learning-rate schedule's length.
                self.assertLessEqual(abs(losses[0] - reference[0]), 1e-12)
                self.assertEqual(report["first_step_loss_difference"], abs(losses[0] - reference[0]))
                # Later steps follow a schedule over STEPS, not 20: close, not equal.
                self.assertLess(max(abs(a - b) for a, b in zip(losses, reference)), 0.05)
                for key in ("strategy", "steps", "train_seconds", "final_loss", "mean_loss", "nodes", "edges",
                            "python", "threads", "default_threads", "torch_version", "max_abs_loss_difference"):
                    self.assertIn(key, report)
                self.assertEqual(report["threads"], 1)
                self.assertGreater(report["train_seconds"], 0.0)
                counts = report["nodes_per_step"]
                self.assertTrue(all(count > 0 for count in counts), counts)
                self.assertEqual(run(mode)["nodes_per_step"], counts, "the same steps, the same graphs")

    def test_count_depends_only_on_length(self):
        """Documents of one length give one node count (the graph's shape)."""
        for mode in microgpt_torch.MODES:
            with self.subTest(mode=mode):
                docs, *_ = microgpt_torch.initial_state(DATA, 16, 4, 1, 16)
                lengths = [min(16, len(doc) + 1) for doc in docs[:STEPS]]
                counts = run(mode)["nodes_per_step"]
                by_length = {}
                for length, count in zip(lengths, counts):
                    by_length.setdefault(length, set()).add(count)
                self.assertTrue(all(len(values) == 1 for values in by_length.values()), by_length)
                if mode == "position" and len(by_length) > 1:
                    ordered = [min(by_length[n]) for n in sorted(by_length)]
                    self.assertEqual(ordered, sorted(ordered), "more positions, more nodes")


def main():
    reason = microgpt_torch.torch_unavailable_reason()
    if reason:
        print(f"SKIPPED: {reason} (Debian: apt-get install python3-torch)")
        return SKIP_RETURN_CODE
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
