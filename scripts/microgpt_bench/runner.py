"""The one runner: the harness (build/microgpt-bench) and the baseline
programs (baselines/: the Python reference, PyTorch, Rust), one fresh process
per measurement, and what their JSON says.

A process that crashes, hangs or writes nothing usable loses its own
measurement only: its failure is a status text and the caller decides. A
baseline that cannot run here for a documented reason (torch not
importable, no rustc when the project was built) is "not measured", which
is not a failure."""
import collections
import json
import os

from .util import PROJECT_DIR, ResultsError, command_output, run_json, tail

BASELINES_DIR = os.path.join(PROJECT_DIR, "baselines")
NOT_MEASURED = "not measured"
# The exit status of baselines/microgpt_torch.py when torch cannot be imported.
TORCH_MISSING_EXIT = 3

Baseline = collections.namedtuple("Baseline", "key label language strategy")
# In the tables' order. Python and PyTorch take minutes a run: the first
# BASELINE_ROUNDS rounds, first K_STEPS steps; Rust takes seconds: every round, every step.
BASELINES = (Baseline("python_naive", "Original Python", "python", "naive"),
             Baseline("python_both", "Optimized Python", "python", "both"),
             Baseline("torch_position", "PyTorch (per position)", "torch", "position"),
             Baseline("torch_sequence", "PyTorch (whole sequence)", "torch", "sequence"),
             Baseline("rust_naive", "Original Rust", "rust", "naive"),
             Baseline("rust_both", "Optimized Rust", "rust", "both"))
BASELINE_BY_KEY = {b.key: b for b in BASELINES}
Programs = collections.namedtuple("Programs", "bench python torch_python build_dir timeout")


def list_variants(bench):
    if not os.access(bench, os.X_OK):
        raise ResultsError(f"{bench}: no harness binary (run `make` first)")
    output = command_output([bench, "--list-variants"])
    if output is None:
        raise ResultsError(f"{bench} --list-variants failed (run `make` first)")
    return output.split()


def select_variants(bench, wanted_text):
    """Every variant of the harness, or those named (comma-separated), each checked."""
    variants = list_variants(bench)
    if not wanted_text:
        return variants
    wanted = [name for name in wanted_text.split(",") if name]
    unknown = [name for name in wanted if name not in variants]
    if unknown:
        raise ResultsError(f"unknown variant(s) {', '.join(unknown)}; the build has {', '.join(variants)}")
    return wanted


def variant_facts(build_dir):
    """The registry's facts (microgpt-variants --json): name, description, tolerance, expected_wrong, sort, graph."""
    output = command_output([os.path.join(build_dir, "microgpt-variants"), "--json"])
    if output is None:
        raise ResultsError(f"{build_dir}/microgpt-variants --json failed (run `make` first)")
    return json.loads(output)


def shape_arguments(shape):
    return [] if not shape else ["--n-embd", str(shape[0]), "--n-head", str(shape[1]), "--n-layer", str(shape[2]),
                                 "--block-size", str(shape[3])]


def run_harness(bench, variants, stem, data, arguments=(), timeout=None):
    """One harness process: (outcome, its Google Benchmark JSON or None)."""
    command = [bench, *(a for v in variants for a in ("--variant", v)), "--data", data, *arguments,
               f"--benchmark_out={stem}.json", "--benchmark_out_format=json"]
    outcome, result = run_json(command, stem, timeout)
    if result is not None and not result.get("benchmarks"):
        outcome.update(status="failed: no benchmarks in its JSON", stderr_tail=tail(stem + ".err", 20))
        result = None
    return outcome, result


def entry_seconds(entry):
    """An entry's time per iteration (the manual time: the training loop), in seconds."""
    return entry["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]


def entries(benchmark_json):
    """{name parts: entry}, e.g. ("train_full", "naive") or ("sweep", "floor", "e16_h4_l1_b16"): the first of each."""
    found = {}
    for entry in (benchmark_json or {}).get("benchmarks", []):
        if entry.get("run_type", "iteration") == "iteration":
            name = entry.get("run_name", entry["name"]).split("/")  # less Google Benchmark's iterations:N/manual_time
            found.setdefault(tuple(p for p in name if ":" not in p and p != "manual_time"), entry)
    return found


def merge_benchmarks(results):
    """One Google Benchmark JSON of several processes: the first context, with every process's microgpt_* keys."""
    merged = {"context": {}, "benchmarks": []}
    for result in results:
        merged["context"] = merged["context"] or dict(result.get("context", {}))
        for key, value in result.get("context", {}).items():
            if key.startswith("microgpt_"):
                merged["context"].setdefault(key, value)
        merged["benchmarks"] += result.get("benchmarks", [])
    return merged


def baseline_command(programs, baseline, steps, report, data, shape=None, threads=1, reference_losses=None):
    """The command of one baseline run writing its JSON report, or (None, why not)."""
    common = ["--steps", str(steps), "--quiet", "--report", report, "--data", data, *shape_arguments(shape)]
    if baseline.language == "python":
        return [programs.python, os.path.join(BASELINES_DIR, "microgpt_reference.py"), "--strategy",
                baseline.strategy, "--samples", "0", *common], None
    if baseline.language == "torch":
        extra = ["--reference-losses", reference_losses] if reference_losses else []
        return [programs.torch_python, os.path.join(BASELINES_DIR, "microgpt_torch.py"), "--mode", baseline.strategy,
                "--threads", str(threads), *extra, *common], None
    rust = os.path.join(programs.build_dir, "microgpt-rust")
    if not os.access(rust, os.X_OK):
        return None, "no rustc when the project was built (make bench installs Debian's)"
    return [rust, "--strategy", baseline.strategy, "--samples", "0", *common], None


def run_baseline(programs, baseline, steps, stem, data, shape=None, threads=1, reference_losses=None):
    """A baseline's report (its JSON) with "status": ok, a failure, or not measured with the reason."""
    command, why_not = baseline_command(programs, baseline, steps, stem + ".json", data, shape, threads,
                                        reference_losses)
    if command is None:
        return {"status": f"{NOT_MEASURED}: {why_not}", "not_measured": True}
    outcome, report = run_json(command, stem, programs.timeout)
    if outcome["status"].startswith(f"failed: exit status {TORCH_MISSING_EXIT}:") and baseline.language == "torch":
        return {"status": f"{NOT_MEASURED}: {tail(stem + '.err', 1).split(': ', 1)[-1]}", "not_measured": True}
    return dict(report or {}, status=outcome["status"], wall_seconds=outcome["seconds"],
                **({"stderr_tail": outcome["stderr_tail"]} if "stderr_tail" in outcome else {}))
