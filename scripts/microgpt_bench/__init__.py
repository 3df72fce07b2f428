"""microgpt_bench: the library behind the benchmark scripts.

The entry points in scripts/ (run_bench.py, make_table.py, plot_results.py,
run_sweep.py, make_sweep_table.py, plot_sweep.py, count_instructions.py,
plot_step_time.py, compare_runs.py) parse their arguments and call these modules; none
imports another entry point.

  files      atomic writes, JSON in and out, staging a run's outputs, the
             check that an output directory can be written
  processes  running a harness or Python process, logging its failure, the
             variants a harness binary has
  metadata   machine, git and toolchain facts recorded with every run
  readme     replacing a generated block between marker lines of a README
  checks     a row's gradient-check verdict, read from the harness's
             gradient_status and expected_wrong counters
  stats      median, spread and instability over rounds, ratios within a
             round, ties
  bench_run  one `make bench` run: its files, settings, rounds and rows
  instructions  instructions per training step under callgrind (C variants
             and the Python reference), the regression baseline and its check
  step_times the per-step times the harness records, merged and plotted
  run_comparison  two runs compared: row order, ratio changes, instruction
             counts (the table's stability)
  hooks      optional programs other parts add (speed factors), called when
             present
  bench_table, bench_plots   the table and plots of a `make bench` run
  sweep_run, sweep_table, sweep_plots   the same for `make sweep`
  plotting   matplotlib with the Agg backend and byte-stable output
"""
