#!/usr/bin/env python3
"""`make bench`: times every microgpt variant and the baselines in rounds.

Round r runs every variant once, each in a fresh process of the harness
(build/microgpt-bench: gradient check, then train_full of --steps steps,
train_k of the first --k-steps, forward/backward/update), in an order
rotated by one place each round; then, in the first --baseline-rounds
rounds, the baseline programs (scripts/microgpt_reference.py as "Original
Python" and "Optimized Python", and scripts/microgpt_torch.py when it is
there) on the first K steps, or on all steps with --full. Rounds rather
than repetitions back to back: drift and neighbours on the machine hit
every row alike, and ratios are taken within a round. A variant that
crashes loses only its own row ("failed: ...") and leaves the later rounds.
Round 1 also records every step's time of a train_full run of each
variant (microgpt-bench --step-times), in a process of its own after the
variant's timed one, so the recording's system calls are in no timed
run. After the rounds, callgrind counts
instructions per training step of the C variants and of the Python rows
(microgpt_bench/instructions.py, as scripts/count_instructions.py does).
Writes into the output directory (results/ by default):
  benchmark-round-NN.json  Google Benchmark JSON of each round (the source of truth);
  run.json                 settings, machine, compiler, git state, rounds, baseline timings;
  instructions.json        instruction counts, when counted;
  step_times.json          round 1's per-step times, one untimed run per variant;
  table.md, graph_size_vs_runtime.png/.svg, phases.png (make_table.py, plot_results.py),
  step_time.png            (plot_step_time.py) from the same run;
and the table between README.md's marker lines with --readme, or with
--readme-if-default when every setting is the default and the output
directory is results/. The output directory and the README are checked
before the first measurement; everything is staged and renamed into place
at the end, so an interrupted or broken run leaves the previous results.
Then scripts/speed_factors.py runs on the new results.
Exit status: 0; 1 when a variant crashed or has wrong gradients, or a
baseline failed (after all rows are written); 2 on bad input.
"""
import argparse
import os
import sys
import tempfile
import time

from microgpt_bench import (bench_plots, bench_run, bench_table, checks, hooks, instructions, metadata, processes,
                            readme, step_times)
from microgpt_bench.files import ResultsError, check_writable, json_text, load_json, publish
from microgpt_bench.processes import log

DEFAULTS = bench_run.DEFAULTS


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(metadata.PROJECT_DIR, "build", "microgpt-bench"),
                        help="the harness binary (default: build/microgpt-bench)")
    parser.add_argument("--output-dir", default=bench_run.DEFAULT_OUTPUT_DIR, help="default: results/")
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="steps of the full training run")
    parser.add_argument("--k-steps", type=int, default=DEFAULTS["k_steps"],
                        help="steps of the short run compared with the baselines")
    parser.add_argument("--rounds", "--repetitions", type=int, default=DEFAULTS["rounds"],
                        help=f"rounds: every variant once per round (default {DEFAULTS['rounds']})")
    parser.add_argument("--baseline-rounds", type=int, default=DEFAULTS["baseline_rounds"],
                        help="the first rounds that also run the baselines (default "
                             f"{DEFAULTS['baseline_rounds']}; at most --rounds)")
    parser.add_argument("--phase-iterations", type=int, default=DEFAULTS["phase_iterations"],
                        help="iterations of the forward/backward/update benchmarks")
    parser.add_argument("--full", action="store_true", help="run the baselines for all --steps steps")
    parser.add_argument("--skip-python", action="store_true", help="no baseline rows (for tests)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the baselines")
    parser.add_argument("--data", help="names file (default: the programs' own default)")
    parser.add_argument("--variants", help="comma-separated variants to run (default: all the binary has)")
    parser.add_argument("--instruction-steps", type=int, default=DEFAULTS["instruction_steps"],
                        help="steps counted under callgrind (default: the regression baseline's, "
                             f"{DEFAULTS['instruction_steps']}); 0: none")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a process counts as failed")
    parser.add_argument("--factor-sizes", default="reference,large",
                        help="sizes scripts/speed_factors.py times the chain at (default reference,large; "
                        "'' : no speed factors)")
    parser.add_argument("--readme", help="replace the table between this file's markers")
    parser.add_argument("--readme-if-default",
                        help="the same, but only when every setting is the default and the output is results/")
    parser.add_argument("--no-report", action="store_true",
                        help="write only the JSON files (no table, plots or README)")
    args = parser.parse_args(argv)
    for name in ("steps", "k_steps", "rounds", "phase_iterations"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("baseline_rounds", "instruction_steps"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    if args.k_steps > args.steps:
        parser.error(f"--k-steps ({args.k_steps}) must not exceed --steps ({args.steps})")
    args.baseline_rounds = min(args.baseline_rounds, args.rounds)
    return args


def settings_of(args):
    """The run's settings, as bench_run.DEFAULTS names them."""
    return {"steps": args.steps, "k_steps": args.k_steps, "rounds": args.rounds,
            "baseline_rounds": args.baseline_rounds, "phase_iterations": args.phase_iterations, "full": args.full,
            "variants": args.variants, "baselines": not args.skip_python, "data": args.data,
            "instruction_steps": args.instruction_steps}


def run_variant(args, variant, stem, label):
    """One harness process for one variant: (outcome, its JSON or None);
    its files are stem.json, .out and .err."""
    command = [args.bench, "--variant", variant, "--steps", str(args.steps), "--k-steps", str(args.k_steps),
               "--phase-iterations", str(args.phase_iterations), f"--benchmark_out={stem}.json",
               "--benchmark_out_format=json"]
    if args.data:
        command += ["--data", args.data]
    outcome, result = processes.run_json_process(command, stem, args.timeout, empty=processes.no_benchmarks)
    outcome["name"] = variant
    if result is None:
        log(f"[{label}] {variant}: {outcome['status']} after {outcome['seconds']:.1f} s")
        if outcome["stderr_tail"]:
            log("    " + outcome["stderr_tail"].replace("\n", "\n    "))
        return outcome, None
    entries = bench_run.benchmark_entries(result)
    full = entries.get(("train_full", variant))
    text = f"train_full {bench_table.format_seconds(bench_run.entry_seconds(full))}" if full else "no train_full"
    log(f"[{label}] {variant}: {checks.status_text(full or {})}, {text} ({outcome['seconds']:.1f} s)")
    return outcome, result


def record_step_times(args, variant, stem, label):
    """Every step's time of one train_full run of the variant, in a harness
    process of its own (fresh, as the timed ones), whose timings are not
    used: recording a step costs a few system calls, microseconds that the
    fastest rows' timed runs must not carry. The document, or None."""
    command = [args.bench, "--variant", variant, "--steps", str(args.steps), "--benchmark_filter=^train_full/",
               "--step-times", stem + ".steps.json", f"--benchmark_out={stem}.steps-run.json",
               "--benchmark_out_format=json"]
    if args.data:
        command += ["--data", args.data]
    outcome, _ = processes.run_json_process(command, stem + ".steps-run", args.timeout,
                                            empty=processes.no_benchmarks)
    try:
        if outcome["status"] != "ok":
            raise ResultsError(outcome["status"])
        return load_json(stem + ".steps.json", hint="the harness did not write it")
    except ResultsError as error:  # the timings stand; the plot lacks this variant
        log(f"[{label}] {variant}: no step times: {error}")
        return None


def run_baseline(args, baseline, steps, stem, label):
    command = [args.python, os.path.join(bench_run.SCRIPTS_DIR, baseline.script), *baseline.arguments,
               "--steps", str(steps), "--quiet", "--report", stem + ".json"]
    if args.data:
        command += ["--data", args.data]
    outcome, report = processes.run_json_process(command, stem, args.timeout)
    report = dict(report or {}, status=outcome["status"], wall_seconds=outcome["seconds"])
    if outcome["exit_code"] == checks.NOT_MEASURED_EXIT:  # it cannot run here (torch missing): its reason
        reason = processes.tail(stem + ".err", 1).split(": ", 1)[-1]
        report.update(status=f"{checks.NOT_MEASURED}: {reason}", not_measured=True)
    if outcome["status"] == "ok":
        log(f"[{label}] {baseline.label}: training {report['train_seconds']:.2f} s "
            f"({1e3 * report['train_seconds'] / steps:.1f} ms/step)")
    else:
        log(f"[{label}] {baseline.label}: {report['status']}")
    return report


def run_rounds(args, variants, baselines, work_dir):
    """Every round: (round records for run.json, {file: round JSON},
    {variant: its first failure}, round 1's per-step times: one document of
    every variant that ran, or None)."""
    records, files, failed, steps_documents = [], {}, {}, []
    python_steps = args.steps if args.full else args.k_steps
    for number in range(1, args.rounds + 1):
        active = [variant for variant in variants if variant not in failed]
        shift = (number - 1) % len(active) if active else 0
        order = active[shift:] + active[:shift]
        with_baselines = bool(baselines) and number <= args.baseline_rounds
        if not order and not with_baselines:
            break
        log(f"round {number}/{args.rounds}: {', '.join(order)}" +
            (" and the baselines" if with_baselines else ""))
        record = {"round": number, "order": order, "load_average_before": metadata.load_average(), "variants": []}
        started, results = time.monotonic(), []
        for index, variant in enumerate(order, 1):
            stem = os.path.join(work_dir, f"round{number}-{variant}")
            label = f"round {number}/{args.rounds}, {index}/{len(order)}"
            outcome, result = run_variant(args, variant, stem, label)
            record["variants"].append(outcome)
            if result is None:
                failed[variant] = outcome["status"]
            else:
                results.append(result)
                document = record_step_times(args, variant, stem, label) if number == 1 else None
                if document is not None:
                    steps_documents.append(document)
        if results:
            record["file"] = bench_run.round_file(number)
            files[record["file"]] = processes.merge_benchmarks(results)
        if with_baselines:
            record["baselines"] = {b.key: run_baseline(args, b, python_steps, os.path.join(work_dir, f"round{number}-{b.key}"),
                                                       f"round {number}/{args.rounds}") for b in baselines}
        record["seconds"] = round(time.monotonic() - started, 1)
        records.append(record)
    return records, files, failed, step_times.merge(steps_documents)


def run_metadata(args, settings, context, records, variants, failed, baselines, git, load_before, instructions_note):
    reports = [report for record in records for report in record.get("baselines", {}).values()]
    python_versions = sorted({report["python"] for report in reports if report.get("python")})
    return {
        "date": metadata.utc_now(),
        "machine": metadata.machine(load_before),
        **metadata.toolchain(context),
        "git": git,
        "dataset": {"path": context.get("microgpt_dataset"), "sha256": context.get("microgpt_dataset_sha256")},
        "python_version": ", ".join(python_versions) or None,
        "settings": dict(settings, python_steps=args.steps if args.full else args.k_steps,
                         bench=os.path.relpath(args.bench, metadata.PROJECT_DIR)),
        "variants": [{"name": variant, "status": failed.get(variant, "ok")} for variant in variants],
        "baselines": [baseline._asdict() for baseline in baselines],
        "rounds": records,
        "instructions": instructions_note,
    }


def python_rows_to_count(args, baselines, records):
    """(key, interpreter, strategy) of each Python reference row whose runs
    all succeeded (a failed one stays "not counted")."""
    reports = [record.get("baselines", {}) for record in records]
    return [(baseline.key, args.python, bench_run.python_strategy(baseline)) for baseline in baselines
            if bench_run.python_strategy(baseline)
            and any(baseline.key in report for report in reports)
            and all(report[baseline.key].get("status") == "ok" for report in reports if baseline.key in report)]


def instruction_counts(args, variants, failed, python_rows):
    """(instructions.json's content or None, run.json's "instructions")."""
    if not args.instruction_steps:
        counts, note = None, "not counted (--instruction-steps 0)"
    else:
        counted = [variant for variant in variants if variant not in failed]
        names = counted + ["Python " + key for key, _, _ in python_rows]
        log(f"counting instructions per step of {', '.join(names)} ...")
        counts, note = bench_run.count_run_instructions(os.path.dirname(args.bench), counted, args.instruction_steps,
                                                        args.data, python_rows, progress=log)
    log(f"instructions: {note}")
    return counts, dict({"note": note}, **({"file": bench_run.INSTRUCTIONS_FILE} if counts else {}))


def bench(args):
    settings = settings_of(args)
    if not args.no_report:
        bench_plots.pyplot()  # fail now rather than after minutes of benchmarks
    target = None if args.no_report else bench_run.readme_target(args.readme, args.readme_if_default, settings,
                                                                 args.output_dir)
    if target:
        readme.check_readme(target, readme.RESULTS_TABLE)
    check_writable(args.output_dir)
    variants = processes.select_variants(args.bench, args.variants)
    if args.instruction_steps and not instructions.valgrind_path():
        log("instructions: valgrind is not installed; the instruction column will say \"not counted\"")

    baselines = bench_run.BASELINES if not args.skip_python else ()
    started, load_before, git = time.monotonic(), metadata.load_average(), metadata.git_state()
    with tempfile.TemporaryDirectory(prefix="microgpt-bench-") as work_dir:
        records, files, failed, steps = run_rounds(args, variants, baselines, work_dir)
        counts, instructions_note = instruction_counts(args, variants, failed,
                                                       python_rows_to_count(args, baselines, records))
        context = next(iter(files.values()), {}).get("context", {})
        run_json = run_metadata(args, settings, context, records, variants, failed, baselines, git, load_before,
                                instructions_note)
        run = bench_run.Run(run_json, [files.get(record.get("file")) for record in records], counts)
        outputs = {name: json_text(value) for name, value in files.items()}
        outputs[bench_run.RUN_FILE] = json_text(run_json)
        if counts:
            outputs[bench_run.INSTRUCTIONS_FILE] = json_text(counts)
        if steps:
            outputs[step_times.FILE] = json_text(steps)
        table = bench_table.render(run)
        stale = [name for name in os.listdir(args.output_dir) if bench_run.ROUND_FILE_PATTERN.match(name)] \
            if os.path.isdir(args.output_dir) else []
        if not args.no_report:
            outputs["table.md"] = bench_table.table_document(table)
            outputs.update(bench_plots.render(run))
            if steps:  # the same run's steps as the table's, published together
                outputs.update(step_times.plot_outputs(steps, "round 1"))
            stale.append(step_times.PLOT)
        publish(outputs, args.output_dir, stale + list(bench_run.STALE_FILES))
        if target:
            readme.update_readme(target, readme.RESULTS_TABLE, table)
        factors_failure = hooks.run_speed_factors(args, target, work_dir)

    all_rows = bench_run.rows(run)
    if not args.no_report:
        log("\n" + "\n".join(bench_table.table_lines(all_rows, run_json["settings"])) + "\n")
    failures = [f"{row['version']}: {row['status']}" for row in all_rows if checks.is_failure(row["check"])]
    if factors_failure:
        failures.append(factors_failure)
    log(f"wrote {', '.join(sorted(outputs))} to {args.output_dir}" + (f" and the table to {target}" if target else "")
        + f" in {time.monotonic() - started:.0f} s")
    return processes.exit_status("run_bench", failures, "row(s)")


def main(argv=None):
    args = parse_arguments(argv)
    args.bench = os.path.abspath(args.bench)
    return processes.run_guarded("run_bench", args.output_dir, lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
