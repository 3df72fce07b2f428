"""Where the speed comes from: a chain of variants from naive (the
reference's engine) to floor (no graph), each changing one thing from the
one before it, and side links off the chain. A link's factor is the time of
its first variant over its second's in the same round, summarised by the
median and range over the rounds. At the reference size the times are the
`make bench` rounds'; at the sweep's largest common size the chain is timed
here, one harness process per round, with the PyTorch rows after it."""
import collections
import os

from . import rows, runner
from .util import log, round_ratios

Link = collections.namedtuple("Link", "name first second change order")
CHAIN_LINKS = (
    Link("allocation", "naive", "arena", "a malloc and a free per node → a per-step arena", "same order: bit-exact"),
    Link("fusion", "arena", "arena_fused", "2·n_in mul/add nodes per linear output → one node", "same order: bit-exact"),
    Link("ordering", "arena_fused", "arena_sweep", "recursive depth-first sort → one reverse sweep in creation order",
         "another order: within 1e-9"),
    Link("layout", "arena_sweep", "tape", "pointer-linked node structs → flat arrays indexed by node number",
         "the sweep's order: identical losses"),
    Link("granularity", "tape", "vector", "a node per scalar → a node per vector op of one position",
         "the reference's order: bit-exact"),
    Link("batching", "vector", "sequence", "per-position nodes → whole-sequence nodes (kernels over all positions)",
         "same order: bit-exact"),
    Link("graph", "sequence", "floor", "whole-sequence nodes built each step → no graph at all", "same order: bit-exact"))
CHAIN = tuple(link.first for link in CHAIN_LINKS) + (CHAIN_LINKS[-1].second,)
SIDE_LINKS = (
    Link("reference counting", "naive", "refcount", "nodes freed from a list after the step → by Rc-style counts",
         "same order: bit-exact"),
    Link("dynamic dispatch", "naive", "closure", "backward through a per-node function pointer (a closure)",
         "same order: bit-exact"),
    Link("construction", "vector", "replay", "build the per-position graph each step → replay the captured one",
         "same order: bit-exact"),
    Link("language (naive)", "naive", "rust_naive", "C → Rust, `Rc<RefCell<Value>>` nodes, recursive sort",
         "same order: bit-exact"),
    Link("language (both)", "both", "rust_both", "C → Rust, fused linear, iterative sort", "same order: bit-exact"))
TORCH_ROWS = ("torch_position", "torch_sequence")
SIZES = {"reference": {"label": "reference size (n_embd 16, 1 layer)", "shape": (16, 4, 1, 16)},
         "large": {"label": "larger size (n_embd 128, 4 layers)", "shape": (128, 4, 4, 16)}}
FILE = "speed_factors.json"


def factor(times, link):
    """The link's ratios first / second per round, with median, min and max (None where not measured)."""
    summary = round_ratios(times.get(link.first) or [], times.get(link.second) or [])
    return {"link": link.name, "from": link.first, "to": link.second, "change": link.change, "order": link.order,
            "ratios": summary.count if summary else 0, "median": summary and summary.median,
            "min": summary and summary.low, "max": summary and summary.high}


def whole_chain(times):
    return factor(times, Link("whole chain", CHAIN[0], CHAIN[-1], "", ""))


def variants_needed(available):
    """The chain's and side links' C variants this build has (the Rust and PyTorch rows run apart)."""
    keys = [k for link in CHAIN_LINKS + SIDE_LINKS for k in (link.first, link.second)]
    return [k for k in dict.fromkeys(keys) if k in available]


def times_at_reference(all_rows, run_json):
    """{key: [seconds per step by round]} of the bench run's rows (None for a round without the row)."""
    numbers, steps = [r["round"] for r in run_json["rounds"]], run_json["settings"]["steps"]
    return {row["key"]: [row["full"][n] / steps if n in row["full"] else None for n in numbers] for row in all_rows
            if row["full"] and rows.is_result(row["check"])}


def time_large(programs, data, rounds, steps, variants, work_dir):
    """The chain at the large size: per round, one harness process running every
    variant (order rotated), then the PyTorch rows (Rust's naive would take minutes
    a round here: the languages are compared at the reference size). {key: [s/step by round]}."""
    shape = SIZES["large"]["shape"]
    keys = list(variants) + list(TORCH_ROWS)
    times = {key: [] for key in keys}
    for index in range(rounds):
        order = variants[index % len(variants):] + variants[:index % len(variants)]
        label = f"[speed factors, {SIZES['large']['label']}, round {index + 1}/{rounds}]"
        log(f"{label} {' '.join(order)}, {steps} steps each, then PyTorch ...")
        outcome, result = runner.run_harness(programs.bench, order, os.path.join(work_dir, f"large-{index}"), data,
                                             ["--sweep", "--steps", str(steps), "--benchmark_min_time=0",
                                              *runner.shape_arguments(shape)], programs.timeout)
        if result is None:
            raise RuntimeError(f"{label} the harness {outcome['status']}")
        found = runner.entries(result)
        for variant in variants:
            entry = next((e for name, e in found.items() if name[:2] == ("sweep", variant)), None)
            times[variant].append(entry and runner.entry_seconds(entry) / steps)
        for key in keys[len(variants):]:
            report = runner.run_baseline(programs, runner.BASELINE_BY_KEY[key], steps,
                                         os.path.join(work_dir, f"large-{index}-{key}"), data, shape)
            times[key].append(report["train_seconds"] / steps if report["status"] == "ok" else None)
            if report["status"] != "ok":
                log(f"{label} {runner.BASELINE_BY_KEY[key].label}: {report['status']}")
                if not report.get("not_measured"):
                    raise RuntimeError(f"{label} {key} {report['status']}")
    return times


def document(times_by_size, settings):
    """speed_factors.json: every size's times, factors and whole chain."""
    return {"sizes": {k: SIZES[k] for k in times_by_size}, "settings": settings, "seconds_per_step": times_by_size,
            "factors": {k: [factor(t, link) for link in CHAIN_LINKS] for k, t in times_by_size.items()},
            "side_links": {k: [factor(t, link) for link in SIDE_LINKS] for k, t in times_by_size.items()},
            "whole_chain": {k: whole_chain(t) for k, t in times_by_size.items()}}
