#!/usr/bin/env python3
"""Where the speed comes from: the chain of variants, one factor per link.

From naive (the reference's engine) to floor (no graph), each variant of the
chain changes one thing from the one before it; a link's speedup is the time
of its first variant over the time of its second, taken from the same round
(the variants of a round run one after the other, so both see the same
machine load). Over several rounds each link gets a median and a range.

As a module (scripts/run_bench.py calls it):
  CHAIN, LINKS                          the chain and what each link changes
  link_factors(times)                   times {variant: [seconds per step, one per round]}
                                        -> [{link, from, to, ratios, median, min, max}, ...]
  write_factors(times_by_size, output_dir, readme=None)
                                        times_by_size {size key: times} (SIZES' keys);
                                        writes speedup_factors.png, speed_factors.json
                                        and speed_factors.md, and the table into
                                        readme's speed-factors block if given
  run_chain_rounds(bench, size, steps, rounds, data=None)
                                        times {variant: [...]} from the harness
As a program: runs the chain's rounds itself at both sizes with the harness
(build/microgpt-bench --sweep, one process per round and size, the chain's
variants in it), or re-renders a saved speed_factors.json (--from-json).
Exit status: 0; 1 when a round failed; 2 on bad input.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from microgpt_bench import bench_run, files, plotting, processes, readme, stats

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEED_FACTORS_BLOCK = readme.Block("<!-- speed-factors:begin -->", "<!-- speed-factors:end -->",
                                   "the speed-factors table")
PLOT_FILE, JSON_FILE, TABLE_FILE = "speedup_factors.png", "speed_factors.json", "speed_factors.md"

# The chain, in order. Each link: (factor, what changes, effect on the
# reference's gradient accumulation order).
CHAIN = ("naive", "arena", "arena_fused", "arena_sweep", "tape", "vector", "replay", "floor")
LINKS = (
    ("allocation", "a malloc and a free per node → a per-step arena (same nodes, same recursive sort)",
     "same order: bit-exact"),
    ("fusion", "a scalar linear (2 n_in mul/add nodes per output) → one node per output",
     "same order: bit-exact"),
    ("ordering", "recursive depth-first sort → one reverse sweep in creation order",
     "changes the accumulation order (within 1e-9)"),
    ("layout", "pointer-linked node structs → flat arrays indexed by node number",
     "same order as the sweep: identical losses"),
    ("granularity", "a node per scalar → a node per vector op, hand-written local backward",
     "back to the reference's order: bit-exact"),
    ("construction", "build the coarse graph each step → replay the one captured for this length",
     "same order: bit-exact"),
    ("no graph", "replayed nodes → hand-written forward and backward over plain arrays",
     "same order: bit-exact"),
)
# The PyTorch rows timed in the same rounds (scripts/microgpt_torch.py, one
# thread): key in the times, --mode, label.
TORCH_ROWS = (("torch_position", "position", "PyTorch eager, per position"),
              ("torch_sequence", "sequence", "PyTorch eager, whole sequence"))
TORCH_SCRIPT = os.path.join(PROJECT_DIR, "scripts", "microgpt_torch.py")
# Model sizes: the reference's, and the sweep's largest.
SIZES = {
    "reference": {"label": "reference size (n_embd 16, n_layer 1)", "n_embd": 16, "n_head": 4, "n_layer": 1,
                  "block_size": 16},
    "large": {"label": "sweep's largest (n_embd 128, n_layer 4)", "n_embd": 128, "n_head": 4, "n_layer": 4,
              "block_size": 16},
}


FactorsError = files.ResultsError  # bad input or a failed run: one line for the user


def ratio_stats(numerators, denominators):
    """The ratios numerator / denominator of the rounds where both were
    measured (None for a round where one failed), their median and range."""
    ratios = [x / y for x, y in zip(numerators or [], denominators or [])
              if x is not None and y is not None and y > 0]
    summary = stats.spread(ratios)
    return {"ratios": ratios, "median": summary.median if summary else None,
            "min": summary.low if summary else None, "max": summary.high if summary else None}


def link_factors(times):
    """Per link of CHAIN, the ratios time(A) / time(B) of the rounds where
    both ran, with their median and range. times: {variant: [t_round1, ...]}
    (None for a round where that variant failed); a link whose variants are
    missing has no ratios and None statistics."""
    factors = []
    for (factor, change, order), first, second in zip(LINKS, CHAIN, CHAIN[1:]):
        factors.append({"link": factor, "from": first, "to": second, "change": change, "order": order,
                        **ratio_stats(times.get(first), times.get(second))})
    return factors


def whole_chain(times):
    """naive over floor per round, as link_factors gives a link."""
    return ratio_stats(times.get(CHAIN[0]), times.get(CHAIN[-1]))


def median_times(times):
    return {variant: statistics.median([t for t in values if t is not None])
            for variant, values in times.items() if any(t is not None for t in values)}


def format_factor(entry):
    if entry["median"] is None:
        return "not measured"
    if len(entry["ratios"]) == 1:
        return f"{entry['median']:.2f}×"
    return f"{entry['median']:.2f}× [{entry['min']:.2f}–{entry['max']:.2f}]"


def largest_link(factors):
    measured = [f for f in factors if f["median"] is not None]
    return max(measured, key=lambda f: f["median"])["link"] if measured else None


def render_table(times_by_size):
    """The markdown table "where the speed comes from": one row per link, a
    column per size with the median speedup and its range over the rounds."""
    sizes = [key for key in SIZES if key in times_by_size]
    factors = {key: link_factors(times_by_size[key]) for key in sizes}
    header = "| link | what changes | variants | accumulation order | " + \
        " | ".join(f"speedup, {SIZES[key]['label']}" for key in sizes) + " |"
    lines = [header, "|" + "---|" * (4 + len(sizes))]
    for index, (factor, change, order) in enumerate(LINKS):
        cells = [format_factor(factors[key][index]) for key in sizes]
        lines.append(f"| {factor} | {change} | `{CHAIN[index]}` → `{CHAIN[index + 1]}` | {order} | "
                     + " | ".join(cells) + " |")
    totals = [format_factor(whole_chain(times_by_size[key])) for key in sizes]
    lines.append(f"| **whole chain** | | `{CHAIN[0]}` → `{CHAIN[-1]}` | | " + " | ".join(f"**{t}**" for t in totals)
                 + " |")
    rounds = {key: max((len(v) for v in times_by_size[key].values()), default=0) for key in sizes}
    notes = ", ".join(f"{rounds[key]} at the {SIZES[key]['label']}" for key in sizes)
    largest = ", ".join(f"{largest_link(factors[key]) or 'none'} at the {SIZES[key]['label']}" for key in sizes)
    lines += ["", f"Speedup of a link: time per step of its first variant over its second's, in the same "
              f"round; median [min–max] over the rounds ({notes}). The largest factor: {largest}. "
              "Generated by scripts/speed_factors.py."]
    if any(key in times_by_size[size] for size in sizes for key, _, _ in TORCH_ROWS):
        lines += ["", render_torch_table(times_by_size, sizes)]
    return "\n".join(lines) + "\n"


def format_time(values):
    measured = [t for t in values or [] if t is not None]
    if not measured:
        return "not measured"
    median = statistics.median(measured)
    unit, scale = ("s", 1.0) if median >= 1.0 else ("ms", 1e3) if median >= 1e-3 else ("µs", 1e6)
    return f"{median * scale:.3g} {unit}"


def render_torch_table(times_by_size, sizes):
    """The chain's variants and the PyTorch rows of the same rounds: time per
    step, and how many times faster than PyTorch's whole-sequence mode."""
    header = "| row | " + " | ".join(f"time per step, {SIZES[key]['label']} | vs PyTorch whole sequence"
                                      for key in sizes) + " |"
    lines = [header, "|" + "---|" * (1 + 2 * len(sizes))]
    labels = [(variant, f"`{variant}`") for variant in CHAIN] + [(key, label) for key, _, label in TORCH_ROWS]
    for key, label in labels:
        cells = []
        for size in sizes:
            times = times_by_size[size]
            cells.append(format_time(times.get(key)))
            versus = ratio_stats(times.get("torch_sequence"), times.get(key))
            cells.append(format_factor(versus) if key != "torch_sequence" else "1×")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Time per step: median over the rounds (the training loop only). vs PyTorch: PyTorch's "
              "whole-sequence time over the row's, in the same round (above 1×: the row is faster). "
              "PyTorch: float64, one thread, torch autograd, the reference's Adam."]
    return "\n".join(lines)


def render_plot(times_by_size):
    """The PNG bytes of a waterfall per size: each bar one link, from its
    first variant's median time per step down to its second's (log scale),
    labelled with the link's speedup, median [min–max] over the rounds."""
    plt = plotting.pyplot()
    sizes = [key for key in SIZES if key in times_by_size]
    figure, axes_list = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 5.2), squeeze=False)
    for axes, key in zip(axes_list[0], sizes):
        times = median_times(times_by_size[key])
        factors = link_factors(times_by_size[key])
        seconds = [times.get(variant) for variant in CHAIN]
        for index, factor in enumerate(factors):
            top, bottom = seconds[index], seconds[index + 1]
            if top is None or bottom is None:
                axes.text(index, 1.0, "not measured", rotation=90, ha="center", va="bottom",
                          transform=axes.get_xaxis_transform(), fontsize=8)
                continue
            faster = bottom <= top
            axes.bar(index, abs(top - bottom) or top * 1e-3, bottom=min(top, bottom), width=0.6,
                     color="tab:green" if faster else "tab:red", edgecolor="black", linewidth=0.5)
            axes.text(index, min(top, bottom) / 1.15, format_factor(factor).replace(" [", "\n["),
                      ha="center", va="top", fontsize=7.5)
            if index + 1 < len(factors):  # the step down carries over to the next link
                axes.plot([index + 0.3, index + 0.7], [bottom, bottom], color="gray", linewidth=0.8)
        axes.set_yscale("log")
        axes.set_xticks(range(len(factors)))
        axes.set_xticklabels([f"{f['link']}\n{f['from']}→\n{f['to']}" for f in factors], fontsize=7.5)
        axes.set_ylabel("time per training step (s), median over rounds")
        measured = [s for s in seconds if s is not None]
        for (row, _, label), color in zip(TORCH_ROWS, ("tab:purple", "tab:blue")):
            if times.get(row) is not None:
                axes.axhline(times[row], linestyle="--", linewidth=0.9, color=color)
                axes.text(len(factors) - 0.5, times[row], f"{label} (1 thread)", ha="right", va="bottom",
                          fontsize=7.5, color=color)
                measured.append(times[row])
        if measured:
            axes.set_ylim(min(measured) / 3, max(measured) * 2)
        total = whole_chain(times_by_size[key])
        axes.set_title(f"{SIZES[key]['label']}\nwhole chain {format_factor(total)}", fontsize=10)
        axes.grid(True, axis="y", which="both", linestyle=":", linewidth=0.5)
    figure.suptitle("Where the speed comes from: one factor per link (speedup, median [min–max] over rounds)",
                    fontsize=11)
    figure.tight_layout()
    return plotting.render_figures(plt, [(figure, [PLOT_FILE])])[PLOT_FILE]


def readme_has_block(path):
    """Whether path can take the table; a README without the block is left
    alone, with one line saying so (the table is still in speed_factors.md)."""
    try:
        readme.check_readme(path, SPEED_FACTORS_BLOCK)
    except files.ResultsError as error:
        print(f"speed_factors: {error}: the README is left as it is, the table is in {TABLE_FILE}",
              file=sys.stderr)
        return False
    return True


def write_factors(times_by_size, output_dir, readme_path=None, settings=None):
    """The module's entry point: writes speedup_factors.png, speed_factors.json
    (times, factors, settings) and speed_factors.md into output_dir, and the
    table between readme_path's speed-factors markers when it is given and
    has them. times_by_size: {"reference": {variant: [seconds per step by
    round]}, "large": {...}} (either size may be missing; PyTorch rows under
    TORCH_ROWS' keys). Returns the markdown table."""
    unknown = [key for key in times_by_size if key not in SIZES]
    if unknown:
        raise FactorsError(f"unknown size(s) {', '.join(unknown)}; sizes are {', '.join(SIZES)}")
    table = render_table(times_by_size)
    document = {
        "chain": list(CHAIN),
        "links": [{"link": f, "change": c, "order": o} for f, c, o in LINKS],
        "sizes": {key: SIZES[key] for key in times_by_size},
        "settings": settings or {},
        "seconds_per_step": times_by_size,
        "factors": {key: link_factors(times) for key, times in times_by_size.items()},
        "whole_chain": {key: whole_chain(times) for key, times in times_by_size.items()},
    }
    outputs = {PLOT_FILE: render_plot(times_by_size), JSON_FILE: files.json_text(document),
               TABLE_FILE: "# Where the speed comes from\n\n" + table}
    files.write_outputs(outputs, output_dir)
    if readme_path and readme_has_block(readme_path):
        readme.update_readme(readme_path, SPEED_FACTORS_BLOCK, table)
    return table


def harness_command(bench, size, steps, variants, output, data=None, min_time=0.0):
    shape = SIZES[size]
    command = [bench, "--sweep", "--steps", str(steps), "--n-embd", str(shape["n_embd"]),
               "--n-head", str(shape["n_head"]), "--n-layer", str(shape["n_layer"]),
               "--block-size", str(shape["block_size"]), f"--benchmark_min_time={min_time:g}",
               f"--benchmark_out={output}", "--benchmark_out_format=json"]
    for variant in variants:
        command += ["--variant", variant]
    if data:
        command += ["--data", data]
    return command


def seconds_per_step(benchmark_json, steps):
    """{variant: seconds per training step} from a --sweep run's JSON."""
    result = {}
    for entry in benchmark_json.get("benchmarks", []):
        parts = entry.get("run_name", entry["name"]).split("/")
        if len(parts) >= 2 and parts[0] == "sweep" and entry.get("run_type", "iteration") == "iteration":
            unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]
            result[parts[1]] = entry["real_time"] * unit / steps
    return result


def torch_seconds_per_step(torch_python, mode, size, steps, report, data=None):
    """Seconds per step of one PyTorch run (training loop only, one thread),
    or (None, why) when it could not run."""
    shape = SIZES[size]
    command = [torch_python, TORCH_SCRIPT, "--mode", mode, "--steps", str(steps), "--quiet", "--no-graph-count", "--threads", "1",
               "--n-embd", str(shape["n_embd"]), "--n-head", str(shape["n_head"]),
               "--n-layer", str(shape["n_layer"]), "--block-size", str(shape["block_size"]), "--report", report]
    if data:
        command += ["--data", data]
    outcome, result = processes.run_json_process(command, os.path.splitext(report)[0], None, output_path=report)
    if result is None:
        return None, outcome["status"]
    return result["train_seconds"] / steps, None


def run_chain_rounds(bench, size, steps, rounds, data=None, variants=CHAIN, torch_python=None, log=print):
    """Times the chain at one size: `rounds` harness processes, each running
    every variant once (its training loop of `steps` steps; the harness
    checks gradients first). The variants' order rotates from round to
    round. With torch_python, each round also runs the PyTorch rows
    (TORCH_ROWS) for as many steps; a row that cannot run (torch missing) is
    None in every round and its reason is logged.
    Returns {variant or PyTorch row: [seconds per step, one per round]}."""
    times = {variant: [] for variant in variants}
    if torch_python:
        times.update({key: [] for key, _, _ in TORCH_ROWS})
    with tempfile.TemporaryDirectory(prefix="speed-factors-") as directory:
        for round_index in range(rounds):
            shift = round_index % len(variants)
            order = list(variants[shift:]) + list(variants[:shift])
            output = os.path.join(directory, f"{size}-{round_index}.json")
            command = harness_command(bench, size, steps, order, output, data)
            log(f"[{size} round {round_index + 1}/{rounds}] {' '.join(order)} ({steps} steps each) ...")
            outcome, result = processes.run_json_process(command, os.path.splitext(output)[0], None,
                                                         output_path=output)
            if result is None:
                raise FactorsError(f"{' '.join(command)}: {outcome['status']}")
            measured = seconds_per_step(result, steps)
            for variant in variants:
                times[variant].append(measured.get(variant))
            for key, mode, label in TORCH_ROWS if torch_python else ():
                report = os.path.join(directory, f"{size}-{round_index}-{key}.json")
                seconds, why = torch_seconds_per_step(torch_python, mode, size, steps, report, data)
                times[key].append(seconds)
                if why:
                    log(f"[{size} round {round_index + 1}/{rounds}] {label}: not measured: {why}")
    return times


def times_from_results(directory):
    """The chain's and the PyTorch rows' seconds per step at the reference
    size, by round, from a `make bench` results directory: the same rounds
    as its table (train_full of each variant; the PyTorch rows in the rounds
    that ran the baselines, None in the others)."""
    run = bench_run.load_run(directory)
    steps = run.run["settings"]["steps"]
    numbers = [record["round"] for record in run.run["rounds"]]
    times = {}
    for row in bench_run.rows(run):
        key = row.get("variant") or row.get("key")
        if key in CHAIN or key in [torch_key for torch_key, _, _ in TORCH_ROWS]:
            times[key] = [row["full"][n] / steps if n in row["full"] else None for n in numbers]
    missing = [variant for variant in CHAIN if variant not in times]
    if missing:
        raise FactorsError(f"{directory}: no timings of {', '.join(missing)} in the run")
    return times


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(PROJECT_DIR, "build", "microgpt-bench"))
    parser.add_argument("--output-dir", default=os.path.join(PROJECT_DIR, "results"))
    parser.add_argument("--rounds", type=int, default=5, help="rounds at each size (default 5)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per run at the reference size (default 1000)")
    parser.add_argument("--large-steps", type=int,
                        help="steps per run at the large size (default: 10, or --steps if fewer; naive takes "
                        "1.5 s a step or more there)")
    parser.add_argument("--sizes", default="reference,large", help="comma-separated: reference, large")
    parser.add_argument("--data", help="names file (default: the harness's own default)")
    parser.add_argument("--torch-python", default="/usr/bin/python3",
                        help="python3 with torch for the PyTorch rows of each round (default /usr/bin/python3; "
                        "'' for none)")
    parser.add_argument("--from-json", help="re-render a saved speed_factors.json instead of running")
    parser.add_argument("--reference-from", metavar="RESULTS_DIR",
                        help="take the reference size's times from this `make bench` results directory (the "
                        "rounds of its table) instead of timing them again")
    parser.add_argument("--readme", help="replace the table between this file's speed-factors markers")
    args = parser.parse_args(argv)
    if args.large_steps is None:
        args.large_steps = min(10, args.steps)
    if min(args.rounds, args.steps, args.large_steps) < 1:
        parser.error("--rounds, --steps and --large-steps must be at least 1")
    args.sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; sizes are {', '.join(SIZES)}")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    try:
        plotting.pyplot()
        if args.from_json:
            with open(args.from_json) as f:
                saved = json.load(f)
            times_by_size, settings = saved["seconds_per_step"], saved.get("settings", {})
        else:
            if not os.access(args.bench, os.X_OK):
                raise FactorsError(f"{args.bench}: no harness binary (run `make` first)")
            times_by_size = {}
            steps = {"reference": args.steps, "large": args.large_steps}
            for size in args.sizes:
                if size == "reference" and args.reference_from:
                    times_by_size[size] = times_from_results(args.reference_from)
                    continue
                times_by_size[size] = run_chain_rounds(args.bench, size, steps[size], args.rounds, args.data,
                                                       torch_python=args.torch_python or None)
            settings = {"rounds": args.rounds, "steps": {s: steps[s] for s in args.sizes},
                        "reference_from": args.reference_from and "the rounds of the table's run",
                        "bench": os.path.relpath(os.path.abspath(args.bench), PROJECT_DIR),
                        "load_average_after": list(os.getloadavg())}
        table = write_factors(times_by_size, args.output_dir, args.readme, settings)
    except (FactorsError, OSError, ValueError, KeyError) as error:
        print(f"speed_factors: {error}", file=sys.stderr)
        return 2
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
