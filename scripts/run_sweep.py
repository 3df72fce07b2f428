#!/usr/bin/env python3
"""`make sweep`: how each variant's cost grows with the model's size.

For every variant the harness has (microgpt-bench --list-variants) and every
point of a grid over n_embd and n_layer (n_head and block_size fixed), one
process of `microgpt-bench --sweep` trains --steps steps (as many times as
fit in --min-time seconds, at least once) and reports, as
Google Benchmark JSON: time per step, graph nodes and edges per step, graph
bytes per step, the depth of the topological sort, and the process's peak RSS
(getrusage; a fresh process per point, so the peak is that point's). Writes
into the output directory (results/ by default):
  sweep.json       the points' Google Benchmark JSON, concatenated (the
                   source of truth);
  sweep_run.json   settings, machine, git commit, each point's outcome;
  sweep.csv, sweep_table.md, sweep_time_vs_nodes.png, sweep_ns_per_node.png,
  sweep_memory.png (scripts/plot_sweep.py, which can redo them alone);
and with --readme the table between that file's sweep-table markers.
Everything is staged and renamed into place at the end: an interrupted or
broken sweep leaves the previous results as they were.
Exit status: 0; 1 when a point failed or a variant has wrong gradients
(after everything is written); 2 on bad input.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time

import bench_results
import make_table
import plot_sweep
import run_bench

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The default grid takes about 5 minutes on a 2-core machine, most of it
# naive, stack and seed_stack at n_embd 128 (about 1.6 s a step there).
DEFAULT_N_EMBD = (16, 32, 64, 128)
DEFAULT_N_LAYER = (1, 2, 4)
DEFAULT_STEPS = 20
QUICK_N_EMBD = (16, 32)
QUICK_N_LAYER = (1, 2)
QUICK_STEPS = 5
# The small sizes take milliseconds a run: averaging runs over half a second
# each steadies them, for about a minute more in all.
DEFAULT_MIN_TIME = 0.5
QUICK_MIN_TIME = 0.1


def log(message):
    print(message, flush=True)


def size_list(text):
    try:
        values = [int(part) for part in text.split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got '{text}'") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive whole numbers, got '{text}'")
    return tuple(values)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(PROJECT_DIR, "build", "microgpt-bench"),
                        help="the harness binary (default: build/microgpt-bench)")
    parser.add_argument("--output-dir", default=os.path.join(PROJECT_DIR, "results"))
    parser.add_argument("--quick", action="store_true",
                        help=f"the small grid for CI: n_embd {QUICK_N_EMBD}, n_layer {QUICK_N_LAYER}, "
                             f"{QUICK_STEPS} steps, --min-time {QUICK_MIN_TIME} (unless given)")
    parser.add_argument("--n-embd", type=size_list, help=f"comma-separated widths (default {DEFAULT_N_EMBD})")
    parser.add_argument("--n-layer", type=size_list, help=f"comma-separated depths (default {DEFAULT_N_LAYER})")
    parser.add_argument("--n-head", type=int, default=4, help="attention heads at every point (default 4)")
    parser.add_argument("--block-size", type=int, default=16, help="context length at every point (default 16)")
    parser.add_argument("--steps", type=int, help=f"training steps per point (default {DEFAULT_STEPS})")
    parser.add_argument("--min-time", type=float,
                        help="seconds of training runs per point, averaged (Google Benchmark's "
                             f"--benchmark_min_time; default {DEFAULT_MIN_TIME}); a longer run runs once")
    parser.add_argument("--variants", help="comma-separated variants (default: all the binary has)")
    parser.add_argument("--data", help="names file (default: the harness's own default)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a point counts as failed")
    parser.add_argument("--readme", help="replace the table between this file's sweep-table markers "
                                         "(checked before running)")
    args = parser.parse_args(argv)
    args.n_embd = args.n_embd or (QUICK_N_EMBD if args.quick else DEFAULT_N_EMBD)
    args.n_layer = args.n_layer or (QUICK_N_LAYER if args.quick else DEFAULT_N_LAYER)
    args.steps = args.steps or (QUICK_STEPS if args.quick else DEFAULT_STEPS)
    if args.min_time is None:
        args.min_time = QUICK_MIN_TIME if args.quick else DEFAULT_MIN_TIME
    for name in ("steps", "n_head", "block_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.min_time <= 60:
        parser.error(f"--min-time must be from 0 to 60 seconds, got {args.min_time:g}")
    indivisible = [embd for embd in args.n_embd if embd % args.n_head]
    if indivisible:
        parser.error(f"--n-embd {','.join(map(str, indivisible))} not divisible by --n-head {args.n_head}")
    return args


def shape_name(n_embd, n_head, n_layer, block_size):
    """The size part of a sweep benchmark's name (harness/bench_main.cpp)."""
    return f"e{n_embd}_h{n_head}_l{n_layer}_b{block_size}"


def grid(args):
    """(n_embd, n_layer) points, smallest model first."""
    points = [(embd, layers) for embd in args.n_embd for layers in args.n_layer]
    return sorted(points, key=lambda point: (point[1] * point[0] ** 2, point))


def run_point(args, harness, variant, n_embd, n_layer, work_dir):
    """One process of the harness at one point: (outcome, its JSON or None)."""
    name = shape_name(n_embd, args.n_head, n_layer, args.block_size)
    stem = os.path.join(work_dir, f"{variant}-{name}")
    command = [harness, "--sweep", "--variant", variant, "--steps", str(args.steps),
               "--n-embd", str(n_embd), "--n-head", str(args.n_head), "--n-layer", str(n_layer),
               "--block-size", str(args.block_size), f"--benchmark_min_time={args.min_time:g}",
               f"--benchmark_out={stem}.json", "--benchmark_out_format=json"]
    if args.data:
        command += ["--data", args.data]
    try:
        returncode, seconds = run_bench.run_logged(command, stem + ".out", stem + ".err", args.timeout)
    except OSError as error:
        returncode, seconds = error, 0.0
    if isinstance(returncode, OSError):
        failure = f"failed: cannot run {harness}: {returncode.strerror}"
    else:
        failure = run_bench.process_failure(returncode, stem + ".err", args.timeout)
    outcome = {"variant": variant, "shape": name, "n_embd": n_embd, "n_layer": n_layer, "status": failure or "ok",
               "exit_code": returncode if isinstance(returncode, int) else None, "seconds": round(seconds, 3)}
    result = None
    if not failure:
        try:
            with open(stem + ".json") as f:
                result = json.load(f)
            if not result.get("benchmarks"):
                raise ValueError("no benchmarks in it")
        except (OSError, ValueError) as error:
            outcome["status"] = f"failed: no usable benchmark output ({error})"
            result = None
    if result is None:
        outcome["stderr_tail"] = run_bench.tail(stem + ".err", 20)
    return outcome, result


def progress_line(index, count, outcome, result):
    head = f"[{index}/{count}] {outcome['variant']} {outcome['shape']}:"
    if result is None:
        return f"{head} {outcome['status']} after {outcome['seconds']:.1f} s"
    entry = result["benchmarks"][0]
    text = (f"{1e3 * bench_results.entry_seconds(entry) / entry['steps']:.3g} ms/step, "
            f"{entry['nodes_per_step']:,.0f} nodes/step")
    if entry["nodes_per_step"] > 0:
        text += f", {entry['ns_per_node']:.3g} ns/node"
    text += f", peak RSS {entry['max_rss_bytes'] / 2**20:.0f} MB"
    if entry["sort_depth_max"] > 0:
        text += f", sort depth {entry['sort_depth_max']:,.0f}"
    runs = f"{entry['iterations']} runs" if entry["iterations"] > 1 else "1 run"
    return f"{head} {text}, {entry['label']} ({runs}, {outcome['seconds']:.1f} s)"


def git_state():
    """The commit and whether tracked files differ from it; taken when the
    harness is copied, since the tree may change while the sweep runs."""
    commit = run_bench.command_output(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR)
    status = run_bench.command_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR)
    return {"commit": commit or "unknown", "dirty": bool(status)}


def sweep_metadata(args, merged, outcomes, git, load_before, wall_seconds):
    context = merged.get("context", {})
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"uname": " ".join(platform.uname()), "cpu_model": run_bench.cpu_model(), "cpus": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": list(os.getloadavg())},
        "c_compiler": context.get("microgpt_c_compiler", "unknown"),
        "c_flags": context.get("microgpt_c_flags", "unknown"),
        "benchmark_library_build_type": context.get("library_build_type", "unknown"),
        "git": git,
        "settings": {"steps": args.steps, "min_time": args.min_time, "n_embd": list(args.n_embd), "n_layer": list(args.n_layer),
                     "n_head": args.n_head, "block_size": args.block_size, "quick": args.quick,
                     "gradient_check_shape": context.get("microgpt_gradient_check_shape"),
                     "bench": os.path.relpath(args.bench, PROJECT_DIR)},
        "wall_seconds": round(wall_seconds, 1),
        "points": outcomes,
    }


def main(argv=None):
    args = parse_arguments(argv)
    args.bench = os.path.abspath(args.bench)
    try:
        plot_sweep.plot_results.pyplot()  # fail now rather than after minutes of benchmarks
        if args.readme:
            make_table.check_readme(args.readme, plot_sweep.README_MARKERS, plot_sweep.README_WHAT)
        variants = run_bench.select_variants(args.bench, args.variants)
    except bench_results.ResultsError as error:
        print(f"run_sweep: {error}", file=sys.stderr)
        return 2

    points = grid(args)
    count = len(points) * len(variants)
    log(f"sweep: {len(variants)} variants ({', '.join(variants)}) x {len(points)} sizes "
        f"(n_embd {','.join(map(str, args.n_embd))}; n_layer {','.join(map(str, args.n_layer))}; "
        f"n_head {args.n_head}, block_size {args.block_size}), {args.steps} steps each")
    started, load_before = time.monotonic(), list(os.getloadavg())
    try:
        with tempfile.TemporaryDirectory(prefix="microgpt-sweep-") as work_dir:
            # Every point runs this copy: a rebuild during the sweep (make in
            # another shell) neither breaks it nor mixes two builds.
            harness = os.path.join(work_dir, os.path.basename(args.bench))
            shutil.copy2(args.bench, harness)
            git = git_state()
            outcomes, results, index = [], [], 0
            for n_embd, n_layer in points:
                for variant in variants:
                    index += 1
                    outcome, result = run_point(args, harness, variant, n_embd, n_layer, work_dir)
                    log(progress_line(index, count, outcome, result))
                    if outcome.get("stderr_tail"):
                        log("    " + outcome["stderr_tail"].replace("\n", "\n    "))
                    outcomes.append(outcome)
                    if result is not None:
                        results.append(result)
            merged = run_bench.merge_benchmarks(results)
            run = sweep_metadata(args, merged, outcomes, git, load_before, time.monotonic() - started)
            outputs = {plot_sweep.SWEEP_FILE: bench_results.json_text(merged),
                       plot_sweep.SWEEP_RUN_FILE: bench_results.json_text(run)}
            outputs.update(plot_sweep.render(merged, run))
            run_bench.publish(outputs, args.output_dir)
            if args.readme:
                make_table.update_readme(args.readme, plot_sweep.table_block(plot_sweep.rows(merged, run), run),
                                         plot_sweep.README_MARKERS, plot_sweep.README_WHAT)
    except KeyboardInterrupt:
        print(f"\nrun_sweep: interrupted; {args.output_dir} left as it was", file=sys.stderr)
        return 130
    except bench_results.ResultsError as error:
        print(f"run_sweep: {error}", file=sys.stderr)
        return 2

    rows = plot_sweep.rows(merged, run)
    for line in plot_sweep.summary_lines(rows):
        log(line)
    failures = sorted({f"{row['variant']} {row['shape']}: {row['status']}" for row in rows
                       if bench_results.is_failure(row["status"])})
    log(f"wrote {', '.join(sorted(outputs))} to {args.output_dir} in {time.monotonic() - started:.0f} s")
    if failures:
        print(f"run_sweep: {len(failures)} point(s) failed: {'; '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
