"""The one table writer: every table and every sentence with a number in it,
generated from a run's data (rows.py, speed_factors.json, the sweep's rows).

README.md gets the variants table (from the registry), the headline table
and at most five findings; docs/results.md the full table with its notes,
the speed factors, the sweep and the crossover."""
from . import factors, rows, runner
from .util import MISSING, format_instructions, format_ratio, format_seconds, format_time, markdown_table, \
    measured_line, number, round_ratios, spread, tie_groups

# The seed's published table (its "Python vs Rust" comparison), quoted to set ours beside it.
SEED_ROWS = (("Original Python", "python_naive", "62.3 s"), ("Optimized Python", "python_both", "20.6 s"),
             ("Original Rust (`Rc<RefCell>`)", "rust_naive", "12.7 s"),
             ("Optimized Rust (stack backward: wrong gradients)", "rust_both", "1.48 s"))


def display_order(names):
    """The chain's order, then the side links', then the rest by name."""
    known = list(factors.CHAIN) + [link.second for link in factors.SIDE_LINKS] + ["stack", "fused", "both"]
    return sorted(names, key=lambda name: (known.index(name) if name in known else len(known), name))


def variants_table(facts):
    """README's variants table, from microgpt-variants --json."""
    by_name = {fact["name"]: fact for fact in facts}

    def gradients(fact):
        if fact["expected_wrong"]:
            return "wrong, on purpose (negative control)"
        return "bit-exact" if fact["tolerance"] == 0 else f"within {fact['tolerance']:.0e}".replace("e-0", "e-")

    return markdown_table(["variant", "what changes", "gradients"],
                          [[f"`{n}`", by_name[n]["description"], gradients(by_name[n])] for n in display_order(by_name)])


def span(row, settings):
    return "" if row["loss_steps"] in (None, settings["steps"]) else f" ({row['loss_steps']} steps)"


def headline_table(all_rows, settings):
    """README's table: version, time per STEPS steps, vs Python, nodes, instructions, status."""
    body = []
    for row in all_rows:
        if row["check"] in (rows.FAILED, rows.NOT_MEASURED):
            body.append([row["version"], MISSING, MISSING, MISSING, MISSING, row["status"]])
            continue
        versus_python, _ = rows.speedups(row, all_rows, settings)
        body.append([row["version"], format_time(row["full_spread"], row["full_estimated"]),
                     "not a result" if rows.is_wrong(row["check"]) else format_ratio(versus_python),
                     MISSING if row["nodes_per_step"] is None else f"{row['nodes_per_step']:,.0f}" + span(row, settings),
                     format_instructions(row["instructions_per_step"]), row["status"]])
    return markdown_table(["version", f"time per {settings['steps']} steps", "vs Python", "graph nodes/step",
                           "instructions/step", "status"], body, "lrrrrl")


def full_table(all_rows, settings):
    """docs/results.md's table: both spans, rank, both speedups, losses."""
    rank_of = tie_groups({r["version"]: r["full_spread"] for r in all_rows if r["kind"] == "c" and
                          rows.is_result(r["check"])})
    body = []
    for row in all_rows:
        if row["check"] in (rows.FAILED, rows.NOT_MEASURED):
            body.append([row["version"]] + [MISSING] * 9 + [row["status"]])
            continue
        ratios = [MISSING if s is None else format_ratio(s) for s in rows.speedups(row, all_rows, settings)]
        rank = rank_of.get(row["version"])
        body.append([row["version"], format_time(row["full_spread"], row["full_estimated"]),
                     format_time(row["k_spread"]), MISSING if not rank else ("=" if rank[1] else "") + str(rank[0]),
                     *(["not a result"] * 2 if rows.is_wrong(row["check"]) else ratios),
                     format_instructions(row["instructions_per_step"]),
                     f"{row['final_loss']:.4f}, {row['mean_loss']:.4f}{span(row, settings)}",
                     MISSING if row["nodes_per_step"] is None else f"{row['nodes_per_step']:,.2f}{span(row, settings)}",
                     MISSING if row["bytes_per_step"] is None else f"{row['bytes_per_step'] / 1e3:,.0f} kB", row["status"]])
    return markdown_table(["Version", f"Time ({settings['steps']} steps)", f"Time (first {settings['k_steps']} steps)",
                           "Rank", "Speedup vs Python", "Speedup vs naive C", "Instructions/step", "Loss (final, mean)",
                           "Graph nodes/step", "Graph bytes/step", "Status"], body, "lrrrrrrlrrl")


def baseline_programs(run_json):
    """The interpreter, torch and rustc the baselines ran with, from their reports."""
    seen = {}
    for record in run_json["rounds"]:
        for key, report in record.get("baselines", {}).items():
            language = runner.BASELINE_BY_KEY[key].language
            text = {"python": report.get("python"), "rust": report.get("rustc"),
                    "torch": report.get("torch_version") and f"torch {report['torch_version']}"}[language]
            if text:
                seen.setdefault(language, text)
    return "; ".join(seen.values()) or "nothing (no baseline ran)"


def notes(all_rows, run):
    run_json, settings = run.run, run.run["settings"]
    python_steps, steps = settings["python_steps"], settings["steps"]
    lines = [measured_line(run_json) + ".", "",
             f"- Times: median [min–max] over {settings['rounds']} rounds. A round runs every variant once, each in a "
             "fresh harness process (Google Benchmark), in an order rotated by one place each round; the time is the "
             f"training loop only. *unstable*: a coefficient of variation over the rounds above 10%.",
             f"- Baselines (`baselines/`): Python and PyTorch ran in the first {settings['baseline_rounds']} of the rounds, "
             + (f"all {steps} steps." if python_steps == steps else
                f"the first {python_steps} steps; their {steps}-step time is that × {steps}/{python_steps} (est.), "
                f"their losses and graph sizes over those steps.") + f" Rust ran in every round, all {steps} steps.",
             "- Speedups: the other row's time over this row's in the same round, median [min–max] over the rounds "
             "both ran in; vs Python on the steps both ran.",
             "- Rank: C rows with checked gradients; = marks rows whose min–max overlap a neighbour's (tied).",
             f"- The baselines ran with {baseline_programs(run_json)}.",
             f"- Instructions/step: {run_json['instructions']['note']}.",
             "- Status: C rows, the harness's gradient check before timing (`engine/gradient_check.h`); baselines, "
             "their losses against naive's (the reference's engine) over as many steps.",
             f"- Google Benchmark {run_json.get('benchmark_library', '')} is Debian's build "
             f"(`library_build_type: {run_json.get('benchmark_library_build_type', '?')}`); that is the framework's "
             "own code, the timed code is built as above."]
    if not run_json["dataset"]["reference"]:
        lines.insert(0, f"**Not the reference's dataset** (sha256 {run_json['dataset']['sha256'][:12]}…): "
                        "these figures describe another training run.\n")
    return lines


def factor_text(entry):
    if not entry or entry["median"] is None:
        return "not measured"
    return f"{entry['median']:.2f}×" + (f" [{entry['min']:.2f}–{entry['max']:.2f}]" if entry["ratios"] > 1 else "")


def factors_tables(document, counts):
    """The chain and the side links (time factors at each size, the
    instruction factor at the reference size from the run's counts), and
    the rows' times against PyTorch, Markdown."""
    sizes = list(document["factors"])
    head = [f"{factors.SIZES[k]['label']}" for k in sizes] + ["instructions, reference size"]
    per_step = {k: v["instructions_per_step"] for part in ("variants", "baselines")
                for k, v in (counts or {}).get(part, {}).items()}

    def cells(part, index, entry):
        first, second = per_step.get(entry["from"]), per_step.get(entry["to"])
        return [factor_text(document[part][k] if index is None else document[part][k][index]) for k in sizes] + [
            f"{first / second:.2f}×" if first and second else MISSING]

    lines = markdown_table(["link", "what changes", "variants", "accumulation order"] + head, [
        [f["link"], f["change"], f"`{f['from']}` → `{f['to']}`", f["order"]] + cells("factors", i, f)
        for i, f in enumerate(document["factors"][sizes[0]])] +
        [["**whole chain**", "", f"`{factors.CHAIN[0]}` → `{factors.CHAIN[-1]}`", ""] +
         [f"**{c}**" for c in cells("whole_chain", None, document["whole_chain"][sizes[0]])]])
    lines += ["", "Off the chain:", ""] + markdown_table(["link", "what changes", "from → to"] + head, [
        [f["link"], f["change"], f"`{f['from']}` → `{f['to']}`"] + cells("side_links", i, f)
        for i, f in enumerate(document["side_links"][sizes[0]])])
    keys = list(factors.CHAIN) + [link.second for link in factors.SIDE_LINKS] + list(factors.TORCH_ROWS)
    times = document["seconds_per_step"]
    body = []
    for key in dict.fromkeys(keys):
        cells = []
        for size in sizes:
            values = times[size].get(key)
            torch = round_ratios(times[size].get("torch_sequence") or [], values or [])
            cells += [format_seconds(spread(values or []) and spread(values).median),
                      "1×" if key == "torch_sequence" else format_ratio(torch)]
        if any(c != MISSING for c in cells[::2]):
            body.append([runner.BASELINE_BY_KEY[key].label if key in runner.BASELINE_BY_KEY else f"`{key}`"] + cells)
    lines += ["", "Time per step, and PyTorch's whole-sequence time over the row's in the same round (above 1×: faster "
              "than PyTorch; at the reference size the Python and PyTorch rows' times are their first steps' rate):", ""]
    lines += markdown_table(["row"] + [c for k in sizes for c in (f"{factors.SIZES[k]['label']}", "vs PyTorch")], body)
    return lines


def largest(entries):
    measured = [e for e in entries if e["median"] is not None]
    return max(measured, key=lambda e: e["median"]) if measured else None


def faster(time_ratio):
    """"1.88× faster" or "1.20× slower" from this row's time over the other's."""
    return f"{number(1 / time_ratio)}× faster" if time_ratio <= 1 else f"{number(time_ratio)}× slower"


def same_model(all_rows):
    c_rows = [r for r in all_rows if r["kind"] == "c" and rows.is_result(r["check"])]
    tolerant = [f"`{r['version']}`" for r in c_rows if r["check"] == rows.TOLERANT]
    exact = [r["version"] for r in all_rows if r["kind"] == "baseline" and r["check"] == rows.EXACT]
    near = [f"{r['version']} {r['status'].replace('within tol ', 'within ')}" for r in all_rows
            if r["kind"] == "baseline" and r["check"] == rows.TOLERANT]
    wrong = [f"`{r['version']}`" for r in all_rows if rows.is_wrong(r["check"])]
    text = (f"**Every row trains the same model.** {len(c_rows) - len(tolerant)} of the {len(c_rows)} C variants" +
            (f" and {', '.join(exact)}" if exact else "") + " reproduce the reference's losses bit for bit")
    text += f"; {', '.join(tolerant)} reorder a sum and stay within their tolerance" if tolerant else ""
    text += f"; {', '.join(near)}" if near else ""
    text += (f". {', '.join(wrong)}, the seed's published stack backward, gets wrong gradients: its time is not a "
             "result" if wrong else "")
    return text + "."


def speed_sources(document, counted):
    """The chain's largest link, batching against the graph, and the side links of memory and dispatch."""
    sizes = list(document["factors"])
    named = {k: {f["link"]: f for f in document["factors"][k] + document["side_links"][k]} for k in sizes}
    at = [f"at the {factors.SIZES[k]['label']}" for k in sizes]
    text = "**Where the speed comes from.** The largest link of the chain is " + "; ".join(
        f"{e['link']}, {factor_text(e)}, {where}" for e, where in
        zip((largest(document["factors"][k]) for k in sizes), at) if e) + "."
    batch, graph = ([named[k].get(name) for k in sizes] for name in ("batching", "graph"))
    if all(e and e["median"] for e in batch + graph):
        less = {g["median"] < b["median"] for b, g in zip(batch, graph)}
        text += (" Batching positions into whole-sequence nodes gives " + " and ".join(map(factor_text, batch)) +
                 "; dropping the graph then gives " + " and ".join(map(factor_text, graph)) +
                 (f", {'less' if less == {True} else 'more'} than batching" if len(less) == 1 else "") + ".")
    out = [text]
    side = [(named[k].get("reference counting"), named[k].get("dynamic dispatch")) for k in sizes]
    naive = counted.get("naive", {}).get("instructions_per_step")
    if all(link and link["median"] for pair in side for link in pair):
        parts = []
        for index, (variant, what) in enumerate((("refcount", "freeing each node when its last reference drops"),
                                                 ("closure", "calling each node's backward through a pointer"))):
            times = " and ".join(f"{1 / pair[index]['median']:.2f}×" for pair in side)
            count = counted.get(variant, {}).get("instructions_per_step")
            parts.append(f"{what} (`{variant}`) takes {times} naive's time" + (" at the two sizes" if len(at) > 1 else "") +
                         (f", with {count / naive:.2f}× its instructions" if count and naive else ""))
        out.append("**Memory and dispatch, off the chain.** " + parts[0][0].upper() + parts[0][1:] + "; " + parts[1] + ".")
    return out


def seed_comparison(all_rows, settings):
    """The seed's four rows beside ours: (the finding, the table's lines), or (None, []) without the Rust or
    Python rows. Speeds against Optimized Python are over the span both Python rows ran, in the same rounds."""
    seed = [(name, rows.find(all_rows, key), quoted) for name, key, quoted in SEED_ROWS]
    if not all(row for _, row, _ in seed):
        return None, []
    ours = [format_seconds(row["full_spread"].median) + (" (est.)" if row["full_estimated"] else "")
            for _, row, _ in seed]
    optimized = rows.comparable(seed[1][1], False)
    rust_over_python = round_ratios(rows.comparable(seed[3][1], False), optimized)
    both = rows.find(all_rows, "both")
    both_over_rust = both and round_ratios(both["full"], seed[3][1]["full"])
    finding = ("**The seed's table, every row training the same model.** Its Original Python, Optimized Python, "
               "Original Rust and Optimized Rust (" + ", ".join(q for _, _, q in seed) + " for 1000 steps, the last "
               f"with wrong gradients) become {', '.join(ours)} for {settings['steps']} steps here; Optimized Rust is "
               f"{faster(rust_over_python.median)} than Optimized Python (the seed said 14× faster)" +
               (f", and C's `both`, the same strategy, {faster(both_over_rust.median)} than Rust's" if both_over_rust
                else "") + ".")
    body = [(name, quoted, number(float(seed[1][2][:-2]) / float(quoted[:-2])) + "×", our,
             format_ratio(round_ratios(optimized, rows.comparable(row, False))), row["status"])
            for (name, row, quoted), our in zip(seed, ours)]
    return finding, markdown_table(["the seed's row", "the seed's time", "its speed vs Optimized Python", "here",
                                    f"speed vs Optimized Python here (first {settings['python_steps']} steps)",
                                    "gradients here"], body, "lrrrrl")


def findings(all_rows, run, document, crossover_text):
    """At most five sentences about the run, every number from its data."""
    out = [same_model(all_rows)]
    if document:
        out += speed_sources(document, (run.instructions or {}).get("variants", {}))
    out += [text for text in (seed_comparison(all_rows, run.run["settings"])[0], crossover_text) if text]
    return out[:5]


def console_table(all_rows):
    """A short table for the terminal at the end of a run."""
    return ["", f"{'version':<26} {'time (median)':>14}  status"] + [
        f"{r['version']:<26} {format_seconds(r['full_spread'] and r['full_spread'].median):>14}  {r['status']}"
        for r in all_rows] + [""]
