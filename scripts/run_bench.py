#!/usr/bin/env python3
"""`make bench`: times every microgpt variant and the Python baselines.

Runs build/microgpt-bench once per variant (a variant that crashes loses
only its own row, reported as "failed: ..."), then the Python reference
(scripts/microgpt_reference.py) as "Original Python" (--strategy naive) and
"Optimized Python" (--strategy both) on the first K steps, or on all steps
with --full. Writes into the output directory (results/ by default):
  benchmark.json   the harness's Google Benchmark JSON, every variant's
                   "benchmarks" concatenated under the first one's context;
  run.json         settings, machine, compiler, git commit, date, each
                   variant's outcome, the Python timings;
  table.md, graph_size_vs_runtime.png/.svg, phases.png (scripts/make_table.py,
                   scripts/plot_results.py);
and with --readme the table between that file's marker lines. Everything is
produced in a staging directory first and renamed into place at the end, so
an interrupted or broken run leaves the previous results as they were.
Exit status: 0; 1 when a variant crashed or has wrong gradients, or a Python
baseline failed (after all rows are written); 2 on bad input.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import bench_results
import make_table
import plot_results

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 300 steps keep `make bench` under 5 minutes on a 2-core machine: the
# reference needs about 0.34 s per step (naive) plus 0.05 s (both).
DEFAULT_K_STEPS = 300


def log(message):
    print(message, flush=True)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(PROJECT_DIR, "build", "microgpt-bench"),
                        help="the harness binary (default: build/microgpt-bench)")
    parser.add_argument("--output-dir", default=os.path.join(PROJECT_DIR, "results"))
    parser.add_argument("--steps", type=int, default=1000, help="steps of the full training run (default 1000)")
    parser.add_argument("--k-steps", type=int, default=DEFAULT_K_STEPS,
                        help=f"steps of the short run compared with Python (default {DEFAULT_K_STEPS})")
    parser.add_argument("--repetitions", type=int, default=3, help="repetitions of every benchmark (default 3)")
    parser.add_argument("--phase-iterations", type=int, default=500,
                        help="iterations of the forward/backward/update benchmarks (default 500)")
    parser.add_argument("--full", action="store_true", help="run the Python baselines for all --steps steps")
    parser.add_argument("--skip-python", action="store_true", help="no Python baseline rows (for tests)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the Python reference")
    parser.add_argument("--reference", default=os.path.join(PROJECT_DIR, "scripts", "microgpt_reference.py"))
    parser.add_argument("--data", help="names file (default: the programs' own default)")
    parser.add_argument("--variants", help="comma-separated variants to run (default: all the binary has)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a process counts as failed")
    parser.add_argument("--readme", help="replace the table between this file's markers (checked before running)")
    parser.add_argument("--no-report", action="store_true",
                        help="write only benchmark.json and run.json (no table, plots or README)")
    args = parser.parse_args(argv)
    for name in ("steps", "k_steps", "repetitions", "phase_iterations"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.k_steps > args.steps:
        parser.error(f"--k-steps ({args.k_steps}) must not exceed --steps ({args.steps})")
    return args


def command_output(command, cwd=None):
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def select_variants(bench, wanted_text):
    """The variants to run: all the harness binary has, or those named in
    wanted_text (comma-separated), each checked against the binary's."""
    if not os.access(bench, os.X_OK):
        raise bench_results.ResultsError(f"{bench}: no harness binary (run `make` first)")
    variants = list_variants(bench)
    if not wanted_text:
        return variants
    wanted = [name for name in wanted_text.split(",") if name]
    unknown = [name for name in wanted if name not in variants]
    if unknown:
        raise bench_results.ResultsError(f"unknown variant(s) {', '.join(unknown)}; the binary has "
                                         f"{', '.join(variants)}")
    return wanted


def list_variants(bench):
    output = command_output([bench, "--list-variants"])
    if output is None:
        raise bench_results.ResultsError(f"{bench} --list-variants failed (is the harness built? run `make`)")
    return output.split()


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def process_failure(returncode, stderr_path, timeout):
    """Why a finished process failed, or None if it exited with status 0;
    returncode None means it timed out. A Ctrl-C that reached it goes on
    as KeyboardInterrupt."""
    if returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    if returncode is None:
        return f"failed: timed out after {timeout:g} s"
    if returncode != 0:
        return failure_reason(returncode, stderr_path)
    return None


def failure_reason(returncode, stderr_path):
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"failed: killed by {name}"
    last = tail(stderr_path, 1)
    return f"failed: exit status {returncode}" + (f": {last}" if last else "")


def run_logged(command, stdout_path, stderr_path, timeout):
    """(returncode or None on timeout, seconds)."""
    start = time.monotonic()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = None
        except BaseException:
            process.kill()
            process.wait()
            raise
    return returncode, time.monotonic() - start


def run_variant(args, variant, work_dir, index, count):
    """Runs one variant's benchmarks; (outcome for run.json, its JSON or None)."""
    output = os.path.join(work_dir, f"{variant}.json")
    stdout_path, stderr_path = os.path.join(work_dir, f"{variant}.out"), os.path.join(work_dir, f"{variant}.err")
    command = [args.bench, "--variant", variant, "--steps", str(args.steps), "--k-steps", str(args.k_steps),
               "--phase-iterations", str(args.phase_iterations),
               f"--benchmark_repetitions={args.repetitions}", "--benchmark_display_aggregates_only=true",
               f"--benchmark_out={output}", "--benchmark_out_format=json"]
    if args.data:
        command += ["--data", args.data]
    log(f"[{index}/{count}] {variant}: gradient check, then train_full ({args.steps} steps), "
        f"train_k ({args.k_steps}), forward/backward/update × {args.repetitions} repetitions ...")
    returncode, seconds = run_logged(command, stdout_path, stderr_path, args.timeout)
    failure = process_failure(returncode, stderr_path, args.timeout)
    outcome = {"name": variant, "status": failure or "ok", "exit_code": returncode, "seconds": round(seconds, 3)}
    result = None
    if not failure:
        try:
            with open(output) as f:
                result = json.load(f)
            if not result.get("benchmarks"):
                raise ValueError("no benchmarks in it")
        except (OSError, ValueError) as error:
            outcome["status"] = f"failed: no usable benchmark output ({error})"
            result = None
    if result is None:
        outcome["stderr_tail"] = tail(stderr_path, 20)
        log(f"[{index}/{count}] {variant}: {outcome['status']} after {seconds:.1f} s")
        if outcome["stderr_tail"]:
            log("    " + outcome["stderr_tail"].replace("\n", "\n    "))
        return outcome, None
    medians = bench_results.benchmark_entries(result)
    full = medians.get(("train_full", variant))
    check = full.get("label", "unchecked") if full else "unchecked"
    full_text = f"train_full median {bench_results.entry_seconds(full):.3f} s" if full else "no train_full"
    log(f"[{index}/{count}] {variant}: done in {seconds:.1f} s: {check}, {full_text}")
    return outcome, result


def run_python(args, label, strategy, steps, work_dir, index, count):
    report_path = os.path.join(work_dir, f"python_{strategy}.json")
    stdout_path = os.path.join(work_dir, f"python_{strategy}.out")
    stderr_path = os.path.join(work_dir, f"python_{strategy}.err")
    command = [args.python, args.reference, "--strategy", strategy, "--steps", str(steps), "--samples", "0",
               "--quiet", "--report", report_path]
    if args.data:
        command += ["--data", args.data]
    log(f"[python {index}/{count}] {label} (--strategy {strategy}, {steps} steps) ...")
    returncode, seconds = run_logged(command, stdout_path, stderr_path, args.timeout)
    failure = process_failure(returncode, stderr_path, args.timeout)
    report = {"status": failure or "ok"}
    if not failure:
        try:
            with open(report_path) as f:
                report.update(json.load(f))
        except (OSError, ValueError) as error:
            report["status"] = f"failed: no usable report ({error})"
    report["label"], report["wall_seconds"] = label, round(seconds, 3)
    if report["status"] == "ok":
        log(f"[python {index}/{count}] {label}: done in {seconds:.1f} s: training {report['train_seconds']:.2f} s "
            f"({1e3 * report['train_seconds'] / steps:.1f} ms/step)")
    else:
        log(f"[python {index}/{count}] {label}: {report['status']}")
    return report


def merge_benchmarks(results):
    """One Google Benchmark JSON from the per-variant ones: the first context
    (plus every variant's own microgpt_* keys) and all benchmark entries."""
    merged = {"context": {}, "benchmarks": []}
    for result in results:
        if not merged["context"]:
            merged["context"] = dict(result.get("context", {}))
        for key, value in result.get("context", {}).items():
            if key.startswith("microgpt_"):
                merged["context"].setdefault(key, value)
        merged["benchmarks"].extend(result.get("benchmarks", []))
    return merged


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_metadata(args, merged, variant_outcomes, python_reports, python_steps, load_before):
    context = merged.get("context", {})
    commit = command_output(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR)
    status = command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR)
    library = command_output(["dpkg-query", "-W", "-f", "${Version}", "libbenchmark-dev"])
    python_versions = sorted({r.get("python") for r in python_reports.values() if r.get("python")})
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"uname": " ".join(platform.uname()), "cpu_model": cpu_model(), "cpus": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": list(os.getloadavg())},
        "c_compiler": context.get("microgpt_c_compiler", "unknown"),
        "cxx_compiler": context.get("microgpt_cxx_compiler", "unknown"),
        "c_flags": context.get("microgpt_c_flags", "unknown"),
        "build_type": context.get("microgpt_build_type", "unknown"),
        "benchmark_library": f"libbenchmark {library}" if library else "libbenchmark",
        "benchmark_library_build_type": context.get("library_build_type", "unknown"),
        "git": {"commit": commit or "unknown", "dirty": bool(status)},
        "dataset": {"path": context.get("microgpt_dataset"), "sha256": context.get("microgpt_dataset_sha256")},
        "python_version": ", ".join(python_versions) or None,
        "settings": {"steps": args.steps, "k_steps": args.k_steps, "repetitions": args.repetitions,
                     "phase_iterations": args.phase_iterations, "python_steps": python_steps, "full": args.full,
                     "bench": os.path.relpath(args.bench, PROJECT_DIR)},
        "variants": variant_outcomes,
        "python": python_reports,
    }


def render_outputs(args, merged, run):
    """{file name: bytes or text} of everything written to the output dir."""
    outputs = {bench_results.BENCHMARK_FILE: bench_results.json_text(merged),
               bench_results.RUN_FILE: bench_results.json_text(run)}
    if not args.no_report:
        outputs["table.md"] = make_table.table_document(make_table.render(merged, run))
        outputs.update(plot_results.render(merged, run))
    return outputs


def publish(outputs, output_dir):
    """Writes every output to a staging directory beside output_dir, then
    renames them into place: a failure before that leaves output_dir as it was."""
    os.makedirs(output_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=output_dir)
    try:
        for name, data in outputs.items():
            bench_results.atomic_write(os.path.join(staging, name), data)
        for name in outputs:
            os.replace(os.path.join(staging, name), os.path.join(output_dir, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv=None):
    args = parse_arguments(argv)
    args.bench = os.path.abspath(args.bench)
    try:
        if not args.no_report:
            plot_results.pyplot()  # fail now rather than after minutes of benchmarks
        if args.readme:
            make_table.check_readme(args.readme)
        variants = select_variants(args.bench, args.variants)
    except bench_results.ResultsError as error:
        print(f"run_bench: {error}", file=sys.stderr)
        return 2

    python_steps = args.steps if args.full else args.k_steps
    started, load_before = time.monotonic(), list(os.getloadavg())
    try:
        with tempfile.TemporaryDirectory(prefix="microgpt-bench-") as work_dir:
            outcomes, results = [], []
            for index, variant in enumerate(variants, 1):
                outcome, result = run_variant(args, variant, work_dir, index, len(variants))
                outcomes.append(outcome)
                if result is not None:
                    results.append(result)
            python_reports = {}
            if not args.skip_python:
                for index, (label, strategy) in enumerate(bench_results.PYTHON_BASELINES, 1):
                    python_reports[strategy] = run_python(args, label, strategy, python_steps, work_dir, index,
                                                          len(bench_results.PYTHON_BASELINES))
            merged = merge_benchmarks(results)
            run = run_metadata(args, merged, outcomes, python_reports, python_steps, load_before)
            publish(render_outputs(args, merged, run), args.output_dir)
            if args.readme and not args.no_report:
                make_table.update_readme(args.readme, make_table.render(merged, run))
    except KeyboardInterrupt:
        print(f"\nrun_bench: interrupted; {args.output_dir} left as it was", file=sys.stderr)
        return 130
    except bench_results.ResultsError as error:
        print(f"run_bench: {error}", file=sys.stderr)
        return 2

    if not args.no_report:
        log("\n" + "\n".join(make_table.table_lines(bench_results.rows(merged, run), run["settings"])) + "\n")
    statuses = [row["status"] for row in bench_results.rows(merged, run)]
    failures = [s for s in statuses if bench_results.is_failure(s)]
    written = "benchmark.json, run.json" + ("" if args.no_report else ", table.md, plots")
    log(f"wrote {written} to {args.output_dir}" + (f" and the table to {args.readme}" if args.readme and
                                                     not args.no_report else "") +
        f" in {time.monotonic() - started:.0f} s")
    if failures:
        print(f"run_bench: {len(failures)} row(s) failed: {'; '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
