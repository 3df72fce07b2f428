"""bench_results: reading one `make bench` run, shared by the bench scripts.

A run is two files in one directory (results/ by default):
  benchmark.json  Google Benchmark's JSON (one process per variant, their
                  "benchmarks" lists concatenated; the source of truth);
  run.json        what Google Benchmark cannot hold: the settings, machine,
                  compiler, git commit, each variant's process outcome, and the
                  Python reference's timings.
rows() turns them into one row per version (Python baselines first, then
the C variants) for the table and the plots. Every file is written through
atomic_write: a temporary file beside the target, renamed over it.
"""
import json
import os
import tempfile

BENCHMARK_FILE = "benchmark.json"
RUN_FILE = "run.json"
TIME_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# Python baselines: label and the reference's --strategy.
PYTHON_BASELINES = (("Original Python", "naive"), ("Optimized Python", "both"))
REFERENCE_VARIANT = "naive"


class ResultsError(Exception):
    """A results file is missing or malformed: one line for the user."""


def atomic_write(path, data):
    """Writes bytes or text to path so that readers see the old file or the
    whole new one, never a part (temporary file + fsync + os.replace)."""
    directory = os.path.dirname(os.path.abspath(path))
    if isinstance(data, str):
        data = data.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def json_text(value):
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found (run `make bench` first)") from None
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read: {error}") from None


def load_run(directory):
    """(benchmark JSON, run JSON) of the run in directory."""
    return load_json(os.path.join(directory, BENCHMARK_FILE)), load_json(os.path.join(directory, RUN_FILE))


def median_entries(benchmark_json, key_of):
    """{key: entry}: the median aggregate of each benchmark, or its single run
    when it ran without repetitions. key_of maps a benchmark's name, split at
    '/', to its key, or to None to leave it out."""
    medians, singles = {}, {}
    for entry in benchmark_json.get("benchmarks", []):
        key = key_of(entry.get("run_name", entry["name"]).split("/"))
        if key is None:
            continue
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                medians[key] = entry
        elif entry.get("repetition_index", 0) == 0:
            singles[key] = entry
    singles.update(medians)
    return singles


def benchmark_entries(benchmark_json):
    """{(kind, variant): entry}, kind train_full, train_k, forward, backward or update."""
    return median_entries(benchmark_json, lambda parts: (parts[0], parts[1]) if len(parts) >= 2 else None)


def entry_seconds(entry):
    """The entry's time per iteration (real time: the manual time) in seconds."""
    return entry["real_time"] * TIME_UNIT_SECONDS[entry.get("time_unit", "ns")]


def _c_row(variant, entries, outcome):
    status = outcome.get("status", "ok")
    full, short = entries.get(("train_full", variant)), entries.get(("train_k", variant))
    row = {"version": variant, "kind": "c", "variant": variant, "status": status,
           "full_seconds": None, "full_estimated": False, "k_seconds": None,
           "final_loss": None, "mean_loss": None, "loss_steps": None,
           "nodes_per_step": None, "nodes_steps": None, "k_nodes_per_step": None,
           "k_final_loss": None, "k_mean_loss": None,
           "phases": {}}
    if status == "ok":
        if full is None or short is None:
            row["status"] = "failed: no train_full/train_k result in the benchmark JSON"
            return row
        row["status"] = full.get("label", "") or "unchecked"
        row["full_seconds"] = entry_seconds(full)
        row["k_seconds"] = entry_seconds(short)
        row["final_loss"], row["mean_loss"] = full["final_loss"], full["mean_loss"]
        row["loss_steps"] = row["nodes_steps"] = int(full["steps"])
        row["nodes_per_step"] = full["nodes_per_step"]
        row["k_nodes_per_step"] = short["nodes_per_step"]
        row["k_final_loss"], row["k_mean_loss"] = short["final_loss"], short["mean_loss"]
        for phase in ("forward", "backward", "update"):
            if (phase, variant) in entries:
                row["phases"][phase] = entry_seconds(entries[(phase, variant)])
    return row


def _python_row(label, report, settings):
    row = {"version": label, "kind": "python", "variant": None, "status": report.get("status", "ok"),
           "full_seconds": None, "full_estimated": False, "k_seconds": None,
           "final_loss": None, "mean_loss": None, "loss_steps": None,
           "nodes_per_step": None, "nodes_steps": None, "k_nodes_per_step": None,
           "k_final_loss": None, "k_mean_loss": None, "losses": None, "phases": {}}
    if row["status"] != "ok":
        return row
    steps, measured = settings["steps"], report["steps"]
    seconds = report["train_seconds"]
    if measured == steps:
        row["full_seconds"] = seconds
    else:
        row["full_seconds"], row["full_estimated"] = seconds * steps / measured, True
    if measured == settings["k_steps"]:
        row["k_seconds"] = seconds
        row["k_nodes_per_step"] = report["nodes"]["mean"]
        row["k_final_loss"], row["k_mean_loss"] = report["final_loss"], report["mean_loss"]
    row["final_loss"], row["mean_loss"], row["loss_steps"] = report["final_loss"], report["mean_loss"], measured
    row["nodes_per_step"], row["nodes_steps"] = report["nodes"]["mean"], measured
    row["losses"] = report.get("losses")
    return row


def rows(benchmark_json, run_json):
    """One row per version: the Python baselines, the reference C variant,
    then the other variants from the slowest full run to the fastest (the
    road from the reference's graph to the floor), then those with wrong
    gradients or a failure. Each row is a dict of
    version, kind, status, full_seconds (full_estimated), k_seconds, losses,
    graph sizes and phase times (seconds); None where not measured."""
    settings = run_json["settings"]
    entries = benchmark_entries(benchmark_json)
    result = []
    for label, strategy in PYTHON_BASELINES:
        report = run_json.get("python", {}).get(strategy)
        if report is not None:
            result.append(_python_row(label, report, settings))
    variants = run_json.get("variants", [])
    c_rows = [_c_row(outcome["name"], entries, outcome) for outcome in variants]
    reference = [row for row in c_rows if row["version"] == REFERENCE_VARIANT]
    others = [row for row in c_rows if row["version"] != REFERENCE_VARIANT]
    sound = [row for row in others if not row["status"].startswith(("wrong", "failed", "unchecked"))]
    unsound = [row for row in others if row not in sound]
    sound.sort(key=lambda row: -(row["full_seconds"] if row["full_seconds"] is not None else 0.0))
    return result + reference + sound + unsound


def is_failure(status):
    """Statuses that make `make bench` exit non-zero."""
    return status.startswith("failed") or status == "wrong gradients" or status == "unchecked"
