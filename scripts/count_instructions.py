#!/usr/bin/env python3
"""Instructions per training step of every microgpt variant, counted by valgrind.

Each variant's program (build/microgpt-<variant>) trains for --steps steps
under callgrind with collection switched on only inside model_train_step
(--toggle-collect): the function engine/model.c runs once per step (forward,
backward, Adam, graph release, and the malloc, free and libm calls they make).
Model creation, the dataset and process start-up are not counted. The count is
a property of the program and its inputs, not of the machine's load: a second
measurement gives the same number (--repeat 2 shows it).

The Python reference (scripts/microgpt_reference.py) has no C function to
toggle on: its count is a difference of whole-process counts,
(Ir(--steps N) - Ir(--steps 1)) / (N - 1), so the steps 2..N (the C rows count
steps 1..N: the same documents but the first).

Modes:
  default             count, print a table, --output FILE writes JSON
                      {"tool": "callgrind", "steps": N, "variants": {name:
                      {"instructions_per_step": ...}}, "python": {...}, "build": {...}}
  --write-baseline F  count every variant and write the regression baseline F
                      (with the compiler, flags, glibc and commit of the build)
  --check F           count every variant and compare with the baseline F:
                      exit 1 when a variant costs more than --tolerance above
                      it (both numbers printed); a variant that got cheaper by
                      more than that, or has no baseline, is reported only.
                      Exit 77 (skipped) without valgrind, in a sanitizer build,
                      or when the build's compiler, flags or glibc differ from
                      the baseline's (its counts would not be comparable).

The logic is scripts/microgpt_bench/instructions.py (standard library only);
importable from here: count_instructions(build_dir, variants, steps) and
count_python(reference, python, data, steps, strategy). `make bench` counts
through the same module (instructions.json, the table's column).
Exit status: 0 on success, 1 on a regression or disagreeing repeats, 2 on bad
input, 77 when --check does not apply.
"""
import argparse
import sys

from microgpt_bench.instructions import (AGREEMENT, DEFAULT_STEPS, DEFAULT_TOLERANCE, CountError, build_identity,
                                         check_skip_reason, compare_with_baseline, count_document,
                                         count_instructions, count_python, disagreements, load_baseline,
                                         valgrind_path, write_document)
from microgpt_bench.processes import log

# Importable from here, as before the library held them.
__all__ = ["count_instructions", "count_python", "build_identity", "valgrind_path", "main"]
SKIP_EXIT = 77


def parse_program(text):
    name, separator, path = text.partition("=")
    if not separator or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got '{text}'")
    return name, path


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="\n".join(__doc__.split("\n")[2:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build", help="CMake build directory (default: build)")
    parser.add_argument("--variant", action="append", dest="variants", metavar="NAME",
                        help="count this variant (repeatable; default: every variant of the build)")
    parser.add_argument("--program", action="append", type=parse_program, default=[], metavar="NAME=PATH",
                        help="count PATH under the name NAME instead of BUILD_DIR/microgpt-NAME")
    parser.add_argument("--steps", type=int, help=f"training steps counted (default {DEFAULT_STEPS}; "
                        "with --check: the baseline's)")
    parser.add_argument("--data", help="names file (default: the programs' own default, $MICROGPT_DATA first)")
    parser.add_argument("--repeat", type=int, default=1,
                        help=f"measurements per variant; they must agree within {100 * AGREEMENT:g}%% (default 1)")
    parser.add_argument("--python-reference", metavar="SCRIPT",
                        help="also count this Python reference (scripts/microgpt_reference.py)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for --python-reference")
    parser.add_argument("--python-strategy", action="append", choices=("naive", "both"),
                        help="the reference's --strategy to count (repeatable; default naive)")
    parser.add_argument("--output", help="write the counts as JSON to this file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write-baseline", metavar="FILE", help="write the regression baseline")
    mode.add_argument("--check", metavar="FILE", help="compare with the regression baseline")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"--check: allowed fraction above the baseline (default {DEFAULT_TOLERANCE})")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def run_check(args):
    baseline_variants, baseline_steps, recorded = load_baseline(args.check)
    reason = check_skip_reason(args.build_dir, recorded)
    if reason:
        log(f"skipped: {reason}")
        return SKIP_EXIT
    steps = baseline_steps if args.steps is None else args.steps
    counts = count_instructions(args.build_dir, args.variants, steps, args.data, dict(args.program))
    regressions, notes = compare_with_baseline(counts, baseline_variants, args.tolerance)
    for line in notes:
        log(line)
    for line in regressions:
        log("REGRESSION " + line)
    if regressions:
        log(f"{len(regressions)} variant(s) cost more than {args.tolerance:.0%} above {args.check}; if that is "
            "intended, make instructions-baseline rewrites it")
        return 1
    return 0


def main(argv=None):
    args = parse_arguments(argv)
    try:
        if args.check:
            return run_check(args)
        steps = DEFAULT_STEPS if args.steps is None else args.steps
        python_counts = [(strategy, args.python_reference, args.python, strategy)
                         for strategy in args.python_strategy or ["naive"]] if args.python_reference else ()
        document = count_document(args.build_dir, args.variants, steps, args.data, dict(args.program), args.repeat,
                                  python_counts, progress=log)
        counts = document["variants"]
        if args.repeat > 1:
            worst = max(row["max_relative_difference"] for row in counts.values())
            log(f"{args.repeat} measurements per variant: largest relative difference {worst:.3g}")
        for path in (args.write_baseline, args.output):
            if path:
                write_document(path, document)
                log(f"wrote {path}")
        disagreeing = disagreements(counts)
        if disagreeing:
            print("count_instructions: measurements disagree by more than "
                  f"{AGREEMENT:.1%}: " + "; ".join(disagreeing), file=sys.stderr)
            return 1
        return 0
    except CountError as error:
        print(f"count_instructions: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
