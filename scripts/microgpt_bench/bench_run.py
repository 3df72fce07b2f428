"""One `make bench` run: its settings, its files and its rows.

A run is a directory (results/ by default) holding
  run.json                  the settings, machine, compiler, git state, and
                            per round: the order the variants ran in, each
                            process's outcome and the baselines' reports;
  benchmark-round-NN.json   Google Benchmark JSON of round NN (the source of
                            truth): every variant's process of that round,
                            their "benchmarks" concatenated;
  instructions.json         instructions per training step (callgrind) of the
                            C variants and the Python reference, when counted
                            (instructions.py);
  step_times.json           every step's time of round 1's train_full run of
                            each variant (step_times.py), and its plot
                            step_time.png.
rows() turns them into one row per version: the baselines (Python, then
PyTorch) first, then the C variants, each with its value in
every round it was measured in.
"""
import collections
import os
import re

from . import checks, instructions, stats, step_times
from .files import ResultsError, load_json
from .metadata import PROJECT_DIR
from .processes import log

RUN_FILE = "run.json"
INSTRUCTIONS_FILE = "instructions.json"
ROUND_FILE_PATTERN = re.compile(r"^benchmark-round-\d+\.json$")
# benchmark.json: the single file of runs before the rounds; a new run removes it.
STALE_FILES = ("benchmark.json", INSTRUCTIONS_FILE, step_times.FILE)
DEFAULT_OUTPUT_DIR = os.path.join(PROJECT_DIR, "results")
SCRIPTS_DIR = os.path.join(PROJECT_DIR, "scripts")

# The settings of `make bench` with nothing set. A run with all of them (and
# results/ as its directory) may write README.md's table by default; any
# other run only when asked (README=...).
DEFAULTS = {
    "steps": 1000,
    "k_steps": 300,  # keeps `make bench` to minutes: the reference needs ~0.34 s a step
    "rounds": 5,
    "baseline_rounds": 3,  # of the first rounds; Original Python takes ~100 s a round
    "phase_iterations": 500,
    "full": False,
    "variants": None,  # all the harness has
    "baselines": True,
    "data": None,
    # the regression baseline's steps (results/instructions_baseline.json):
    # the table's counts and the `instructions` test count the same steps
    "instruction_steps": instructions.DEFAULT_STEPS,
}
PHASES = ("forward", "backward", "update")

REFERENCE_VARIANT = "naive"
Baseline = collections.namedtuple("Baseline", "key label script arguments")
# Baseline programs, run as `SCRIPT ARGUMENTS... --steps N --quiet --report
# FILE [--data PATH]`; each writes a JSON report like
# scripts/microgpt_reference.py's. The first is the reference of the rest.
PYTHON_BASELINES = (
    Baseline("naive", "Original Python", "microgpt_reference.py", ("--strategy", "naive", "--samples", "0")),
    Baseline("both", "Optimized Python", "microgpt_reference.py", ("--strategy", "both", "--samples", "0")))
TORCH_BASELINES = (Baseline("torch_position", "PyTorch (per position)", "microgpt_torch.py", ("--mode", "position")),
                   Baseline("torch_sequence", "PyTorch (whole sequence)", "microgpt_torch.py", ("--mode", "sequence")))


def python_strategy(baseline):
    """The reference's --strategy a baseline runs, or None when it is not
    scripts/microgpt_reference.py (PyTorch: not counted)."""
    arguments = list(baseline.arguments)
    if baseline.script != "microgpt_reference.py" or "--strategy" not in arguments:
        return None
    return arguments[arguments.index("--strategy") + 1]


def count_run_instructions(build_dir, variants, steps, data=None, python_rows=(), progress=None):
    """(instructions.json's content or None, a line for the log and the
    table's notes). python_rows: (baseline key, interpreter, strategy) of
    each Python row to count. A count that fails leaves its cells "not
    counted", with its error in the line; the run goes on."""
    try:
        document = instructions.count_document(build_dir, variants, steps, data, progress=progress)
    except (ResultsError, OSError) as error:
        return None, f"not counted: {error}"
    note = f"callgrind over {steps} steps, the C rows inside {instructions.STEP_FUNCTION} only"
    python_steps, failures = max(steps, 2), []
    for key, python, strategy in python_rows:
        try:
            row = instructions.count_python(os.path.join(SCRIPTS_DIR, "microgpt_reference.py"), python, data,
                                            python_steps, strategy)
        except (ResultsError, OSError) as error:
            failures.append(f"Python {key} not counted: {error}")
            continue
        document.setdefault("python", {})[key] = row
        if progress:
            progress(f"Python {key}: {row['instructions_per_step']:,.0f} instructions/step")
    if document.get("python"):
        note += (f"; the Python rows as whole processes, (Ir(--steps {python_steps}) - Ir(--steps 1)) / "
                 f"{python_steps - 1}")
    return document, "; ".join([note] + failures)


def round_file(number):
    return f"benchmark-round-{number:02d}.json"


# The baseline programs of a run, in the table's order.
BASELINES = PYTHON_BASELINES + TORCH_BASELINES


def non_default_settings(settings, output_dir):
    """["NAME=value", ...] of the settings that differ from DEFAULTS, and the
    output directory if it is not results/: empty for a default run."""
    differ = [f"{name.upper()}={settings.get(name)}" for name, value in DEFAULTS.items()
              if settings.get(name) != value]
    if os.path.abspath(output_dir) != DEFAULT_OUTPUT_DIR:
        differ.append(f"RESULTS_DIR={output_dir}")
    return differ


def readme_target(readme, readme_if_default, settings, output_dir):
    """The README a run's table goes into: readme (asked for), else
    readme_if_default when the run has the default settings in results/,
    else None, after one line saying which settings differ."""
    if readme or not readme_if_default:
        return readme
    differ = non_default_settings(settings, output_dir)
    if not differ:
        return readme_if_default
    log(f"{readme_if_default} left as it is: not the default settings ({' '.join(differ)}); "
        f"README={readme_if_default} writes its table anyway")
    return None


Run = collections.namedtuple("Run", "run rounds instructions")


def load_run(directory):
    """The run in directory: run.json, each round's benchmark JSON (None for
    a round with no file) and the instruction counts (None if not counted)."""
    run_json = load_json(os.path.join(directory, RUN_FILE))
    if "rounds" not in run_json:
        raise ResultsError(f"{os.path.join(directory, RUN_FILE)}: a run from before the rounds (no \"rounds\" in it); "
                           "run `make bench` again")
    rounds = [load_json(os.path.join(directory, r["file"])) if r.get("file") else None
              for r in run_json.get("rounds", [])]
    counted = run_json.get("instructions", {}).get("file")
    instructions = load_json(os.path.join(directory, counted)) if counted else None
    return Run(run_json, rounds, instructions)


def run_context(run):
    """The harness's JSON context of the run's first round that has one."""
    return next((round_json.get("context", {}) for round_json in run.rounds if round_json), {})


def entry_seconds(entry):
    """The entry's time per iteration (real time: the manual time) in seconds."""
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    return entry["real_time"] * units[entry.get("time_unit", "ns")]


def benchmark_entries(benchmark_json):
    """{(kind, variant): entry} of one round, kind train_full, train_k,
    forward, backward or update (the first entry of each: one per round)."""
    entries = {}
    for entry in (benchmark_json or {}).get("benchmarks", []):
        parts = entry.get("run_name", entry["name"]).split("/")
        if len(parts) >= 2 and entry.get("run_type", "iteration") == "iteration":
            entries.setdefault((parts[0], parts[1]), entry)
    return entries


def _empty_row(version, kind):
    return {"version": version, "kind": kind, "check": checks.UNCHECKED, "status": checks.UNCHECKED,
            "full": {}, "k": {}, "phases": {}, "full_estimated": False, "full_spread": None, "k_spread": None,
            "final_loss": None, "mean_loss": None, "loss_steps": None, "nodes_per_step": None, "nodes_steps": None,
            "k_nodes_per_step": None, "k_final_loss": None, "k_mean_loss": None, "losses": None,
            "instructions_per_step": None}


def _c_row(variant, outcome, rounds, run_rounds, instructions):
    row = _empty_row(variant, "c")
    row["variant"] = variant
    counted = (instructions or {}).get("variants", {}).get(variant, {})
    row["instructions_per_step"] = counted.get("instructions_per_step")
    if outcome.get("status", "ok") != "ok":
        row["check"], row["status"] = checks.FAILED, outcome["status"]
        return row
    first = None
    for record, round_json in zip(run_rounds, rounds):
        entries = benchmark_entries(round_json)
        full, short = entries.get(("train_full", variant)), entries.get(("train_k", variant))
        if full is None or short is None:
            continue
        number = record["round"]
        row["full"][number], row["k"][number] = entry_seconds(full), entry_seconds(short)
        for phase in PHASES:
            if (phase, variant) in entries:
                row["phases"].setdefault(phase, {})[number] = entry_seconds(entries[(phase, variant)])
        first = first or (full, short)
    if first is None:
        row["check"], row["status"] = checks.FAILED, "failed: no train_full/train_k result in the benchmark JSON"
        return row
    full, short = first
    row["check"], row["status"] = checks.verdict(full), checks.status_text(full)
    row["final_loss"], row["mean_loss"] = full["final_loss"], full["mean_loss"]
    row["loss_steps"] = row["nodes_steps"] = int(full["steps"])
    row["nodes_per_step"], row["k_nodes_per_step"] = full["nodes_per_step"], short["nodes_per_step"]
    row["k_final_loss"], row["k_mean_loss"] = short["final_loss"], short["mean_loss"]
    return row


def _baseline_row(baseline, run_rounds, settings, reference, instructions):
    """A baseline program's row; reference is the reference baseline's row,
    None for the reference itself. Its check: EXACT for the reference and for
    a program with the reference's losses bit for bit, TOLERANT (shown, not
    a failure) for other losses or none to compare with, FAILED when a
    round's run failed."""
    row = _empty_row(baseline.label, "baseline")
    row["key"] = baseline.key
    # count_instructions.py's CLI writes the Python reference's counts under "python", by strategy
    counted = (instructions or {}).get("python", {}).get(baseline.key, {})
    row["instructions_per_step"] = counted.get("instructions_per_step")
    reports = [(r["round"], r["baselines"][baseline.key]) for r in run_rounds if baseline.key in r.get("baselines", {})]
    if not reports:
        return None
    unavailable = [report["status"] for _, report in reports if report.get("not_measured")]
    if unavailable:
        row["check"], row["status"] = checks.NOT_MEASURED, unavailable[0]
        return row
    failed = [report["status"] for _, report in reports if report.get("status", "ok") != "ok"]
    if failed:
        row["check"], row["status"] = checks.FAILED, failed[0]
        return row
    steps = settings["steps"]
    for number, report in reports:
        measured, seconds = report["steps"], report["train_seconds"]
        row["full"][number] = seconds * steps / measured
        if measured == settings["k_steps"]:
            row["k"][number] = seconds
    report = reports[0][1]
    measured = report["steps"]
    row["full_estimated"] = measured != steps
    row["final_loss"], row["mean_loss"], row["loss_steps"] = report["final_loss"], report["mean_loss"], measured
    row["nodes_per_step"], row["nodes_steps"] = report["nodes"]["mean"], measured
    if measured == settings["k_steps"]:
        row["k_nodes_per_step"] = report["nodes"]["mean"]
        row["k_final_loss"], row["k_mean_loss"] = report["final_loss"], report["mean_loss"]
    row["losses"] = report.get("losses")
    if reference is None:
        row["check"], row["status"] = checks.EXACT, "reference"
    elif reference["check"] == checks.FAILED or reference["losses"] is None or row["losses"] is None:
        row["check"], row["status"] = checks.TOLERANT, "not compared"
    elif row["losses"] == reference["losses"]:
        row["check"], row["status"] = checks.EXACT, "bit-exact"
    else:
        difference = max_loss_difference(row["losses"], reference["losses"])
        row["check"] = checks.TOLERANT
        row["status"] = (f"within tol {difference:.2g}" if difference <= LOSS_TOLERANCE
                         else f"losses differ from the reference by up to {difference:.2g}")
    return row


# The most a reordered sum may move a run's losses (the variants' cap,
# VARIANT_MAX_TOLERANCE in engine/variant_contract.h).
LOSS_TOLERANCE = 1e-9


def max_loss_difference(losses, reference_losses):
    """max |loss - reference| over the steps both ran; inf when they ran different steps."""
    if len(losses) != len(reference_losses):
        return float("inf")
    return max(abs(a - b) for a, b in zip(losses, reference_losses))


def _summarise(row):
    row["full_spread"] = stats.spread(row["full"].values())
    row["k_spread"] = stats.spread(row["k"].values())
    row["phase_medians"] = {phase: stats.spread(values.values()).median for phase, values in row["phases"].items()}
    return row


def rows(run):
    """One row per version: the baselines, the reference C variant, then the
    other variants from the slowest full run to the fastest (median), then
    those with wrong gradients or a failure. A row is a dict of version,
    kind ("baseline" or "c"), check (checks.*), status (text), full and k
    ({round: seconds} of the full run and of the first K steps), phases
    ({phase: {round: seconds}}), their spreads (stats.Spread), losses, graph
    sizes and instructions_per_step; None where not measured."""
    run_json = run.run
    settings, run_rounds = run_json["settings"], run_json.get("rounds", [])
    result = []
    for baseline in run_json.get("baselines", []):
        row = _baseline_row(Baseline(**baseline), run_rounds, settings, result[0] if result else None,
                            run.instructions)
        if row is not None:
            result.append(_summarise(row))
    c_rows = [_summarise(_c_row(outcome["name"], outcome, run.rounds, run_rounds, run.instructions))
              for outcome in run_json.get("variants", [])]
    reference = [row for row in c_rows if row["version"] == REFERENCE_VARIANT]
    others = [row for row in c_rows if row["version"] != REFERENCE_VARIANT]
    sound = sorted((row for row in others if checks.is_result(row["check"])), key=lambda row: -row["full_spread"].median)
    unsound = [row for row in others if not checks.is_result(row["check"])]
    return result + reference + sound + unsound


def row_by_version(all_rows, version):
    return next((row for row in all_rows if row["version"] == version), None)


def reference_rows(all_rows):
    """(the reference baseline's row, the reference C variant's row), each
    None when missing or failed."""
    python = all_rows[0] if all_rows and all_rows[0]["kind"] == "baseline" else None
    naive = row_by_version(all_rows, REFERENCE_VARIANT)
    return (python if python and python["check"] != checks.FAILED else None,
            naive if naive and naive["check"] != checks.FAILED else None)
