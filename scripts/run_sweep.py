#!/usr/bin/env python3
"""`make sweep`: how each variant's cost grows with the model's size.

For every variant the harness has (microgpt-bench --list-variants) and every
point of a grid over n_embd and n_layer (n_head and block_size fixed), and
for the variants that build no scalar graph (--large-variants) also larger
points (--large-n-embd at every n_layer, and --large-block-size at the
largest n_layer), where the scalar graphs cannot follow, one
process of `microgpt-bench --sweep` trains --steps steps (as many times as
fit in --min-time seconds, at least once) and reports, as
Google Benchmark JSON: time per step, graph nodes and edges per step, graph
bytes per step, the depth of the topological sort, and the process's peak RSS
(getrusage; a fresh process per point, so the peak is that point's). Writes
into the output directory (results/ by default):
  sweep.json       the points' Google Benchmark JSON, concatenated (the
                   source of truth);
  sweep_run.json   settings, machine, git commit, each point's outcome;
  sweep.csv, sweep_table.md (scripts/make_sweep_table.py), sweep_time_vs_nodes.png,
  sweep_ns_per_node.png, sweep_memory.png (scripts/plot_sweep.py), which
  those scripts can redo alone;
and with --readme the table between that file's sweep-table markers.
Everything is staged and renamed into place at the end: an interrupted or
broken sweep leaves the previous results as they were.
Exit status: 0; 1 when a point failed or a variant has wrong gradients
(after everything is written); 2 on bad input.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from microgpt_bench import checks, metadata, plotting, processes, readme, sweep_plots, sweep_run, sweep_table
from microgpt_bench.bench_run import entry_seconds
from microgpt_bench.files import check_writable, json_text, publish
from microgpt_bench.processes import log

PROJECT_DIR = metadata.PROJECT_DIR
# The default grid takes about 5 minutes on a 2-core machine, most of it
# naive, stack and seed_stack at n_embd 128 (about 1.6 s a step there).
DEFAULT_N_EMBD = (16, 32, 64, 128)
DEFAULT_N_LAYER = (1, 2, 4)
DEFAULT_STEPS = 20
QUICK_N_EMBD = (16, 32)
QUICK_N_LAYER = (1, 2)
QUICK_STEPS = 5
# Larger points for the variants whose memory grows with the activations,
# not with a scalar graph (each bounds its own: engine/variant.h, step_bytes).
LARGE_VARIANTS = ("floor", "vector", "replay")
DEFAULT_LARGE_N_EMBD = (256, 512)
DEFAULT_LARGE_BLOCK_SIZE = 64
QUICK_LARGE_N_EMBD = (64,)
QUICK_LARGE_BLOCK_SIZE = 32
# The small sizes take milliseconds a run: averaging runs over half a second
# each steadies them, for about a minute more in all.
DEFAULT_MIN_TIME = 0.5
QUICK_MIN_TIME = 0.1


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
    parser.add_argument("--large-variants", default=",".join(LARGE_VARIANTS),
                        help=f"comma-separated variants that also run the larger points (default {','.join(LARGE_VARIANTS)})")
    parser.add_argument("--large-n-embd", type=size_list,
                        help=f"widths beyond the grid, for --large-variants (default {DEFAULT_LARGE_N_EMBD}, with "
                             f"--quick {QUICK_LARGE_N_EMBD}; none when --n-embd or --n-layer is given)")
    parser.add_argument("--large-block-size", type=int,
                        help=f"a longer context for --large-variants at the largest n_layer and every width (default "
                             f"{DEFAULT_LARGE_BLOCK_SIZE}, with --quick {QUICK_LARGE_BLOCK_SIZE}; none when --n-embd "
                             "or --n-layer is given)")
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
    default_grid = args.n_embd is None and args.n_layer is None
    if args.large_n_embd is None:
        args.large_n_embd = (QUICK_LARGE_N_EMBD if args.quick else DEFAULT_LARGE_N_EMBD) if default_grid else ()
    if args.large_block_size is None and default_grid:
        args.large_block_size = QUICK_LARGE_BLOCK_SIZE if args.quick else DEFAULT_LARGE_BLOCK_SIZE
    args.large_variants = tuple(name for name in args.large_variants.split(",") if name)
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
    indivisible = [embd for embd in args.n_embd + args.large_n_embd if embd % args.n_head]
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


def large_grid(args):
    """(n_embd, n_layer, block_size) points for the large variants only."""
    points = [(embd, layers, args.block_size) for embd in args.large_n_embd for layers in args.n_layer]
    if args.large_block_size:
        points += [(embd, max(args.n_layer), args.large_block_size) for embd in args.n_embd + args.large_n_embd]
    return sorted(set(points), key=lambda point: (point[1] * point[0] ** 2, point[2], point))


def sweep_plan(args, variants):
    """(variant, n_embd, n_layer, block_size) for every point of the run."""
    plan = [(variant, embd, layers, args.block_size) for embd, layers in grid(args) for variant in variants]
    plan += [(variant, embd, layers, block) for embd, layers, block in large_grid(args)
             for variant in variants if variant in args.large_variants]
    return plan


def run_point(args, harness, variant, n_embd, n_layer, work_dir, block_size=None):
    """One process of the harness at one point: (outcome, its JSON or None)."""
    block_size = block_size or args.block_size
    name = shape_name(n_embd, args.n_head, n_layer, block_size)
    stem = os.path.join(work_dir, f"{variant}-{name}")
    command = [harness, "--sweep", "--variant", variant, "--steps", str(args.steps),
               "--n-embd", str(n_embd), "--n-head", str(args.n_head), "--n-layer", str(n_layer),
               "--block-size", str(block_size), f"--benchmark_min_time={args.min_time:g}",
               f"--benchmark_out={stem}.json", "--benchmark_out_format=json"]
    if args.data:
        command += ["--data", args.data]
    outcome, result = processes.run_json_process(command, stem, args.timeout, empty=processes.no_benchmarks)
    return dict({"variant": variant, "shape": name, "n_embd": n_embd, "n_layer": n_layer, "block_size": block_size},
                **outcome), result


def progress_line(index, count, outcome, result):
    head = f"[{index}/{count}] {outcome['variant']} {outcome['shape']}:"
    if result is None:
        return f"{head} {outcome['status']} after {outcome['seconds']:.1f} s"
    entry = result["benchmarks"][0]
    text = (f"{1e3 * entry_seconds(entry) / entry['steps']:.3g} ms/step, "
            f"{entry['nodes_per_step']:,.0f} nodes/step")
    if entry["nodes_per_step"] > 0:
        text += f", {entry['ns_per_node']:.3g} ns/node"
    text += f", peak RSS {entry['max_rss_bytes'] / 2**20:.0f} MB"
    if entry["sort_depth_max"] > 0:
        text += f", sort depth {entry['sort_depth_max']:,.0f}"
    runs = f"{entry['iterations']} runs" if entry["iterations"] > 1 else "1 run"
    return f"{head} {text}, {entry['label']} ({runs}, {outcome['seconds']:.1f} s)"


def sweep_metadata(args, merged, outcomes, git, load_before, wall_seconds):
    context = merged.get("context", {})
    return {
        "date": metadata.utc_now(),
        "machine": metadata.machine(load_before),
        **metadata.toolchain(context),
        "git": git,
        "settings": {"steps": args.steps, "min_time": args.min_time, "n_embd": list(args.n_embd), "n_layer": list(args.n_layer),
                     "n_head": args.n_head, "block_size": args.block_size, "quick": args.quick,
                     "large_variants": list(args.large_variants), "large_n_embd": list(args.large_n_embd),
                     "large_block_size": args.large_block_size,
                     "gradient_check_shape": context.get("microgpt_gradient_check_shape"),
                     "bench": os.path.relpath(args.bench, PROJECT_DIR)},
        "wall_seconds": round(wall_seconds, 1),
        "points": outcomes,
    }


def sweep(args):
    plotting.pyplot()  # fail now rather than after minutes of benchmarks
    if args.readme:
        readme.check_readme(args.readme, readme.SWEEP_TABLE)
    check_writable(args.output_dir)
    variants = processes.select_variants(args.bench, args.variants)

    points = grid(args)
    plan = sweep_plan(args, variants)
    count, common = len(plan), len(points) * len(variants)
    log(f"sweep: {len(variants)} variants ({', '.join(variants)}) x {len(points)} sizes "
        f"(n_embd {','.join(map(str, args.n_embd))}; n_layer {','.join(map(str, args.n_layer))}; "
        f"n_head {args.n_head}, block_size {args.block_size}), {args.steps} steps each"
        + (f"; {count - common} larger points for {', '.join(args.large_variants)}" if count > common else ""))
    started, load_before = time.monotonic(), metadata.load_average()
    with tempfile.TemporaryDirectory(prefix="microgpt-sweep-") as work_dir:
        # Every point runs this copy: a rebuild during the sweep (make in
        # another shell) neither breaks it nor mixes two builds.
        harness = os.path.join(work_dir, os.path.basename(args.bench))
        shutil.copy2(args.bench, harness)
        git = metadata.git_state()  # when the harness is copied: the tree may change during the sweep
        outcomes, results, index = [], [], 0
        for variant, n_embd, n_layer, block_size in plan:
            index += 1
            outcome, result = run_point(args, harness, variant, n_embd, n_layer, work_dir, block_size)
            log(progress_line(index, count, outcome, result))
            if outcome.get("stderr_tail"):
                log("    " + outcome["stderr_tail"].replace("\n", "\n    "))
            outcomes.append(outcome)
            if result is not None:
                results.append(result)
        merged = processes.merge_benchmarks(results)
        run = sweep_metadata(args, merged, outcomes, git, load_before, time.monotonic() - started)
        outputs = {sweep_run.SWEEP_FILE: json_text(merged), sweep_run.SWEEP_RUN_FILE: json_text(run)}
        outputs.update(sweep_table.render(merged, run))
        outputs.update(sweep_plots.render(merged, run))
        publish(outputs, args.output_dir)
        if args.readme:
            readme.update_readme(args.readme, readme.SWEEP_TABLE,
                                 sweep_table.table_block(sweep_run.rows(merged, run), run))

    rows = sweep_run.rows(merged, run)
    for line in sweep_table.summary_lines(rows):
        log(line)
    failures = sorted({f"{row['variant']} {row['shape']}: {row['status']}" for row in rows
                       if checks.is_failure(row["check"])})
    log(f"wrote {', '.join(sorted(outputs))} to {args.output_dir} in {time.monotonic() - started:.0f} s")
    return processes.exit_status("run_sweep", failures, "point(s)")


def main(argv=None):
    args = parse_arguments(argv)
    args.bench = os.path.abspath(args.bench)
    return processes.run_guarded("run_sweep", args.output_dir, lambda: sweep(args))


if __name__ == "__main__":
    sys.exit(main())
