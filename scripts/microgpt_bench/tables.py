"""The one table writer: every table and every sentence with a number in it,
generated from a run's data (rows.py, speed_factors.json, the sweep's rows).

README.md gets the variants table (from the registry), the headline table
and at most five findings; docs/results.md the full table with its notes,
the speed factors, the sweep and the crossover."""
import math

from . import factors, rows, runner
from .util import MISSING, format_instructions, format_ratio, format_seconds, format_time, markdown_table, \
    measured_line, number, round_ratios, short_shape, spread, tie_groups

# The seed's published table (its "Python vs Rust" comparison), quoted to set ours beside it.
SEED_ROWS = (("Original Python", "python_naive", "62.3 s"), ("Optimized Python", "python_both", "20.6 s"),
             ("Original Rust (Rc<RefCell>)", "rust_naive", "12.7 s"),
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
        return "bit-exact" if fact["tolerance"] == 0 else f"within {fact['tolerance']:g}"

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
                     MISSING if row["nodes_per_step"] is None else number(row["nodes_per_step"]) + span(row, settings),
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
            body.append([row["version"]] + [MISSING] * 8 + [row["status"]])
            continue
        ratios = [MISSING if s is None else format_ratio(s) for s in rows.speedups(row, all_rows, settings)]
        rank = rank_of.get(row["version"])
        body.append([row["version"], format_time(row["full_spread"], row["full_estimated"]),
                     format_time(row["k_spread"]), MISSING if not rank else ("=" if rank[1] else "") + str(rank[0]),
                     *(["not a result"] * 2 if rows.is_wrong(row["check"]) else ratios),
                     format_instructions(row["instructions_per_step"]),
                     f"{row['final_loss']:.4f}, {row['mean_loss']:.4f}{span(row, settings)}",
                     MISSING if row["nodes_per_step"] is None else f"{row['nodes_per_step']:,.2f}{span(row, settings)}",
                     row["status"]])
    return markdown_table(["Version", f"Time ({settings['steps']} steps)", f"Time (first {settings['k_steps']} steps)",
                           "Rank", "Speedup vs Python", "Speedup vs naive C", "Instructions/step", "Loss (final, mean)",
                           "Graph nodes/step", "Status"], body, "lrrrrrrlrl")


def notes(all_rows, run):
    run_json, settings = run.run, run.run["settings"]
    python_steps, steps = settings["python_steps"], settings["steps"]
    lines = [measured_line(run_json) + ".", "",
             f"- Times: median [min–max] over {settings['rounds']} rounds. A round runs every variant once, each in a "
             "fresh harness process (Google Benchmark), in an order rotated by one place each round; the time is the "
             f"training loop only. *unstable*: a coefficient of variation over the rounds above 10%.",
             f"- Baselines (`baselines/`): Python and PyTorch ran in rounds 1 to {settings['baseline_rounds']}, "
             + (f"all {steps} steps." if python_steps == steps else
                f"the first {python_steps} steps; their {steps}-step time is that × {steps}/{python_steps} (est.), "
                f"their losses and graph sizes over those steps.") + f" Rust ran in every round, all {steps} steps.",
             "- Speedups: the other row's time over this row's in the same round, median [min–max] over the rounds "
             "both ran in; vs Python on the steps both ran.",
             "- Rank: C rows with checked gradients; = marks rows whose min–max overlap a neighbour's (tied).",
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


def factors_tables(document):
    """The chain, the side links and the rows' times at each size, Markdown."""
    sizes = list(document["factors"])
    head = [f"{factors.SIZES[k]['label']}" for k in sizes]
    lines = markdown_table(["link", "what changes", "variants", "accumulation order"] + head, [
        [f["link"], f["change"], f"`{f['from']}` → `{f['to']}`", f["order"]] +
        [factor_text(document["factors"][k][i]) for k in sizes] for i, f in enumerate(document["factors"][sizes[0]])] +
        [["**whole chain**", "", f"`{factors.CHAIN[0]}` → `{factors.CHAIN[-1]}`", ""] +
         [f"**{factor_text(document['whole_chain'][k])}**" for k in sizes]])
    lines += ["", "Off the chain:", ""] + markdown_table(["link", "what changes", "from → to"] + head, [
        [f["link"], f["change"], f"`{f['from']}` → `{f['to']}`"] + [factor_text(document["side_links"][k][i])
                                                                    for k in sizes]
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
    lines += ["", "Time per step, and PyTorch's whole-sequence time over the row's in the same round (above 1×: "
              "faster than PyTorch):", ""]
    lines += markdown_table(["row"] + [c for k in sizes for c in (f"{factors.SIZES[k]['label']}", "vs PyTorch")], body)
    return lines


def largest(entries):
    measured = [e for e in entries if e["median"] is not None]
    return max(measured, key=lambda e: e["median"]) if measured else None


def findings(all_rows, run, document, crossover_text):
    """At most five sentences about the run, every number from its data."""
    out = []
    c_rows = [r for r in all_rows if r["kind"] == "c" and rows.is_result(r["check"])]
    tolerant = [r for r in c_rows if r["check"] == rows.TOLERANT]
    baselines = [r for r in all_rows if r["kind"] == "baseline" and r["check"] in (rows.EXACT, rows.TOLERANT)]
    exact_baselines = [r["version"] for r in baselines if r["check"] == rows.EXACT]
    near = [r for r in baselines if r["check"] == rows.TOLERANT]
    wrong = [r["version"] for r in all_rows if rows.is_wrong(r["check"])]
    text = (f"**Every row trains the same model.** {len(c_rows) - len(tolerant)} of the {len(c_rows)} C variants"
            + (f" and {', '.join(exact_baselines)}" if exact_baselines else "") + " reproduce the reference's losses "
            "bit for bit")
    if tolerant:
        text += f"; {', '.join(r['version'] for r in tolerant)} reorder a sum and stay within their tolerance"
    if near:
        text += "; " + ", ".join(f"{r['version']} {r['status'].replace('within tol ', 'within ')}" for r in near)
    if wrong:
        text += f". {', '.join(wrong)}, the seed's published stack backward, gets wrong gradients: its time is not a result"
    out.append(text + ".")
    if document:
        sizes = list(document["factors"])
        big = [largest(document["factors"][k]) for k in sizes]
        named = {k: {f["link"]: f for f in document["factors"][k] + document["side_links"][k]} for k in sizes}
        labels = [factors.SIZES[k]["label"] for k in sizes]
        text = "**Where the speed comes from.** The largest link of the chain is " + "; ".join(
            f"{e['link']} at the {label} ({factor_text(e)})" for e, label in zip(big, labels) if e) + "."
        batch, graph = [[named[k].get(name) for k in sizes] for name in ("batching", "graph")]
        if all(e and e["median"] for e in batch + graph):
            compare = ["less" if g["median"] < b["median"] else "more" for b, g in zip(batch, graph)]
            text += (" Batching positions into whole-sequence nodes gives " + " and ".join(map(factor_text, batch)) +
                     "; dropping the graph then gives " + " and ".join(map(factor_text, graph)) +
                     (f": the graph itself costs {compare[0]} than the per-position kernels' batching did"
                      if len(set(compare)) == 1 else ", the graph's share depending on the size") + ".")
        out.append(text)
        side = [(k, named[k].get("reference counting"), named[k].get("dynamic dispatch")) for k in sizes]
        counted = (run.instructions or {}).get("variants", {})
        per_step = {v: counted.get(v, {}).get("instructions_per_step") for v in ("naive", "refcount", "closure")}
        if all(rc and rc["median"] and dd and dd["median"] for _, rc, dd in side):
            instr = [f" ({per_step[v] / per_step['naive']:.2f}× its instructions)" if per_step[v] and per_step["naive"]
                     else "" for v in ("refcount", "closure")]
            times = [" and ".join(f"{1 / link['median']:.2f}×" for link in column) for column in zip(*side)][1:]
            out.append("**Memory and dispatch, off the chain.** Freeing each node when its last reference drops "
                       f"(`refcount`) takes {times[0]} naive's time at the two sizes{instr[0]}; calling each node's "
                       f"backward through a function pointer (`closure`) {times[1]}{instr[1]}.")
    seed = [(label, rows.find(all_rows, key), quoted) for label, key, quoted in SEED_ROWS]
    if all(row for _, row, _ in seed):
        settings = run.run["settings"]
        ours = [format_seconds(row["full_spread"].median) + (" (est.)" if row["full_estimated"] else "")
                for _, row, _ in seed]
        rust_vs_python = round_ratios(rows.comparable(seed[1][1], False), rows.comparable(seed[3][1], False))
        both = rows.find(all_rows, "both")
        c_vs_rust = both and round_ratios(both["full"], seed[3][1]["full"])
        out.append("**The seed's table, every row training the same model.** Its Original Python, Optimized Python, "
                   "Original Rust and Optimized Rust (" + ", ".join(q for _, _, q in seed) + f" for {settings['steps']} "
                   "steps, the last with wrong gradients) become " + ", ".join(ours) + " here; Optimized Rust is "
                   f"{format_ratio(rust_vs_python)} faster than Optimized Python (the seed said 14×)" +
                   (f", and C's `both`, the same strategy, takes {1 / c_vs_rust.median:.2f}× Rust's time" if c_vs_rust
                    else "") + ".")
    if crossover_text:
        out.append(crossover_text)
    return out[:5]


def console_table(all_rows):
    """A short table for the terminal at the end of a run."""
    return ["", f"{'version':<26} {'time (median)':>14}  status"] + [
        f"{r['version']:<26} {format_seconds(r['full_spread'] and r['full_spread'].median):>14}  {r['status']}"
        for r in all_rows] + [""]


def slope_text(value):
    return MISSING if value is None or math.isnan(value) else f"{value:.2f}"


def short(shape):
    return short_shape(shape[0], shape[2]) + (f", block {shape[3]}" if shape[3] != 16 else "")
