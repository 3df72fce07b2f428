"""The table of one `make sweep` run: sweep.csv (one row per point) and
sweep_table.md (each variant at the smallest and the largest size and its
fitted slopes), whose block also goes between a README's sweep-table
markers; and the few summary lines run_sweep.py prints."""
from .bench_table import MISSING
from .metadata import measured_line
from .sweep_run import CSV_FILE, TABLE_FILE, by_variant, csv_text, fitted_slope, is_measured, rows


def _number(value, digits=3):
    if value is None:
        return MISSING
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}g}"


def in_main_grid(row, settings):
    """Whether a row is a point of the grid every variant runs (not one of
    the larger points only the --large-variants of run_sweep.py run)."""
    block_size = row.get("block_size") or settings["block_size"]
    return (row["n_embd"] in settings["n_embd"] and row["n_layer"] in settings["n_layer"]
            and block_size == settings["block_size"])


def large_lines(large_rows):
    """One line per larger point: each variant's time per step and peak RSS."""
    by_shape = {}
    for row in large_rows:
        by_shape.setdefault(row["shape"], []).append(row)
    lines = []
    for shape, shape_rows in sorted(by_shape.items(), key=lambda item: (item[1][0]["parameters"] or 0, item[0])):
        parts = []
        for row in sorted(shape_rows, key=lambda row: row["variant"]):
            if is_measured(row):
                parts.append(f"{row['variant']} {_number(row['ms_per_step'], 4)} ms/step "
                             f"({row['peak_rss_bytes'] / 2**20:,.0f} MB)")
            else:
                parts.append(f"{row['variant']} {row['status']}")
        lines.append(f"  - {shape}: " + ", ".join(parts))
    return lines


def table_lines(all_rows, run_json):
    """The README's sweep table: per variant (slowest first) the smallest and
    the largest size of the grid, and the slopes over all its sizes; then
    notes, with the larger points of the variants that run them."""
    settings = run_json["settings"]
    large_rows = [row for row in all_rows if not in_main_grid(row, settings)]
    all_rows = [row for row in all_rows if in_main_grid(row, settings)]
    grouped = {variant: rows_ for variant, rows_ in by_variant(all_rows).items() if rows_}
    if not grouped:
        return ["No point of the sweep was measured."]
    sizes = sorted({row["shape"]: (row["reference_nodes_per_step"] or 0, row["n_embd"], row["n_layer"])
                    for row in all_rows if is_measured(row)}.items(), key=lambda item: item[1])
    small, large = sizes[0][0], sizes[-1][0]
    short_small, short_large = (f"e{size[1][1]} l{size[1][2]}" for size in (sizes[0], sizes[-1]))
    lines = [f"| variant | ms/step {short_small} | ms/step {short_large} | ns per reference node "
             f"({short_small} → {short_large}) | own nodes/step {short_large} | ns per own node "
             f"({short_small} → {short_large}) | slope vs own nodes | slope vs reference nodes | "
             f"graph bytes/node {short_large} | peak RSS {short_large} | status |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    at = {(row["variant"], row["shape"]): row for row in all_rows if is_measured(row)}
    order = sorted(grouped, key=lambda variant: -max(row["ms_per_step"] for row in grouped[variant]))
    for variant in order:
        first, last = at.get((variant, small)), at.get((variant, large))
        own = fitted_slope([(row["nodes_per_step"], row["ms_per_step"]) for row in grouped[variant]])
        work = fitted_slope([(row["reference_nodes_per_step"], row["ms_per_step"]) for row in grouped[variant]])

        def pair(column):
            values = [row[column] if row else None for row in (first, last)]
            if all(value is None for value in values):
                return MISSING
            return f"{_number(values[0])} → {_number(values[1])}"

        status = sorted({row["status"] for row in grouped[variant]})
        lines.append("| " + " | ".join([
            variant, _number(first and first["ms_per_step"]), _number(last and last["ms_per_step"], 4),
            pair("ns_per_reference_node"), f"{last['nodes_per_step']:,.0f}" if last else MISSING,
            pair("ns_per_node"), MISSING if own is None else f"{own:.2f}",
            MISSING if work is None else f"{work:.2f}",
            _number(last and last["graph_bytes_per_node"]),
            f"{last['peak_rss_bytes'] / 2**20:,.0f} MB" if last else MISSING,
            "; ".join(status)]) + " |")
    settings = run_json["settings"]
    depth = [row for row in all_rows if row["shape"] == large and row["sort_depth_max"]]
    lines += ["", measured_line(run_json) + "; "
                  f"`make sweep` took {run_json.get('wall_seconds', 0):.0f} s; C compiled by "
                  f"{run_json.get('c_compiler', '?')} with `{run_json.get('c_flags', '?')}`.", ""]
    lines.append(f"- Sizes: n_embd {', '.join(map(str, settings['n_embd']))} × n_layer "
                 f"{', '.join(map(str, settings['n_layer']))}, n_head {settings['n_head']}, block_size "
                 f"{settings['block_size']} (e16 l1 is the reference's size; {short_small} is {small}, "
                 f"{short_large} is {large}). Each point is a fresh process "
                 f"(`microgpt-bench --sweep`) training {settings['steps']} steps (the run's first documents), "
                 f"repeated for at least {settings.get('min_time', 0):g} s and averaged (one run where one run "
                 "takes longer); the gradient check runs first, at "
                 f"{settings.get('gradient_check_shape') or '?'}.")
    lines.append("- Reference nodes: the nodes naive's graph has at that size (every scalar op a node), the same "
                 "unit of model work for every variant; own nodes: the variant's graph (0 for floor, which has "
                 "none). Slopes: least squares of log time per step against log nodes per step over all sizes.")
    lines.append("- Peak RSS: the harness process's VmHWM (`getrusage`'s `ru_maxrss` is in `sweep.csv` too; "
                 "it also counts the Python that started the process). Graph bytes: what the variant reports "
                 "its step's graph holds, per own node.")
    if depth:
        lines.append(f"- Depth of the depth-first topological sort at {large}: " + ", ".join(
            f"{row['variant']} {row['sort_depth_max']:,} (bound {row['sort_depth_bound']:,})" for row in depth) + ".")
    if large_rows:
        lines.append("- Larger sizes, for the variants that build no scalar graph (their memory grows with the "
                     "activations; the scalar graphs pass their node limit or take minutes a step there), "
                     "time per step and peak RSS:")
        lines += large_lines(large_rows)
    lines.append("- Google Benchmark is Debian's build (`library_build_type: debug`); that is the framework's own "
                 "code. Raw data: `results/sweep.json` (Google Benchmark JSON), `results/sweep_run.json`, "
                 "`results/sweep.csv`; plots: `results/sweep_time_vs_nodes.png`, `results/sweep_ns_per_node.png`, "
                 "`results/sweep_memory.png`.")
    return lines


def table_block(all_rows, run_json):
    return "\n".join(table_lines(all_rows, run_json)) + "\n"


def summary_lines(all_rows):
    """What the sweep shows, in a few lines: slopes and the largest size."""
    lines = []
    grouped = by_variant(all_rows)
    slopes = []
    for variant, variant_rows in grouped.items():
        slope = fitted_slope([(row["nodes_per_step"], row["ms_per_step"]) for row in variant_rows])
        work_slope = fitted_slope([(row["reference_nodes_per_step"], row["ms_per_step"]) for row in variant_rows])
        if slope is not None or work_slope is not None:
            slopes.append(f"{variant} {'-' if slope is None else f'{slope:.2f}'}/"
                          f"{'-' if work_slope is None else f'{work_slope:.2f}'}")
    if slopes:
        lines.append("slope of log time per step against log nodes per step (own graph/reference graph): " +
                     ", ".join(slopes))
    measured = [row for row in all_rows if is_measured(row)]
    if measured:
        largest = max(measured, key=lambda row: (row["reference_nodes_per_step"] or 0, row["parameters"]))["shape"]
        at_largest = sorted((row for row in measured if row["shape"] == largest), key=lambda row: row["ms_per_step"])
        lines.append(f"at {largest}: " + ", ".join(
            f"{row['variant']} {row['ms_per_step']:.4g} ms/step" +
            (f" (sort depth {row['sort_depth_max']:,})" if row["sort_depth_max"] else "") for row in at_largest))
    return lines



def render(sweep_json, run_json):
    """{file name: text} of the CSV and the table document."""
    all_rows = rows(sweep_json, run_json)
    return {CSV_FILE: csv_text(all_rows),
            TABLE_FILE: "# microgpt sweep\n\nGenerated by `scripts/make_sweep_table.py` from this run; do not "
                        "edit.\n\n" + table_block(all_rows, run_json)}

