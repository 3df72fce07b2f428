"""Programs other parts of the project add to scripts/, called by
run_bench.py when they are there:
  count_instructions.py  count_instructions(build_dir, variants, steps) ->
                         {variant: {"instructions_per_step": float, ...}}
                         (valgrind's callgrind over a short run);
  speed_factors.py       the chain of speed factors, run after the results
                         are published, with the run's harness, output
                         directory, rounds, steps, data, sizes and README.
"""
import importlib.util
import os
import sys

from .bench_run import SCRIPTS_DIR
from .processes import log, run_logged, tail

INSTRUCTION_COUNTER = "count_instructions.py"
SPEED_FACTORS = "speed_factors.py"


def load_instruction_counter(scripts_dir=SCRIPTS_DIR):
    """count_instructions() of scripts/count_instructions.py, or None when
    the file is not there."""
    path = os.path.join(scripts_dir, INSTRUCTION_COUNTER)
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("count_instructions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.count_instructions


def count_instructions(counter, build_dir, variants, steps):
    """(instructions.json's content or None, a line for the log and the
    table's notes). A counter that fails leaves the column "not counted",
    with its error in the line; the run goes on."""
    if counter is None:
        return None, f"not counted: no scripts/{INSTRUCTION_COUNTER} in this tree"
    try:
        counts = counter(build_dir, variants, steps)
    except Exception as error:  # any failure of the counter is reported, not fatal to the timings
        return None, f"not counted: {INSTRUCTION_COUNTER} failed: {type(error).__name__}: {error}"
    return ({"tool": "callgrind", "steps": steps, "variants": counts},
            f"callgrind over {steps} steps (scripts/{INSTRUCTION_COUNTER})")


def run_speed_factors(args, readme, work_dir, scripts_dir=SCRIPTS_DIR):
    """Runs scripts/speed_factors.py if it is there, with run_bench's
    --bench, --output-dir, --rounds, --steps, --data and --factor-sizes
    (args; '' leaves the factors out) and the README the run writes (or
    none); returns its failure text or None."""
    script = os.path.join(scripts_dir, SPEED_FACTORS)
    sizes = getattr(args, "factor_sizes", None)
    if not os.path.exists(script) or sizes == "":
        return None
    command = [args.python or sys.executable, script, "--bench", args.bench, "--output-dir", args.output_dir,
               "--rounds", str(args.rounds), "--steps", str(args.steps)]
    command += ["--sizes", sizes] if sizes else []
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
