"""One `make bench` run, read back: its files and one row per version.

A run is a directory: run.json (settings, machine, git state, each round's
order, outcomes and baseline reports), benchmark-round-NN.json (Google
Benchmark JSON of each round: the source of truth) and instructions.json.
A row holds a version's value in every round it ran in, and its verdict:
C rows from the gradient check the harness ran before timing (counters
gradient_status and expected_wrong), baseline rows from their losses
against the losses of naive (the reference's engine) over as many steps."""
import collections
import os
import re

from . import runner
from .util import ResultsError, load_json, round_ratios, spread

RUN_FILE, INSTRUCTIONS_FILE = "run.json", "instructions.json"
REFERENCE_VARIANT = "naive"
PHASES = ("forward", "backward", "update")
# The most a reordered sum may move a run's losses (VARIANT_MAX_TOLERANCE, engine/variant.h).
LOSS_TOLERANCE = 1e-9

# Verdicts. A result: EXACT, TOLERANT. Not a result: WRONG, NEGATIVE_CONTROL
# (wrong on purpose). A failure of the run: WRONG, FAILED, UNCHECKED.
EXACT, TOLERANT, WRONG, NEGATIVE_CONTROL = "exact", "tolerant", "wrong", "negative control"
FAILED, UNCHECKED, NOT_MEASURED = "failed", "unchecked", runner.NOT_MEASURED


def is_result(check):
    return check in (EXACT, TOLERANT)


def is_wrong(check):
    return check in (WRONG, NEGATIVE_CONTROL)


def is_failure(check):
    return check in (WRONG, FAILED, UNCHECKED)


def verdict(entry):
    """A harness entry's verdict, from its counters (engine/gradient_check.h: 0 bit-exact, 1 tolerant, 2 wrong)."""
    check = {0: EXACT, 1: TOLERANT, 2: WRONG}.get(int(entry.get("gradient_status", -1)), UNCHECKED)
    return NEGATIVE_CONTROL if check == WRONG and entry.get("expected_wrong") else check


Run = collections.namedtuple("Run", "run rounds instructions directory")


ROUND_PATTERN = re.compile(r"^benchmark-round-\d+\.json$")


def round_file(number):
    return f"benchmark-round-{number:02d}.json"


def load_run(directory):
    run_json = load_json(os.path.join(directory, RUN_FILE))
    if "rounds" not in run_json or "dataset" not in run_json:
        raise ResultsError(f"{directory}/{RUN_FILE}: a run of an older bench tool; run `make bench` again")
    rounds = [load_json(os.path.join(directory, r["file"])) if r.get("file") else None for r in run_json["rounds"]]
    counted = run_json.get("instructions", {}).get("file")
    return Run(run_json, rounds, load_json(os.path.join(directory, counted)) if counted else None, directory)


def context(run):
    return next((r.get("context", {}) for r in run.rounds if r), {})


def reference_losses(run_json, steps):
    """The losses of naive, the reference's engine, over a run of `steps` steps (the schedule depends on them)."""
    return run_json.get("reference_losses", {}).get(str(steps))


def _row(version, kind, key):
    return {"version": version, "kind": kind, "key": key, "check": UNCHECKED, "status": UNCHECKED, "full": {},
            "k": {}, "phases": {}, "full_estimated": False, "final_loss": None, "mean_loss": None, "loss_steps": None,
            "nodes_per_step": None, "bytes_per_step": None, "k_nodes_per_step": None,
            "instructions_per_step": None}


def _c_row(outcome, run):
    variant = outcome["name"]
    row = _row(variant, "c", variant)
    row["instructions_per_step"] = ((run.instructions or {}).get("variants", {}).get(variant) or {}).get(
        "instructions_per_step")
    if outcome["status"] != "ok":
        row["check"], row["status"] = FAILED, outcome["status"]
        return row
    first = None
    for record, round_json in zip(run.run["rounds"], run.rounds):
        found = runner.entries(round_json)
        full, short = found.get(("train_full", variant)), found.get(("train_k", variant))
        if full and short:
            number = record["round"]
            row["full"][number], row["k"][number] = runner.entry_seconds(full), runner.entry_seconds(short)
            for phase in PHASES:
                if (phase, variant) in found:
                    row["phases"].setdefault(phase, {})[number] = runner.entry_seconds(found[(phase, variant)])
            first = first or (full, short)
    if first is None:
        row["check"], row["status"] = FAILED, "failed: no train_full/train_k result in the benchmark JSON"
        return row
    full, short = first
    row.update(check=verdict(full), status=full.get("label") or UNCHECKED, final_loss=full["final_loss"],
               mean_loss=full["mean_loss"], loss_steps=int(full["steps"]), nodes_per_step=full["nodes_per_step"],
               bytes_per_step=full["bytes_per_step"], k_nodes_per_step=short["nodes_per_step"])
    return row


def losses_status(losses, reference):
    """(check, text) of a baseline's losses against the reference's, over the steps both ran."""
    steps = min(len(losses), len(reference))
    worst = max(abs(a - b) for a, b in zip(losses[:steps], reference[:steps]))
    if worst == 0:
        return EXACT, "bit-exact"
    return TOLERANT, (f"within tol {worst:.2g}" if worst <= LOSS_TOLERANCE else f"losses differ by up to {worst:.2g}")


def _baseline_row(baseline, run):
    row = _row(baseline.label, "baseline", baseline.key)
    row["language"] = baseline.language
    row["instructions_per_step"] = ((run.instructions or {}).get("baselines", {}).get(baseline.key) or {}).get(
        "instructions_per_step")
    reports = [(r["round"], r["baselines"][baseline.key]) for r in run.run["rounds"]
               if baseline.key in r.get("baselines", {})]
    if not reports:
        return None
    bad = [report for _, report in reports if report["status"] != "ok"]
    if bad:
        row["check"] = NOT_MEASURED if all(r.get("not_measured") for r in bad) else FAILED
        row["status"] = bad[0]["status"]
        return row
    steps, k_steps = run.run["settings"]["steps"], run.run["settings"]["k_steps"]
    for number, report in reports:
        row["full"][number] = report["train_seconds"] * steps / report["steps"]
        if report["steps"] == k_steps:
            row["k"][number] = report["train_seconds"]
        elif len(report.get("step_seconds", ())) >= k_steps:  # a full run that times each step (Rust)
            row["k"][number] = sum(report["step_seconds"][:k_steps])
    report = reports[0][1]
    measured = report["steps"]
    row.update(full_estimated=measured != steps, final_loss=report["final_loss"], mean_loss=report["mean_loss"],
               loss_steps=measured, nodes_per_step=(report.get("nodes") or {}).get("mean"), losses=report["losses"])
    if measured >= k_steps:
        row["k_nodes_per_step"] = row["nodes_per_step"] if measured == k_steps else None
    reference = reference_losses(run.run, measured)
    if reference is None:
        row["check"], row["status"] = TOLERANT, "not compared"
    else:
        row["check"], row["status"] = losses_status(report["losses"], reference)
        if baseline.key == "python_naive" and row["check"] == EXACT:
            row["status"] = "reference"
    return row


def summarise(row):
    row["full_spread"], row["k_spread"] = spread(row["full"].values()), spread(row["k"].values())
    row["phase_medians"] = {phase: spread(values.values()).median for phase, values in row["phases"].items()}
    return row


def rows(run):
    """The baselines, then the reference C variant, then the others from the
    slowest to the fastest (median of the full run), then those with wrong
    gradients or a failure."""
    baselines = [_baseline_row(runner.BASELINE_BY_KEY[key], run) for key in run.run.get("baselines", [])]
    c_rows = [summarise(_c_row(outcome, run)) for outcome in run.run["variants"]]
    sound = [r for r in c_rows if is_result(r["check"]) and r["version"] != REFERENCE_VARIANT]
    return ([summarise(r) for r in baselines if r] + [r for r in c_rows if r["version"] == REFERENCE_VARIANT] +
            sorted(sound, key=lambda r: -r["full_spread"].median) +
            [r for r in c_rows if not is_result(r["check"]) and r["version"] != REFERENCE_VARIANT])


def find(all_rows, key):
    return next((row for row in all_rows if row["key"] == key and row["check"] not in (FAILED, NOT_MEASURED)), None)


def comparable(row, full):
    """{round: seconds} on the span two rows compare: the full run (not an estimate), or the first K steps."""
    return ({} if row["full_estimated"] else row["full"]) if full else row["k"]


def speedups(row, all_rows, settings):
    """(vs Original Python, vs naive C): each a Spread of the ratio within rounds, or None."""
    python, naive = find(all_rows, "python_naive"), find(all_rows, REFERENCE_VARIANT)
    full = settings["python_steps"] == settings["steps"]
    versus_python = round_ratios(comparable(python, full), comparable(row, full)) if python else None
    span = row["kind"] == "c" or full or not row["full_estimated"]
    versus_naive = round_ratios(comparable(naive, span), comparable(row, span)) if naive else None
    return versus_python, versus_naive
