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

Importable: count_instructions(build_dir, variants, steps) and
count_python(reference, python, data, steps, strategy); standard library only.
Exit status: 0 on success, 1 on a regression or disagreeing repeats, 2 on bad
input, 77 when --check does not apply.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOL = "callgrind"
# The function engine/model.c runs once per training step (static: one per
# program, so the name is unique in microgpt-<variant>).
STEP_FUNCTION = "model_train_step"
DEFAULT_STEPS = 5
# A regression: more than this fraction above the baseline.
DEFAULT_TOLERANCE = 0.05
# Two measurements of one variant must agree within this fraction.
AGREEMENT = 0.001
SKIP_EXIT = 77


class CountError(Exception):
    """A count that could not be made: one line for stderr."""


def valgrind_path():
    return shutil.which("valgrind")


def callgrind_instructions(command, toggle=None, cwd=None):
    """Instructions (Ir) callgrind collected over command; inside toggle only if given."""
    valgrind = valgrind_path()
    if not valgrind:
        raise CountError("valgrind is not installed")
    with tempfile.TemporaryDirectory(prefix="count-instructions-") as work:
        out_file = os.path.join(work, "callgrind.out")
        valgrind_command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out_file}"]
        if toggle:
            valgrind_command.append(f"--toggle-collect={toggle}")
        completed = subprocess.run(valgrind_command + command, cwd=cwd, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True, check=False)
        if completed.returncode != 0:
            last = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            raise CountError(f"{' '.join(command)} under callgrind exited with {completed.returncode}: {last[0]}")
        instructions = None
        with open(out_file, encoding="utf-8", errors="replace") as profile:
            for line in profile:
                match = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if match:
                    instructions = int(match.group(1))
    if not instructions:
        where = f" inside {toggle}" if toggle else ""
        raise CountError(f"callgrind collected no instructions{where} for {' '.join(command)}"
                         + (f" (is {toggle} a function of the program?)" if toggle else ""))
    return instructions


def list_variants(build_dir):
    """The variants of a build, from its harness's registry."""
    harness = os.path.join(build_dir, "microgpt-bench")
    try:
        completed = subprocess.run([harness, "--list-variants"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise CountError(f"cannot list the variants with {harness}: {error}") from error
    return completed.stdout.split()


def variant_command(program, steps, data=None):
    command = [program, "--steps", str(steps), "--samples", "0", "--quiet"]
    if data:
        command += ["--data", data]
    return command


def count_variant(program, steps, data=None, repeat=1):
    """One variant's counts: repeat measurements of steps steps in model_train_step."""
    if not os.access(program, os.X_OK):
        raise CountError(f"no program {program} (build first)")
    measurements = [callgrind_instructions(variant_command(program, steps, data), STEP_FUNCTION)
                    for _ in range(repeat)]
    row = {"instructions_per_step": measurements[0] / steps, "instructions": measurements[0], "steps": steps,
           "method": f"--toggle-collect={STEP_FUNCTION}, steps 1..{steps}"}
    if repeat > 1:
        row["measurements"] = measurements
        row["max_relative_difference"] = (max(measurements) - min(measurements)) / min(measurements)
    return row


def count_instructions(build_dir, variants=None, steps=DEFAULT_STEPS, data=None, programs=None, repeat=1,
                       progress=None):
    """{variant: {"instructions_per_step": float, "instructions": int, "steps": int, ...}}.

    variants: names (default: every variant of the build); programs: {name:
    path} to count another program under a variant's name (default
    build_dir/microgpt-<name>); progress: called with a line per variant."""
    if variants is None:
        variants = list_variants(build_dir)
    programs = programs or {}
    counts = {}
    for name in variants:
        program = programs.get(name, os.path.join(build_dir, f"microgpt-{name}"))
        counts[name] = count_variant(program, steps, data, repeat)
        if progress:
            progress(f"{name}: {counts[name]['instructions_per_step']:,.0f} instructions/step")
    return counts


def count_python(reference, python, data, steps, strategy="naive"):
    """The Python reference's instructions per step: the whole-process
    difference between --steps steps and --steps 1, over steps - 1 steps."""
    if steps < 2:
        raise CountError("the Python count needs at least 2 steps (a difference of two runs)")

    def total(step_count):
        command = [python, reference, "--steps", str(step_count), "--samples", "0", "--quiet",
                   "--strategy", strategy]
        if data:
            command += ["--data", data]
        return callgrind_instructions(command)

    one, many = total(1), total(steps)
    return {"instructions_per_step": (many - one) / (steps - 1), "instructions": many - one, "steps": steps - 1,
            "method": f"whole process: (Ir(--steps {steps}) - Ir(--steps 1)) / {steps - 1}, steps 2..{steps}",
            "python": python, "strategy": strategy}


def read_cmake_cache(build_dir):
    cache = {}
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as lines:
            for line in lines:
                match = re.match(r"([A-Za-z0-9_]+):[A-Z]+=(.*)$", line.rstrip("\n"))
                if match:
                    cache[match.group(1)] = match.group(2)
    except OSError as error:
        raise CountError(f"{build_dir} is not a CMake build directory: {error}") from error
    return cache


def git_commit(source_dir):
    def git(*arguments):
        completed = subprocess.run(["git", "-C", source_dir, *arguments], capture_output=True, text=True,
                                   check=False)
        return completed.stdout.strip() if completed.returncode == 0 else None
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=all", "--", ".", ":!results")
    return commit, bool(status)


def code_flags(flags):
    """The flags that shape the generated code: warnings (-W..., not -Wl, and
    the like) are left out, so a new warning does not retire the baseline."""
    return " ".join(flag for flag in flags.split() if not re.match(r"-W(?![alp],)", flag))


def build_identity(build_dir):
    """What an instruction count depends on besides the source: the compiler,
    its flags, the sanitizer switch (harness/CMakeLists.txt writes them to
    generated/build_flags.json) and the C library (malloc, libm)."""
    path = os.path.join(build_dir, "generated", "build_flags.json")
    try:
        with open(path, encoding="utf-8") as text:
            flags = json.load(text)
        identity = {"c_compiler": flags["c_compiler"], "build_type": flags["build_type"],
                    "c_flags": code_flags(flags["c_flags"]), "sanitize": bool(flags["sanitize"])}
    except (OSError, ValueError, KeyError) as error:
        raise CountError(f"cannot read {path} (configure the build with CMake): {error}") from error
    identity["libc"] = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else "unknown"
    return identity


# The keys of build_identity that must match for counts to be comparable.
IDENTITY_KEYS = ("c_compiler", "build_type", "c_flags", "sanitize", "libc")


def valgrind_version():
    completed = subprocess.run([valgrind_path(), "--version"], capture_output=True, text=True, check=False)
    return completed.stdout.strip()


def compare_with_baseline(counts, baseline_variants, tolerance=DEFAULT_TOLERANCE):
    """(regressions, notes): one line each, with both numbers."""
    regressions, notes = [], []
    for name, row in counts.items():
        now = row["instructions_per_step"]
        base = baseline_variants.get(name, {}).get("instructions_per_step")
        if base is None:
            notes.append(f"{name}: {now:,.0f} instructions/step, not in the baseline "
                         "(make instructions-baseline adds it)")
            continue
        change = now / base - 1.0
        line = f"{name}: {now:,.0f} instructions/step, baseline {base:,.0f} ({change:+.2%})"
        if change > tolerance:
            regressions.append(f"{line}: more than {tolerance:.0%} above the baseline")
        elif change < -tolerance:
            notes.append(f"{line}: more than {tolerance:.0%} cheaper; make instructions-baseline records it")
        else:
            notes.append(line)
    for name in sorted(set(baseline_variants) - set(counts)):
        notes.append(f"{name}: in the baseline but not counted (removed or not selected)")
    return regressions, notes


def write_json(path, document):
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, sort_keys=True)
            out.write("\n")
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would follow the file into git
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


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


def log(message):
    print(message, flush=True)


def run_check(args):
    try:
        with open(args.check, encoding="utf-8") as text:
            baseline = json.load(text)
        baseline_variants = baseline["variants"]
        steps = int(baseline["steps"]) if args.steps is None else args.steps
        recorded = baseline["build"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"count_instructions: cannot read the baseline {args.check}: {error}", file=sys.stderr)
        return 2
    if not valgrind_path():
        log("skipped: valgrind is not installed")
        return SKIP_EXIT
    identity = build_identity(args.build_dir)
    if identity["sanitize"]:
        log("skipped: a sanitizer build (its instructions are the sanitizer's as much as the program's)")
        return SKIP_EXIT
    differences = [f"{key} '{identity[key]}' (baseline '{recorded.get(key)}')" for key in IDENTITY_KEYS
                   if identity[key] != recorded.get(key)]
    if differences:
        log("skipped: this build's counts are not comparable with the baseline's: " + "; ".join(differences))
        return SKIP_EXIT
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
        counts = count_instructions(args.build_dir, args.variants, steps, args.data, dict(args.program),
                                    args.repeat, progress=log)
        document = {"tool": TOOL, "valgrind": valgrind_version(), "steps": steps, "toggle": STEP_FUNCTION,
                    "variants": counts, "build": build_identity(args.build_dir)}
        commit, dirty = git_commit(read_cmake_cache(args.build_dir).get("CMAKE_HOME_DIRECTORY", "."))
        document["build"].update({"commit": commit, "dirty": dirty})
        if args.python_reference:
            document["python"] = {}
            for strategy in args.python_strategy or ["naive"]:
                row = count_python(args.python_reference, args.python, args.data, max(steps, 2), strategy)
                document["python"][strategy] = row
                log(f"python {strategy}: {row['instructions_per_step']:,.0f} instructions/step")
        disagreeing = [f"{name}: {row['measurements']}" for name, row in counts.items()
                       if row.get("max_relative_difference", 0.0) > AGREEMENT]
        if args.repeat > 1:
            worst = max(row["max_relative_difference"] for row in counts.values())
            log(f"{args.repeat} measurements per variant: largest relative difference {worst:.3g}")
        if args.write_baseline:
            write_json(args.write_baseline, document)
            log(f"wrote {args.write_baseline}")
        if args.output:
            write_json(args.output, document)
            log(f"wrote {args.output}")
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
