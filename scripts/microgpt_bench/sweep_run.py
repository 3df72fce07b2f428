"""One `make sweep` run: its files and its rows.

A sweep is two files in one directory (results/ by default):
  sweep.json        Google Benchmark JSON, one sweep/<variant>/<size> entry
                    per point, the points' processes concatenated (the source
                    of truth);
  sweep_run.json    settings, machine, git state, each point's outcome.
rows() gives one row per point with the columns of sweep.csv, and the
reference columns: per node of the graph naive builds at that size.
"""
import csv
import io
import math
import os

from . import checks
from .bench_run import REFERENCE_VARIANT, entry_seconds
from .files import load_json

SWEEP_FILE = "sweep.json"
SWEEP_RUN_FILE = "sweep_run.json"
CSV_FILE = "sweep.csv"
CSV_COLUMNS = ("variant", "n_embd", "n_head", "n_layer", "block_size", "parameters", "status", "steps", "runs",
               "ms_per_step", "forward_ms_per_step", "backward_ms_per_step", "update_ms_per_step",
               "nodes_per_step", "nodes_max", "edges_per_step", "graph_bytes_per_step", "graph_bytes_max",
               "graph_bytes_per_node", "reference_nodes_per_step", "ns_per_node", "ns_per_reference_node",
               "sort_depth_max", "sort_depth_bound", "peak_rss_bytes", "rss_before_run_bytes", "ru_maxrss_bytes",
               "point_seconds")
TABLE_FILE = "sweep_table.md"


def load_sweep(directory):
    """(sweep.json, sweep_run.json) of the sweep in directory."""
    hint = "run `make sweep` first"
    return (load_json(os.path.join(directory, SWEEP_FILE), hint),
            load_json(os.path.join(directory, SWEEP_RUN_FILE), hint))


def sweep_entries(sweep_json):
    """{(variant, size name): entry}, one per point."""
    entries = {}
    for entry in sweep_json.get("benchmarks", []):
        parts = entry.get("run_name", entry["name"]).split("/")
        if len(parts) >= 3 and parts[0] == "sweep" and entry.get("run_type", "iteration") == "iteration":
            entries.setdefault((parts[1], parts[2]), entry)
    return entries


def _point_row(outcome, entry):
    row = {column: None for column in CSV_COLUMNS}
    row.update(variant=outcome["variant"], shape=outcome["shape"], n_embd=outcome["n_embd"],
               n_layer=outcome["n_layer"], block_size=outcome.get("block_size"), status=outcome["status"],
               check=checks.FAILED,
               point_seconds=outcome.get("seconds"))
    if outcome["status"] != "ok":
        return row
    if entry is None:
        row["status"] = "failed: no sweep result in the benchmark JSON"
        return row
    steps = int(entry["steps"])
    seconds = entry_seconds(entry)
    nodes = entry["nodes_per_step"]
    row.update(
        status=checks.status_text(entry), check=checks.verdict(entry), steps=steps, runs=int(entry["iterations"]),
        n_head=int(entry["n_head"]), block_size=int(entry["block_size"]), parameters=int(entry["parameters"]),
        ms_per_step=1e3 * seconds / steps,
        forward_ms_per_step=1e3 * entry["forward_seconds"] / steps,
        backward_ms_per_step=1e3 * entry["backward_seconds"] / steps,
        update_ms_per_step=1e3 * entry["update_seconds"] / steps,
        nodes_per_step=nodes, nodes_max=int(entry["nodes_max"]), edges_per_step=entry["edges_per_step"],
        graph_bytes_per_step=entry["bytes_per_step"], graph_bytes_max=int(entry["bytes_max"]),
        graph_bytes_per_node=entry["bytes_per_step"] / nodes if nodes > 0 else None,
        ns_per_node=1e9 * seconds / (steps * nodes) if nodes > 0 else None,
        sort_depth_max=int(entry["sort_depth_max"]), sort_depth_bound=int(entry["sort_depth_bound"]),
        peak_rss_bytes=int(entry["max_rss_bytes"]), rss_before_run_bytes=int(entry["rss_before_run_bytes"]),
        ru_maxrss_bytes=int(entry["ru_maxrss_bytes"]))
    return row


def rows(sweep_json, run_json):
    """One row per point of the run (sweep_run.json's order), each a dict of
    the CSV columns plus `shape` and `check` (checks.*); None where not measured. The reference
    columns divide by naive's nodes per step at the same size."""
    entries = sweep_entries(sweep_json)
    result = [_point_row(outcome, entries.get((outcome["variant"], outcome["shape"])))
              for outcome in run_json.get("points", [])]
    reference = {row["shape"]: row["nodes_per_step"] for row in result
                 if row["variant"] == REFERENCE_VARIANT and row["nodes_per_step"]}
    for row in result:
        nodes = reference.get(row["shape"])
        if nodes and row["ms_per_step"] is not None:
            row["reference_nodes_per_step"] = nodes
            row["ns_per_reference_node"] = 1e6 * row["ms_per_step"] / nodes
    return result


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_text(all_rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in all_rows:
        writer.writerow([_csv_value(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def fitted_slope(points):
    """Least-squares slope of log y against log x; None for fewer than 2 sizes."""
    points = [(math.log(x), math.log(y)) for x, y in points if x and y and x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = sum((x - mean_x) ** 2 for x, _ in points)
    return covariance / variance


def is_measured(row):
    return row["ms_per_step"] is not None


def is_wrong(row):
    return checks.is_wrong(row["check"])


def by_variant(all_rows):
    """{variant: its measured rows}, variants in the run's order."""
    grouped = {}
    for row in all_rows:
        grouped.setdefault(row["variant"], [])
        if is_measured(row):
            grouped[row["variant"]].append(row)
    return grouped

