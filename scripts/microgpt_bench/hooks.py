"""The programs run_bench.py runs after the results are published:
  speed_factors.py       the chain of speed factors, with the run's harness,
                         output directory, rounds, steps, data, sizes and
                         README.
"""
import os
import sys

from .bench_run import SCRIPTS_DIR
from .processes import log, run_logged, tail

SPEED_FACTORS = "speed_factors.py"


def run_speed_factors(args, readme, work_dir, scripts_dir=SCRIPTS_DIR):
    """Runs scripts/speed_factors.py with run_bench's
    --bench, --output-dir, --rounds, --steps, --data and --factor-sizes
    (args; '' leaves the factors out) and the README the run writes (or
    none); returns its failure text or None."""
    script = os.path.join(scripts_dir, SPEED_FACTORS)
    sizes = getattr(args, "factor_sizes", None)
    if sizes == "":
        return None
    command = [args.python or sys.executable, script, "--bench", args.bench, "--output-dir", args.output_dir,
               "--rounds", str(args.rounds), "--steps", str(args.steps)]
    command += ["--sizes", sizes] if sizes else []
    # The reference size: the rounds the table was just made from, not new ones.
    command += ["--reference-from", args.output_dir]
    command += (["--data", args.data] if args.data else []) + (["--readme", readme] if readme else [])
    log(f"speed factors: {' '.join(command[1:])}")
    stem = os.path.join(work_dir, "speed_factors")
    returncode, _ = run_logged(command, stem + ".out", stem + ".err", None)
    if returncode != 0:
        return f"{SPEED_FACTORS} failed (exit status {returncode}): {tail(stem + '.err', 1)}"
    output = tail(stem + ".out", 20)
    if output:
        log(output)
    return None
