#!/usr/bin/env python3
"""test_limits: every variant program at the limits of the model's sizes
(engine/variant.h: MODEL_MAX_* and model_shape_check) either runs or refuses
with one line on stderr and exit 2: never an abort, a signal or a partial
line. The cases: each size at its cap with the others at their smallest; more
heads than a fixed array once allowed (the coarse graph's 64); and a document
longer than 1024 positions (the coarse graph's other array) under a block
size that admits it.

Usage: test_limits.py BUILD_DIR DATASET"""
import argparse
import os
import subprocess
import sys
import tempfile

from registry import variant_facts

SMALLEST = {"--n-embd": "1", "--n-head": "1", "--n-layer": "1", "--block-size": "1"}
LONG_DOCUMENT = 1030


def cases(dataset, long_dataset):
    def shape(**sizes):
        chosen = dict(SMALLEST)
        chosen.update({"--" + name.replace("_", "-"): str(value) for name, value in sizes.items()})
        return [part for item in chosen.items() for part in item]
    return [
        ("n_embd at its cap", dataset, shape(n_embd=4096)),
        ("n_head at its cap", dataset, shape(n_embd=4096, n_head=4096)),
        ("n_layer at its cap", dataset, shape(n_layer=10000)),
        ("block_size at its cap", dataset, shape(block_size=4096)),
        ("128 heads", dataset, shape(n_embd=128, n_head=128, block_size=2)),
        (f"a document of {LONG_DOCUMENT} positions", long_dataset, shape(block_size=LONG_DOCUMENT)),
    ]


def verdict(result):
    """None if the run is acceptable, else why not."""
    if result.returncode == 0:
        return None
    if result.returncode != 2:
        return f"exit status {result.returncode} (a negative one is a signal)"
    lines = result.stderr.splitlines()
    if len(lines) != 1 or not result.stderr.endswith("\n"):
        return f"refused with {len(lines)} lines on stderr, not one: {result.stderr!r}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("dataset")
    args = parser.parse_args()
    failures = checks = 0
    with tempfile.TemporaryDirectory() as directory:
        long_dataset = os.path.join(directory, "long.txt")
        with open(long_dataset, "w") as f:
            f.write("a" * LONG_DOCUMENT + "\nbob\nann\n")
        for variant in (facts["name"] for facts in variant_facts(args.build_dir)):
            for label, data, sizes in cases(args.dataset, long_dataset):
                # Three steps: with three documents, the long one is met.
                command = [os.path.join(args.build_dir, f"microgpt-{variant}"), "--data", data, "--steps", "3",
                           "--samples", "1", "--quiet", *sizes]
                result = subprocess.run(command, capture_output=True, text=True, timeout=300)
                checks += 1
                problem = verdict(result)
                outcome = "runs" if result.returncode == 0 else "refused: " + result.stderr.strip()
                if problem:
                    failures += 1
                    print(f"FAIL: {variant}, {label} ({' '.join(sizes)}): {problem}")
                else:
                    print(f"{variant}, {label}: {outcome}")
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
