"""Instructions per training step, counted by valgrind's callgrind.

A C variant's program (build/microgpt-<variant>) trains for a few steps under
callgrind with collection switched on only inside model_train_step
(--toggle-collect): the function engine/model.c runs once per step (forward,
backward, Adam, graph release, and the malloc, free and libm calls they
make). Model creation, the dataset and process start-up are not counted. The
count is a property of the program and its inputs, not of the machine's
load: a second measurement gives the same number.

The Python reference (scripts/microgpt_reference.py) has no C function to
toggle on: its count is a difference of whole-process counts,
(Ir(--steps N) - Ir(--steps 1)) / (N - 1), so the steps 2..N (the C rows
count steps 1..N: the same documents but the first).

A document (instructions.json, results/instructions_baseline.json):
  {"tool": "callgrind", "valgrind": VERSION, "steps": N, "toggle": FUNCTION,
   "variants": {name: {"instructions_per_step": float, "instructions": int,
                       "steps": int, "method": text}},
   "python": {strategy: {...the same, "python", "strategy"}}   (when counted),
   "build": {compiler, flags, sanitize, libc, commit, dirty}}
Standard library only: the regression test runs it with any python3.
"""
import json
import os
import re
import shutil
import tempfile

from . import metadata
from .files import ResultsError, atomic_write, json_text
from .processes import command_output, process_failure, run_logged

TOOL = "callgrind"
# The function engine/model.c runs once per training step (static: one per
# program, so the name is unique in microgpt-<variant>).
STEP_FUNCTION = "model_train_step"
# Steps counted by default: the regression baseline's and `make bench`'s.
DEFAULT_STEPS = 5
# A regression: more than this fraction above the baseline.
DEFAULT_TOLERANCE = 0.05
# Two measurements of one variant must agree within this fraction.
AGREEMENT = 0.001
# The keys of build_identity that must match for counts to be comparable.
IDENTITY_KEYS = ("c_compiler", "build_type", "c_flags", "sanitize", "libc")


class CountError(ResultsError):
    """A count that could not be made: one line for stderr."""


def valgrind_path():
    return shutil.which("valgrind")


def valgrind_version():
    return command_output([valgrind_path(), "--version"])


def callgrind_instructions(command, toggle=None, cwd=None, env=None):
    """Instructions (Ir) callgrind collected over command; inside toggle only
    if given; env: the command's environment (default: this process's)."""
    valgrind = valgrind_path()
    if not valgrind:
        raise CountError("valgrind is not installed")
    with tempfile.TemporaryDirectory(prefix="count-instructions-") as work:
        out_file = os.path.join(work, "callgrind.out")
        valgrind_command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out_file}"]
        if toggle:
            valgrind_command.append(f"--toggle-collect={toggle}")
        stdout, stderr = os.path.join(work, "out"), os.path.join(work, "err")
        try:
            returncode, _ = run_logged(valgrind_command + command, stdout, stderr, None, cwd=cwd, env=env)
        except OSError as error:
            raise CountError(f"cannot run {valgrind}: {error.strerror}") from None
        failure = process_failure(returncode, stderr, None)
        if failure:
            raise CountError(f"{' '.join(command)} under callgrind {failure}")
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
    output = command_output([harness, "--list-variants"])
    if output is None:
        raise CountError(f"cannot list the variants with {harness} --list-variants (build first)")
    return output.split()


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
    difference between --steps steps and --steps 1, over steps - 1 steps.
    String hashing is seeded the same in every run (PYTHONHASHSEED=0): with
    random seeds, the count of --strategy both moved by 1% between runs,
    with a fixed one by 0.03%."""
    if steps < 2:
        raise CountError("the Python count needs at least 2 steps (a difference of two runs)")

    def total(step_count):
        command = [python, reference, "--steps", str(step_count), "--samples", "0", "--quiet",
                   "--strategy", strategy]
        if data:
            command += ["--data", data]
        return callgrind_instructions(command, env=dict(os.environ, PYTHONHASHSEED="0"))

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


def build_record(build_dir):
    """build_identity plus the commit of the build's source and whether it
    differs from it (results/, where the counts go, left out)."""
    record = build_identity(build_dir)
    source = read_cmake_cache(build_dir).get("CMAKE_HOME_DIRECTORY", ".")
    git = metadata.git_state(source, exclude=("results",))
    record.update({"commit": git["commit"], "dirty": git["dirty"]})
    return record


def count_document(build_dir, variants=None, steps=DEFAULT_STEPS, data=None, programs=None, repeat=1,
                   python_counts=(), progress=None):
    """The whole document (see the module's header). python_counts:
    (key, reference script, interpreter, strategy) of each Python row to
    count under "python"; their steps are max(steps, 2)."""
    counts = count_instructions(build_dir, variants, steps, data, programs, repeat, progress)
    document = {"tool": TOOL, "valgrind": valgrind_version(), "steps": steps, "toggle": STEP_FUNCTION,
                "variants": counts, "build": build_record(build_dir)}
    if python_counts:
        document["python"] = {}
        for key, reference, python, strategy in python_counts:
            row = count_python(reference, python, data, max(steps, 2), strategy)
            document["python"][key] = row
            if progress:
                progress(f"python {key}: {row['instructions_per_step']:,.0f} instructions/step")
    return document


def disagreements(counts):
    """One text per variant whose repeated measurements differ by more than AGREEMENT."""
    return [f"{name}: {row['measurements']}" for name, row in counts.items()
            if row.get("max_relative_difference", 0.0) > AGREEMENT]


def write_document(path, document):
    """Atomically, keys sorted (the committed baseline diffs cleanly)."""
    atomic_write(path, json_text(document, sort_keys=True))


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


def load_baseline(path):
    """(the baseline's variants, its steps, its build record); a CountError if unreadable."""
    try:
        with open(path, encoding="utf-8") as text:
            baseline = json.load(text)
        return baseline["variants"], int(baseline["steps"]), baseline["build"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CountError(f"cannot read the baseline {path}: {error}") from None


def check_skip_reason(build_dir, recorded):
    """Why this build's counts cannot be checked against a baseline recorded
    with the build `recorded`, or None when they can."""
    if not valgrind_path():
        return "valgrind is not installed"
    identity = build_identity(build_dir)
    if identity["sanitize"]:
        return "a sanitizer build (its instructions are the sanitizer's as much as the program's)"
    differences = [f"{key} '{identity[key]}' (baseline '{recorded.get(key)}')" for key in IDENTITY_KEYS
                   if identity[key] != recorded.get(key)]
    if differences:
        return "this build's counts are not comparable with the baseline's: " + "; ".join(differences)
    return None

