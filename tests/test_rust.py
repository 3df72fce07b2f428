#!/usr/bin/env python3
"""baseline.rust: the Rust program (baselines/rust, build/microgpt-rust) trains
the reference's model: its first 20 losses equal the Python reference's bit
for bit (tests/fixtures/reference_20.losses) with both strategies, its graph
sizes equal the C variants' of the same strategy (naive, both), here and at
another size, and a bad option gets one line and exit 2. Skipped (77) where
no rustc built it.
Usage: test_rust.py BUILD_DIR DATASET"""
import os
import re
import subprocess
import sys
import tempfile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
SKIPPED = 77


def summary(program, data, *arguments):
    done = subprocess.run([program, "--data", data, "--samples", "0", "--quiet", *arguments], capture_output=True,
                          text=True, check=True)
    return re.findall(r"graph (?:nodes|edges) per step: .*", done.stdout)


def main():
    build_dir, data = sys.argv[1], sys.argv[2]
    rust = os.path.join(build_dir, "microgpt-rust")
    if not os.access(rust, os.X_OK):
        print(f"skipped: no {rust} (no rustc when the project was configured; make test installs Debian's)")
        return SKIPPED
    failures = []
    with open(os.path.join(FIXTURES, "reference_20.losses")) as f:
        reference = f.read()
    for strategy in ("naive", "both"):
        with tempfile.TemporaryDirectory() as work:
            losses = os.path.join(work, "losses")
            subprocess.run([rust, "--data", data, "--steps", "20", "--samples", "0", "--quiet", "--strategy", strategy,
                            "--losses", losses], check=True, stdout=subprocess.DEVNULL)
            with open(losses) as f:
                same = f.read() == reference
        print(f"{'ok' if same else 'FAILED'}: rust --strategy {strategy}: 20 losses equal the reference's bit for bit")
        failures += [] if same else [strategy]
        for size in ([], ["--n-embd", "8", "--n-head", "2", "--n-layer", "2", "--block-size", "8"]):
            arguments = ["--steps", "5", *size]
            ours = summary(rust, data, "--strategy", strategy, *arguments)
            theirs = summary(os.path.join(build_dir, f"microgpt-{strategy}"), data, *arguments)
            equal = ours == theirs and len(ours) == 2
            print(f"{'ok' if equal else 'FAILED'}: rust --strategy {strategy} {' '.join(size) or 'default size'}: "
                  f"graph sizes equal the C variant's ({ours})")
            failures += [] if equal else [f"{strategy} graph {size}"]
    done = subprocess.run([rust, "--steps", "0"], capture_output=True, text=True)
    bad_input = done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and not done.stdout
    print(f"{'ok' if bad_input else 'FAILED'}: --steps 0: one line, exit 2 ({done.stderr.strip()})")
    return 1 if failures or not bad_input else 0


if __name__ == "__main__":
    sys.exit(main())
