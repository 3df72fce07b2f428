"""Instructions per training step, counted by valgrind's callgrind: a
number the machine's load does not move, for regression checks.

A C variant's program (and the Rust one) trains a few steps with collection
on only inside model_train_step (--toggle-collect), the function that runs
once per step: forward, backward, Adam and the graph's release, with the
malloc, free and libm calls they make. The Python reference has no such
function: its count is (Ir(--steps N) - Ir(--steps 1)) / (N - 1) of whole
processes. A document (instructions.json, results/instructions_baseline.json):
{"tool", "valgrind", "steps", "toggle", "variants": {name: {...}},
 "baselines": {key: {...}}, "build": {compiler, flags, sanitize, libc, commit, dirty}}."""
import os
import re
import shutil
import tempfile

from . import runner
from .util import ResultsError, command_output, git_state, load_json, run_process

STEP_FUNCTION = "model_train_step"
DEFAULT_STEPS = 5
DEFAULT_TOLERANCE = 0.05  # a regression: more than this fraction above the baseline
AGREEMENT = 0.001  # two counts of one build must agree within this fraction
IDENTITY_KEYS = ("c_compiler", "build_type", "c_flags", "sanitize", "libc")


def callgrind(command, toggle=None, env=None):
    """Instructions callgrind collected over command (inside toggle only, if given)."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise ResultsError("valgrind is not installed")
    with tempfile.TemporaryDirectory(prefix="count-instructions-") as work:
        out = os.path.join(work, "callgrind.out")
        failure, _ = run_process([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                                  *([f"--toggle-collect={toggle}"] if toggle else []), *command],
                                 os.path.join(work, "run"), env=env)
        if failure:
            raise ResultsError(f"{' '.join(command)} under callgrind {failure}")
        with open(out, errors="replace") as profile:
            totals = [int(m.group(1)) for m in map(re.compile(r"(?:summary|totals):\s+(\d+)").match, profile) if m]
    if not totals or not totals[-1]:
        raise ResultsError(f"callgrind counted nothing{f' inside {toggle}' if toggle else ''} in {' '.join(command)}")
    return totals[-1]


def count_program(command, steps):
    instructions = callgrind(command + ["--steps", str(steps), "--samples", "0", "--quiet"], STEP_FUNCTION)
    return {"instructions_per_step": instructions / steps, "instructions": instructions, "steps": steps,
            "method": f"--toggle-collect={STEP_FUNCTION}, steps 1..{steps}"}


def count_variant(build_dir, variant, steps, data, program=None):
    program = program or os.path.join(build_dir, f"microgpt-{variant}")
    if not os.access(program, os.X_OK):
        raise ResultsError(f"no program {program} (build first)")
    return count_program([program, "--data", data], steps)


def count_baseline(programs, baseline, steps, data):
    """A baseline's count: Rust by its step function, Python as a difference of whole processes."""
    if baseline.language == "rust":
        rust = os.path.join(programs.build_dir, "microgpt-rust")
        return count_program([rust, "--strategy", baseline.strategy, "--data", data], steps)
    steps = max(steps, 2)
    script = os.path.join(runner.BASELINES_DIR, "microgpt_reference.py")
    env = dict(os.environ, PYTHONHASHSEED="0")  # random hash seeds moved --strategy both's count by 1%

    def total(n):
        return callgrind([programs.python, script, "--strategy", baseline.strategy, "--steps", str(n), "--samples",
                          "0", "--quiet", "--data", data], env=env)

    difference = total(steps) - total(1)
    return {"instructions_per_step": difference / (steps - 1), "instructions": difference, "steps": steps - 1,
            "method": f"whole process: (Ir(--steps {steps}) - Ir(--steps 1)) / {steps - 1}"}


def build_identity(build_dir):
    """What a count depends on besides the source (harness/CMakeLists.txt writes generated/build_flags.json)."""
    flags = load_json(os.path.join(build_dir, "generated", "build_flags.json"), "configure the build with CMake")
    # Warnings do not shape the code: a new -W flag does not retire a baseline.
    code_flags = " ".join(f for f in flags["c_flags"].split() if not re.match(r"-W(?![alp],)", f))
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else "unknown"
    return {"c_compiler": flags["c_compiler"], "build_type": flags["build_type"], "c_flags": code_flags,
            "sanitize": bool(flags["sanitize"]), "libc": libc}


def document(build_dir, variants, steps, data, progress, programs=None, baselines=()):
    counts = {}
    for variant in variants:
        counts[variant] = count_variant(build_dir, variant, steps, data)
        progress(f"{variant}: {counts[variant]['instructions_per_step']:,.0f} instructions/step")
    result = {"tool": "callgrind", "valgrind": command_output(["valgrind", "--version"]), "steps": steps,
              "toggle": STEP_FUNCTION, "variants": counts,
              "build": dict(build_identity(build_dir), **{k: v for k, v in git_state(exclude=("results",)).items()
                                                         if k in ("commit", "dirty")})}
    for baseline in baselines:
        row = result.setdefault("baselines", {})[baseline.key] = count_baseline(programs, baseline, steps, data)
        progress(f"{baseline.label}: {row['instructions_per_step']:,.0f} instructions/step")
    return result


def skip_reason(build_dir, recorded):
    """Why this build's counts cannot be held to a baseline recorded with `recorded`, or None."""
    if not shutil.which("valgrind"):
        return "valgrind is not installed"
    identity = build_identity(build_dir)
    if identity["sanitize"]:
        return "a sanitizer build (its instructions are the sanitizer's as much as the program's)"
    differences = [f"{key} '{identity[key]}' (baseline '{recorded.get(key)}')" for key in IDENTITY_KEYS
                   if identity[key] != recorded.get(key)]
    return "not comparable with the baseline's build: " + "; ".join(differences) if differences else None


def compare(counts, baseline, tolerance):
    """(regressions, notes), one line each with both numbers."""
    regressions, notes = [], []
    for name, row in counts.items():
        now, base = row["instructions_per_step"], baseline.get(name, {}).get("instructions_per_step")
        if base is None:
            notes.append(f"{name}: {now:,.0f} instructions/step, not in the baseline (make instructions-baseline adds it)")
            continue
        line = f"{name}: {now:,.0f} instructions/step, baseline {base:,.0f} ({now / base - 1:+.2%})"
        if now / base - 1 < -tolerance:
            line += f": more than {tolerance:.0%} cheaper; make instructions-baseline records it"
        (regressions if now / base - 1 > tolerance else notes).append(line)
    notes += [f"{name}: in the baseline but not counted" for name in sorted(set(baseline) - set(counts))]
    return regressions, notes
