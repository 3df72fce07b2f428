#!/usr/bin/env python3
"""Two builds of the harness, timed against each other on this machine.

Runs each build's train_full benchmark (the whole training run, and its
forward, backward and update totals) for the variants named, alternately:
old then new in one pair, new then old in the next, so that a drift in the
machine's speed falls on both builds alike. The ratio old / new is taken
within each pair, and summarised by its median and range over the pairs;
single times on a shared machine move too much to be compared across runs.

Typical use, against an earlier commit:
  git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build \\
      -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build --target microgpt-bench
  make compare-builds OLD=/tmp/old/build/microgpt-bench ARGS="--n-embd 128 --n-layer 4 --steps 50"

Exit status: 0; 1 when a run failed; 2 on bad input.
"""
import argparse
import json
import os
import subprocess
import sys

from microgpt_bench import files, stats

PHASES = (("step", "real_time", 1e-3), ("forward", "forward_seconds", 1.0),
          ("backward", "backward_seconds", 1.0), ("update", "update_seconds", 1.0))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Time two builds of microgpt-bench against each other: train_full of each variant, "
                    "the builds alternating, the ratio old / new taken pair by pair.",
        epilog="Arguments after -- go to both harnesses, e.g. -- --n-embd 128 --n-layer 4 --steps 50. "
               "Exit status: 0; 1 when a run failed; 2 on bad input.")
    parser.add_argument("--old", required=True, help="the earlier build's microgpt-bench")
    parser.add_argument("--new", required=True, help="this build's microgpt-bench")
    parser.add_argument("--variant", action="append", help="variant to time (repeatable; default: floor)")
    parser.add_argument("--pairs", type=int, default=5, help="pairs of runs (default 5)")
    parser.add_argument("--output", help="also write the pairs and the summary as JSON to this file")
    parser.add_argument("bench_arguments", nargs="*", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.pairs < 1:
        parser.error("--pairs must be at least 1")
    for build in (arguments.old, arguments.new):
        if not (os.path.isfile(build) and os.access(build, os.X_OK)):
            parser.error(f"{build}: not an executable harness")
    arguments.variant = arguments.variant or ["floor"]
    if len(set(arguments.variant)) != len(arguments.variant):
        parser.error("a --variant is named twice")
    return arguments


def train_full(bench, variant, bench_arguments):
    """{phase: seconds} of one run of the harness's train_full, or a failure text."""
    command = [bench, "--variant", variant, "--benchmark_filter=^train_full/", "--benchmark_format=json"]
    try:
        done = subprocess.run(command + bench_arguments, capture_output=True, text=True)
    except OSError as error:
        return f"{bench}: {error}"
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        return f"{bench} --variant {variant}: exit status {done.returncode}: {last[0]}"
    try:
        report = json.loads(done.stdout[done.stdout.index("{"):])
        row = next(b for b in report["benchmarks"] if b["name"].startswith("train_full/"))
        return {phase: row[key] * scale for phase, key, scale in PHASES}
    except (ValueError, KeyError, StopIteration) as error:
        return f"{bench} --variant {variant}: no train_full result ({error})"


def pair_order(index):
    """old first in even pairs, new first in odd ones."""
    return ("old", "new") if index % 2 == 0 else ("new", "old")


def summarise(pairs):
    """{phase: {old, new, ratio}} of Spreads over the pairs of one variant;
    each pair {"old": {phase: s}, "new": {phase: s}}."""
    summary = {}
    for phase, _, _ in PHASES:
        old = [pair["old"][phase] for pair in pairs]
        new = [pair["new"][phase] for pair in pairs]
        summary[phase] = {"old": stats.spread(old), "new": stats.spread(new),
                          "ratio": stats.spread([o / n for o, n in zip(old, new) if n > 0])}
    return summary


def format_summary(variant, summary, pairs):
    lines = [f"{variant}, {pairs} pairs: the run's time (step: all of train_full; the phases: their totals), "
             "median of each build, and old / new per pair, median [min-max]",
             f"{'phase':<9} {'old':>12} {'new':>12}   {'old / new':<22}"]
    for phase, _, _ in PHASES:
        s = summary[phase]
        ratio = s["ratio"]
        lines.append(f"{phase:<9} {s['old'].median * 1e3:>10.3f}ms {s['new'].median * 1e3:>10.3f}ms   "
                     f"{ratio.median:.2f}x [{ratio.low:.2f}-{ratio.high:.2f}]")
    return "\n".join(lines)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    results, failures = {variant: [] for variant in arguments.variant}, []
    for index in range(arguments.pairs):
        for variant in arguments.variant:
            pair = {}
            for which in pair_order(index):
                bench = arguments.old if which == "old" else arguments.new
                pair[which] = train_full(bench, variant, arguments.bench_arguments)
            broken = [text for text in pair.values() if isinstance(text, str)]
            if broken:
                failures.extend(broken)
                print(f"pair {index + 1}/{arguments.pairs} {variant}: failed: {broken[0]}", flush=True)
                continue
            results[variant].append(pair)
            print(f"pair {index + 1}/{arguments.pairs} {variant}: old {pair['old']['step']:.4f} s, "
                  f"new {pair['new']['step']:.4f} s, old / new {pair['old']['step'] / pair['new']['step']:.2f}",
                  flush=True)
    report = {"old": arguments.old, "new": arguments.new, "arguments": arguments.bench_arguments, "variants": {}}
    for variant, pairs in results.items():
        if not pairs:
            continue
        summary = summarise(pairs)
        print(format_summary(variant, summary, len(pairs)))
        report["variants"][variant] = {"pairs": pairs, "summary": {
            phase: {k: spread._asdict() for k, spread in values.items()} for phase, values in summary.items()}}
    if arguments.output:
        files.atomic_write(arguments.output, files.json_text(report))
    if failures:
        print(f"compare_builds: {len(failures)} runs failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
