"""scripts/bench COMMAND: the bench tool's commands. Bad input: one line on
stderr and exit 2; Ctrl-C: exit 130, the published results as they were."""
import argparse
import datetime
import os
import sys

from . import compare, dataset, instructions, report, run, runner, sweep
from .util import PROJECT_DIR, ResultsError, atomic_write_all, json_text, log

SKIPPED = 77  # ctest's SKIP_RETURN_CODE: a check that does not apply


def positive(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def name_and_path(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got '{text}'")
    return tuple(text.split("=", 1))


def run_dir(build_dir, kind):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return os.path.join(build_dir, f"{kind}-runs", f"{stamp}-{os.getpid()}")


def programs_of(args):
    bench = os.path.abspath(args.bench)
    torch_python = args.torch_python or (sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3")
    return runner.Programs(bench, args.python, torch_python, os.path.dirname(bench), args.timeout)


def command_run(args):
    programs = programs_of(args)
    args.run_dir = args.run_dir or run_dir(programs.build_dir, "bench")
    if args.k_steps > args.steps:
        raise ResultsError(f"--k-steps ({args.k_steps}) must not exceed --steps ({args.steps})")
    return run.bench(args, programs)


def command_sweep(args):
    programs = programs_of(args)
    args.run_dir = args.run_dir or run_dir(programs.build_dir, "sweep")
    os.makedirs(args.run_dir, exist_ok=True)
    args.data = dataset.locate(args.data, programs.build_dir)
    dataset.check(args.data, False)
    grid = sweep.QUICK if args.quick else sweep.DEFAULT
    grid = grid._replace(extended=sweep.EXTENDED_N_EMBD if args.extend else ())
    if args.n_embd or args.n_layer:  # a grid of one's own: no larger points
        grid = grid._replace(n_embd=args.n_embd or grid.n_embd, n_layer=args.n_layer or grid.n_layer,
                             large_n_embd=(), large_block=None, extended=())
    default = not args.quick and not args.variants and not (args.n_embd or args.n_layer)
    output = os.path.abspath(args.output_dir or (run.RESULTS_DIR if default else args.run_dir))
    readme = report.readme_target(args.readme, default and output == run.RESULTS_DIR)
    if readme:
        report.check_readme(readme)
    _, _, failures = sweep.sweep(args, programs, grid, readme)
    if failures:
        log(f"sweep: {len(failures)} failed point(s): {'; '.join(failures)}\nsweep: partial outputs in "
            f"{args.run_dir}; {output} and README.md were left as they were")
        return 1
    outputs = report.render_sweep(args.run_dir)
    report.write(outputs, args.run_dir)
    published = output != os.path.abspath(args.run_dir)  # else the outputs are already where they go
    if published:
        outputs.update({name: open(os.path.join(args.run_dir, name), "rb").read() for name in sweep.FILES[:2]})
        report.publish(outputs, output, sweep.FILES, readme, programs.build_dir, output, args.run_dir)
    log(f"sweep: wrote {', '.join(sorted(outputs))} to {output}" + (f" and {readme}" if readme and published else ""))
    return 0


def command_report(args):
    """Tables, plots, README.md's blocks and docs/results.md again from a results directory."""
    directory = os.path.abspath(args.results_dir)
    readme = report.readme_target(args.readme, directory == run.RESULTS_DIR)
    outputs = report.render_bench(directory)
    if os.path.exists(os.path.join(directory, "sweep_run.json")):
        outputs.update(report.render_sweep(directory))
    report.publish(outputs, directory, (), readme, args.build_dir, directory, directory)
    log(f"report: wrote {len(outputs)} files to {directory}" + (f", {readme} and docs/results.md" if readme else ""))
    return 0


def command_compare(args):
    lines, failures = compare.compare(args.a, args.b)
    text = "\n".join(lines) + "\n"
    atomic_write_all({args.output: text}) if args.output else sys.stdout.write(text)
    for failure in failures:
        print(f"bench compare: {failure}", file=sys.stderr)
    return 1 if failures else 0


def command_compare_builds(args):
    for build in (args.old, args.new):
        if not (os.path.isfile(build) and os.access(build, os.X_OK)):
            raise ResultsError(f"{build}: not an executable harness")
    lines, result, failures = compare.compare_builds(os.path.abspath(args.old), os.path.abspath(args.new),
                                                      args.variant or ["floor"], args.pairs, args.arguments)
    log("\n".join(lines))
    if args.output:
        atomic_write_all({args.output: json_text(result)})
    return 1 if failures else 0


def command_instructions(args):
    data = dataset.locate(args.data, args.build_dir)
    programs = dict(args.program or [])
    if args.check:
        baseline = instructions.load_json(args.check)
        if not isinstance(baseline, dict) or not {"build", "steps", "variants"} <= set(baseline):
            raise ResultsError(f"{args.check}: not an instruction baseline (scripts/bench instructions --write-baseline)")
        reason = instructions.skip_reason(args.build_dir, baseline["build"])
        if reason:
            log(f"skipped: {reason}")
            return SKIPPED
        counts = {v: instructions.count_variant(args.build_dir, v, baseline["steps"], data, programs.get(v))
                  for v in args.variant or runner.list_variants(os.path.join(args.build_dir, "microgpt-bench"))}
        regressions, notes = instructions.compare(counts, baseline["variants"], args.tolerance)
        log("\n".join(notes + [f"REGRESSION {line}: more than {args.tolerance:.0%} above" for line in regressions]))
        return 1 if regressions else 0
    variants = args.variant or runner.list_variants(os.path.join(args.build_dir, "microgpt-bench"))
    document = instructions.document(args.build_dir, variants, args.steps, data, log)
    if args.write_baseline:
        atomic_write_all({args.write_baseline: json_text(document, sort_keys=True)})
        log(f"wrote {args.write_baseline}")
    return 0


def parser():
    top = argparse.ArgumentParser(prog="scripts/bench", description="microgpt-bench's bench tool: run, sweep, report, "
                                  "compare, compare-builds, instructions (each has --help).")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = run.DEFAULTS
    bench_path = os.path.join(PROJECT_DIR, "build", "microgpt-bench")

    def harness(p):
        p.add_argument("--bench", default=bench_path, help="the harness (default build/microgpt-bench)")
        p.add_argument("--data", help="names file (default: $MICROGPT_DATA, data/names.txt, the tests' fixture)")
        p.add_argument("--output-dir", help="where the outputs go (default: results/ for a run at the defaults, else "
                       "the run directory)")
        p.add_argument("--readme", help="publish into this README's blocks and its docs/results.md ('' : none)")
        p.add_argument("--run-dir", help="the run's own directory (default BUILD/<kind>-runs/<time>)")
        p.add_argument("--variants", help="comma-separated variants (default: all the build has)")
        p.add_argument("--timeout", type=positive(1), default=1800, help="seconds before a process counts as failed")
        p.add_argument("--python", default=sys.executable, help="interpreter of the Python baselines")
        p.add_argument("--torch-python", help="interpreter with torch (default: this one)")

    p = commands.add_parser("run", help="`make bench`: every variant and the baselines in rounds")
    harness(p)
    for name, help_text in (("steps", "steps of the full run"), ("k-steps", "steps compared with the slow baselines"),
                            ("rounds", "rounds"), ("phase-iterations", "iterations of the phase benchmarks")):
        p.add_argument(f"--{name}", type=positive(1), default=defaults[name.replace("-", "_")],
                       help=f"{help_text} (default {defaults[name.replace('-', '_')]})")
    p.add_argument("--baseline-rounds", type=positive(0), default=defaults["baseline_rounds"],
                   help="the first rounds that also run Python and PyTorch (default 3)")
    p.add_argument("--instruction-steps", type=positive(0), default=defaults["instruction_steps"],
                   help="steps counted under callgrind (default 5; 0: none)")
    p.add_argument("--full", action="store_true", help="run the Python and PyTorch baselines for every step")
    p.add_argument("--skip-baselines", action="store_true", help="no baseline rows")
    p.add_argument("--factor-sizes", default=defaults["factor_sizes"], help="sizes of the speed factors ('' : none)")
    p.add_argument("--allow-other-dataset", action="store_true",
                   help="time a dataset that is not the reference's (marked, never published)")
    p.set_defaults(function=command_run)

    p = commands.add_parser("sweep", help="`make sweep`: every variant and PyTorch over model sizes")
    harness(p)
    p.add_argument("--quick", action="store_true", help="a small grid of 5 steps a point (CI)")
    p.add_argument("--extend", action="store_true", help="floor, sequence and PyTorch also at n_embd "
                   + ", ".join(map(str, sweep.EXTENDED_N_EMBD)) + " × 4 layers")
    p.add_argument("--no-torch", action="store_true", help="no PyTorch rows")
    sizes = lambda text: tuple(positive(1)(part) for part in text.split(",") if part)  # noqa: E731
    p.add_argument("--n-embd", type=sizes, help="comma-separated widths of a grid of one's own (no larger points)")
    p.add_argument("--n-layer", type=sizes, help="comma-separated depths of a grid of one's own")
    p.set_defaults(function=command_sweep)

    p = commands.add_parser("report", help="the tables, plots and README blocks again from a results directory")
    p.add_argument("--results-dir", default=run.RESULTS_DIR)
    p.add_argument("--readme", help="the README to rewrite (default README.md for results/; '' : none)")
    p.add_argument("--build-dir", default=os.path.join(PROJECT_DIR, "build"), help="for the registry of variants")
    p.set_defaults(function=command_report)

    p = commands.add_parser("compare", help="two runs: Google Benchmark JSON files or results directories")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--output", help="write the comparison to this file")
    p.set_defaults(function=command_compare)

    p = commands.add_parser("compare-builds", help="two harness builds timed alternately, old / new per pair")
    p.add_argument("--old", required=True)
    p.add_argument("--new", default=bench_path)
    p.add_argument("--variant", action="append", help="repeatable (default floor)")
    p.add_argument("--pairs", type=positive(1), default=5)
    p.add_argument("--output", help="also write the pairs as JSON")
    p.add_argument("arguments", nargs="*", help="after --: arguments for both harnesses, e.g. -- --n-embd 128")
    p.set_defaults(function=command_compare_builds)

    p = commands.add_parser("instructions", help="instructions per step under callgrind; the regression baseline")
    p.add_argument("--build-dir", default=os.path.join(PROJECT_DIR, "build"))
    p.add_argument("--variant", action="append", help="repeatable (default: every variant)")
    p.add_argument("--program", action="append", metavar="NAME=PATH", type=name_and_path, help="count PATH under NAME")
    p.add_argument("--steps", type=positive(1), default=instructions.DEFAULT_STEPS)
    p.add_argument("--data")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write-baseline", metavar="FILE")
    mode.add_argument("--check", metavar="FILE", help="exit 1 on a regression, 77 when it does not apply")
    p.add_argument("--tolerance", type=float, default=instructions.DEFAULT_TOLERANCE)
    p.set_defaults(function=command_instructions)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.function(args)
    except ResultsError as error:
        print(f"bench {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nbench {args.command}: interrupted; results/ and README.md left as they were", file=sys.stderr)
        return 130
