"""`make bench`: every variant and the baselines, timed in interleaved rounds.

Round r runs every variant once, each in a fresh harness process (gradient check, train_full, train_k, the
phases), in an order rotated by one place each round; then the Rust rows (every step), and in the first
BASELINE_ROUNDS rounds Python and PyTorch (the first K_STEPS steps). Ratios are taken within a round, so drift
hits every row alike. Round 1 also records per-step times; then callgrind counts instructions, and the speed
factors are timed at the larger size. All of it goes into a run directory (BUILD/bench-runs/<time>), published
(results/, README.md's blocks, docs/results.md together; a run at the defaults on the reference's dataset only)
only when every row asked for measured; a failed run exits 1, says where its outputs are, and changes nothing."""
import os
import time

from . import dataset, factors, instructions, report, rows, runner, tables
from .util import PROJECT_DIR, ResultsError, check_writable, format_seconds, git_state, json_text, load_json, log, \
    machine, run_process, toolchain, utc_now

DEFAULTS = {"steps": 1000, "k_steps": 300, "rounds": 5, "baseline_rounds": 3, "phase_iterations": 500,
            "full": False, "variants": None, "instruction_steps": instructions.DEFAULT_STEPS, "baselines": True,
            "factor_sizes": "reference,large"}
RESULTS_DIR = os.path.join(PROJECT_DIR, "results")
LARGE_STEPS = 10  # naive takes over a second a step at the large size
STEP_TIMES_FILE = "step_times.json"


def settings_of(args):
    return {"steps": args.steps, "k_steps": args.k_steps, "rounds": args.rounds,
            "baseline_rounds": min(args.baseline_rounds, args.rounds), "phase_iterations": args.phase_iterations,
            "full": args.full, "variants": args.variants, "instruction_steps": args.instruction_steps,
            "baselines": not args.skip_baselines, "factor_sizes": args.factor_sizes}


def targets(args, settings, is_reference):
    """(output directory, README to publish to or None). Only a run at the
    defaults on the reference's dataset goes to results/ and README.md unless
    told otherwise (RESULTS_DIR=, README=); any other stays in its run
    directory, and a run on another dataset always does."""
    differ = [f"{k.upper()}={v}" for k, v in settings.items() if v != DEFAULTS[k]]
    default = not differ and is_reference
    output = (args.output_dir or (RESULTS_DIR if default else args.run_dir)) if is_reference else args.run_dir
    output = os.path.abspath(output)
    readme = report.readme_target(args.readme, default and output == RESULTS_DIR)
    why = ("the dataset is not the reference's (the run is marked so)" if not is_reference else
           f"not the defaults ({' '.join(differ)})" if differ else "README= given" if args.readme is not None else
           f"the output is {output}, not results/")
    if readme and not is_reference:
        readme = None
    if not readme:
        log(f"README.md left as it is: {why}; outputs go to {output}")
    return output, readme


def record_step_times(programs, variant, stem, data, settings):
    """Every step's time of one train_full run, in a process of its own: the
    recording's system calls are in no timed run. None if it failed."""
    _, result = runner.run_harness(programs.bench, [variant], stem, data, [
        "--steps", str(settings["steps"]), "--benchmark_filter=^train_full/", "--step-times", stem + ".steps.json"],
        programs.timeout)
    return load_json(stem + ".steps.json") if result is not None else None


def run_variant(programs, variant, stem, data, settings, label):
    outcome, result = runner.run_harness(programs.bench, [variant], stem, data, [
        "--steps", str(settings["steps"]), "--k-steps", str(settings["k_steps"]), "--phase-iterations",
        str(settings["phase_iterations"])], programs.timeout)
    outcome["name"] = variant
    if result is None:
        log(f"[{label}] {variant}: {outcome['status']}\n    " + outcome.get("stderr_tail", "").replace("\n", "\n    "))
    else:
        full = runner.entries(result).get(("train_full", variant), {})
        log(f"[{label}] {variant}: {full.get('label', '?')}, train_full "
            f"{format_seconds(runner.entry_seconds(full) if full else None)} ({outcome['seconds']:.1f} s)")
    return outcome, result


def run_baseline(programs, baseline, steps, stem, data, label):
    log(f"[{label}] {baseline.label}: {steps} steps ...")
    result = runner.run_baseline(programs, baseline, steps, stem, data)
    done = f"training {result['train_seconds']:.2f} s" if result["status"] == "ok" else result["status"]
    log(f"[{label}] {baseline.label}: {done}")
    return result


def run_rounds(programs, variants, baselines, settings, data, work_dir):
    """(round records, {file: round JSON}, failures, step-time documents). A
    failure stops the run after its round: it will not be published."""
    records, files, failures, step_documents = [], {}, [], []
    python_steps = settings["steps"] if settings["full"] else settings["k_steps"]
    for number in range(1, settings["rounds"] + 1):
        order = variants[(number - 1) % len(variants):] + variants[:(number - 1) % len(variants)]
        with_slow = number <= settings["baseline_rounds"]
        record = {"round": number, "order": order, "load_average_before": list(os.getloadavg()), "variants": []}
        log(f"round {number}/{settings['rounds']}: {', '.join(order)}, then the baselines")
        started, results = time.monotonic(), []
        for index, variant in enumerate(order, 1):
            label, stem = f"round {number}/{settings['rounds']}, {index}/{len(order)}", os.path.join(
                work_dir, f"round{number}-{variant}")
            outcome, result = run_variant(programs, variant, stem, data, settings, label)
            record["variants"].append(outcome)
            if result is None:
                failures.append(f"{variant}: {outcome['status']}")
                continue
            results.append(result)
            if number == 1:
                document = record_step_times(programs, variant, stem + "-steps", data, settings)
                step_documents += [document] if document else []
        if results:
            record["file"] = rows.round_file(number)
            files[record["file"]] = runner.merge_benchmarks(results)
        record["baselines"] = {}
        for baseline in baselines:
            if baseline.language == "rust" or with_slow:
                steps = settings["steps"] if baseline.language == "rust" else python_steps
                result = run_baseline(programs, baseline, steps, os.path.join(work_dir, f"round{number}-{baseline.key}"),
                                      data, f"round {number}/{settings['rounds']}")
                record["baselines"][baseline.key] = result
                if result["status"] != "ok" and not result.get("not_measured"):
                    failures.append(f"{baseline.label}: {result['status']}")
        record["seconds"] = round(time.monotonic() - started, 1)
        records.append(record)
        if failures:
            log(f"round {number}: {len(failures)} failed step(s); the run stops here and will not be published")
            break
    return records, files, failures, step_documents


def reference_losses(programs, settings, data, work_dir):
    """{steps: losses} of naive, the reference's engine, for the spans the baselines run (their status)."""
    losses = {}
    for steps in sorted({settings["steps"], settings["k_steps"]}):
        path = os.path.join(work_dir, f"naive-{steps}.losses")
        failure, _ = run_process([os.path.join(programs.build_dir, "microgpt-naive"), "--steps", str(steps),
                                  "--samples", "0", "--quiet", "--losses", path, "--data", data], path)
        if failure:
            raise ResultsError(f"microgpt-naive --steps {steps} (the baselines' reference losses) {failure}")
        losses[str(steps)] = [float(line) for line in open(path)]
    return losses


def count_instructions(programs, variants, baselines, records, settings, data):
    """(instructions.json or None, the note the table prints, failures)."""
    steps = settings["instruction_steps"]
    if not steps:
        return None, "not counted (INSTRUCTION_STEPS=0)", []
    if not instructions.shutil.which("valgrind"):
        return None, "not counted: valgrind is not installed", []
    measured = [b for b in baselines if b.language in ("python", "rust") and all(
        r["baselines"].get(b.key, {}).get("status") == "ok" for r in records if b.key in r["baselines"])]
    log(f"counting instructions per step of {', '.join(variants + [b.label for b in measured])} ...")
    try:
        counts = instructions.document(programs.build_dir, variants, steps, data, log, programs, measured)
    except ResultsError as error:
        return None, f"not counted: {error}", [f"instruction counts: {error}"]
    note = f"callgrind over {steps} steps, the C and Rust rows inside {instructions.STEP_FUNCTION} only"
    if any(b.language == "python" for b in measured):
        note += f"; the Python rows as whole processes, (Ir(--steps {max(steps, 2)}) - Ir(--steps 1)) / {max(steps, 2) - 1}"
    return counts, note, []


def speed_factors(programs, variants, all_rows, run_json, settings, data, work_dir):
    """speed_factors.json's content, or None with one line saying why it is left out."""
    sizes = [size for size in settings["factor_sizes"].split(",") if size]
    missing = [v for v in factors.CHAIN if v not in variants]
    why = ("VARIANTS= runs only some variants" if settings["variants"] else
           f"the build has no {', '.join(missing)}" if missing else "FACTOR_SIZES= is empty" if not sizes else None)
    if why:
        log(f"speed factors left out: {why}")
        return None
    times = {"reference": factors.times_at_reference(all_rows, run_json)} if "reference" in sizes else {}
    if "large" in sizes:
        times["large"] = factors.time_large(programs, data, settings["rounds"], LARGE_STEPS,
                                            factors.variants_needed(variants), work_dir)
    return factors.document(times, {"rounds": settings["rounds"], "steps": {"reference": settings["steps"],
                                                                            "large": LARGE_STEPS}})


def bench(args, programs):
    started, load_before = time.monotonic(), list(os.getloadavg())
    data = dataset.locate(args.data, programs.build_dir)
    sha256, is_reference = dataset.check(data, args.allow_other_dataset)
    settings = settings_of(args)
    output_dir, readme = targets(args, settings, is_reference)
    if readme:
        report.check_readme(readme)
    check_writable(output_dir)
    variants = runner.select_variants(programs.bench, settings["variants"])
    baselines = runner.BASELINES if settings["baselines"] else ()
    work_dir, git = args.run_dir, git_state()
    os.makedirs(work_dir, exist_ok=True)
    log(f"run directory {work_dir}; dataset {data}" + ("" if is_reference else " (NOT the reference's)"))

    records, files, failures, step_documents = run_rounds(programs, variants, baselines, settings, data, work_dir)
    counts, note, count_failures = (None, "not counted (the run failed)", []) if failures else \
        count_instructions(programs, variants, baselines, records, settings, data)
    context = next(iter(files.values()), {}).get("context", {})
    statuses = {v: "ok" for v in variants}  # a variant's first failure, if any
    for outcome in (o for record in records for o in record["variants"]):
        if statuses[outcome["name"]] == "ok":
            statuses[outcome["name"]] = outcome["status"]
    run_json = {"date": utc_now(), "machine": machine(load_before), **toolchain(context), "git": git,
                "dataset": {"path": data, "sha256": sha256, "reference": is_reference},
                "settings": dict(settings, python_steps=settings["steps"] if settings["full"] else settings["k_steps"]),
                "variants": [{"name": v, "status": statuses[v]} for v in variants],
                "baselines": [b.key for b in baselines], "rounds": records,
                "reference_losses": reference_losses(programs, settings, data, work_dir) if baselines else {},
                "instructions": dict({"note": note}, **({"file": rows.INSTRUCTIONS_FILE} if counts else {}))}
    outputs = {name: json_text(value) for name, value in files.items()}
    outputs[rows.RUN_FILE] = json_text(run_json)
    if counts:
        outputs[rows.INSTRUCTIONS_FILE] = json_text(counts)
    if step_documents:
        merged = dict(step_documents[0], variants={k: v for d in step_documents for k, v in d["variants"].items()})
        outputs[STEP_TIMES_FILE] = json_text(merged)
    report.write(outputs, work_dir)
    run = rows.Run(run_json, [files.get(r.get("file")) for r in records], counts, work_dir)
    all_rows = rows.rows(run)
    failures += count_failures + [f"{r['version']}: {r['status']}" for r in all_rows if rows.is_failure(r["check"])
                                  and not any(f.startswith(r["version"] + ":") for f in failures)]
    if not failures:
        try:
            document = speed_factors(programs, variants, all_rows, run_json, settings, data, work_dir)
        except RuntimeError as error:
            document, failures = None, [f"speed factors: {error}"]
        if document:
            outputs[factors.FILE] = json_text(document)
            report.write({factors.FILE: outputs[factors.FILE]}, work_dir)
    if failures:
        log(f"bench: {len(failures)} failed step(s): {'; '.join(failures)}\n"
            f"bench: partial outputs in {work_dir}; {output_dir} and README.md were left as they were")
        return 1
    outputs.update(report.render_bench(work_dir))
    report.write(outputs, work_dir)
    log("\n".join(tables.console_table(rows.rows(rows.load_run(work_dir)))))
    stale = [n for n in os.listdir(output_dir) if rows.ROUND_PATTERN.match(n)] if os.path.isdir(output_dir) else []
    stale += [STEP_TIMES_FILE, rows.INSTRUCTIONS_FILE, factors.FILE, "step_time.png", "speedup_factors.png",
              "speed_factors.md"]
    try:
        report.publish(outputs if output_dir != os.path.abspath(work_dir) else {}, output_dir, stale, readme,
                       programs.build_dir, work_dir, output_dir)
    except ResultsError as error:
        raise ResultsError(f"{error}; the run's outputs are in {work_dir}") from None
    log(f"wrote {len(outputs)} files to {output_dir}" + (f", {readme} and docs/results.md" if readme else "") +
        f" in {time.monotonic() - started:.0f} s")
    return 0
