# Thin wrapper over CMake and the scripts: the rules live in CMakeLists.txt.
# build, test, bench, compare, valgrind and fuzz first run
# scripts/ensure_dependencies.sh, which installs what they need with apt-get
# (NO_INSTALL=1: only say what is missing; scripts/ensure_dependencies.sh --help).
BUILD_DIR ?= build
comma := ,
JOBS ?= 2
# Extra CMake arguments for every configure, e.g. CMAKE_ARGS=-DMICROGPT_WERROR=ON (CI).
CMAKE_ARGS ?=
ENSURE_DEPENDENCIES = PLOT_PYTHON=$(PLOT_PYTHON) bash scripts/ensure_dependencies.sh

.PHONY: all build test clean

all: build

# Configure once (again whenever CMAKE_ARGS is given), then build.
define build_tree
	@test -f $(BUILD_DIR)/CMakeCache.txt -a -z "$(CMAKE_ARGS)" || \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
endef

build:
	@$(ENSURE_DEPENDENCIES) build
	$(build_tree)

# The dataset: $$MICROGPT_DATA, else data/names.txt, else downloaded (the
# ctest fixture `dataset`, tests/dataset_fixture.cmake).
test:
	@$(ENSURE_DEPENDENCIES) test
	$(build_tree)
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) || \
	  { status=$$?; cat $(BUILD_DIR)/dataset/missing.txt >&2 2>/dev/null; exit $$status; }

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_BUILD_DIR) $(FUZZ_BUILD_DIR)

# Reliability checks, each in its own build directory.
# test-sanitize: the whole suite built with ASan, LSan and UBSan (which halts:
# -fno-sanitize-recover=all); a leak or any report fails the test. The
# scripts.* tests are left out: they run Python only, no compiled code.
SANITIZE_BUILD_DIR ?= build-sanitize
SANITIZER_OPTIONS = ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_string_checks=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# valgrind: every variant program under memcheck (tests/test_valgrind.py,
# also the ctest test `valgrind`).
# Its dataset: $$MICROGPT_DATA, else the one make test's fixture found, else data/names.txt.
VALGRIND_DATA ?= $(or $(MICROGPT_DATA),$(wildcard $(BUILD_DIR)/dataset/names.txt),data/names.txt)
# fuzz: the dataset loader under libFuzzer for FUZZ_SECONDS; a crash fails it
# and leaves the input in $(FUZZ_BUILD_DIR)/artifacts (tests/fuzz/README.md).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIRS = $(FUZZ_BUILD_DIR)/corpus/dataset tests/fuzz/dataset_seeds tests/fuzz/dataset_regressions

.PHONY: test-sanitize valgrind fuzz

test-sanitize:
	@$(ENSURE_DEPENDENCIES) test
	cmake -S . -B $(SANITIZE_BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DMICROGPT_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(SANITIZE_BUILD_DIR) -j $(JOBS)
	$(SANITIZER_OPTIONS) ctest --test-dir $(SANITIZE_BUILD_DIR) --output-on-failure -j $(JOBS) -E '^scripts\.'

valgrind:
	@$(ENSURE_DEPENDENCIES) valgrind
	$(build_tree)
	python3 tests/test_valgrind.py $(BUILD_DIR) $(VALGRIND_DATA) --jobs $(JOBS)

fuzz:
	@$(ENSURE_DEPENDENCIES) fuzz
	cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$(FUZZ_CC) -DMICROGPT_FUZZ=ON $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_dataset
	mkdir -p $(FUZZ_BUILD_DIR)/corpus/dataset $(FUZZ_BUILD_DIR)/artifacts
	$(FUZZ_BUILD_DIR)/fuzz_dataset -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -verbosity=0 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD_DIR)/artifacts/ $(FUZZ_DIRS) || \
	  { echo "fuzz_dataset failed: the input is in $(FUZZ_BUILD_DIR)/artifacts/;" \
	    "make it a regression test as tests/fuzz/README.md says" >&2; exit 1; }

# Instruction counts (scripts/count_instructions.py --help): every variant's
# instructions per training step under callgrind. The ctest test
# `instructions` compares them with results/instructions_baseline.json (fails
# above +5%); instructions-baseline rewrites that file from this build.
INSTRUCTIONS_BASELINE ?= results/instructions_baseline.json

.PHONY: instructions-baseline

instructions-baseline: build
	python3 scripts/count_instructions.py --build-dir $(BUILD_DIR) --write-baseline $(INSTRUCTIONS_BASELINE)

# Benchmarks (scripts/run_bench.py --help; docs/benchmarking.md): every variant
# and the baselines in interleaved rounds into $(RESULTS_DIR). Settings, each
# left to the script's default when empty: STEPS (1000), K_STEPS (300), ROUNDS
# (5; REPETITIONS is its older name), BASELINE_ROUNDS (3: the first rounds that
# also run the Python baselines), PHASE_ITERATIONS (500), INSTRUCTION_STEPS (5,
# the regression baseline's; 0 counts none), FULL=1 (baselines for all STEPS),
# VARIANTS=a,b. The table goes into README.md only from a run with every
# default into results/, or when asked (README=README.md); README= keeps
# README.md out of any run. CI smoke-tests with e.g. STEPS=5 K_STEPS=3 ROUNDS=1.
# The scripts need a python3 that can import matplotlib (Debian's
# python3-matplotlib serves /usr/bin/python3, not a pyenv python3).
PLOT_PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
  if $$p -c 'import matplotlib' >/dev/null 2>&1; then command -v $$p; break; fi; done)
RESULTS_DIR ?= results
ROUNDS ?= $(REPETITIONS)
README_DEFAULT = README.md
README_GIVEN = $(filter-out undefined,$(origin README))
BENCH_README = $(if $(README_GIVEN),$(if $(README),--readme $(README)),--readme-if-default $(README_DEFAULT))
BENCH_FLAGS = --bench $(BUILD_DIR)/microgpt-bench --output-dir $(RESULTS_DIR) \
  $(if $(STEPS),--steps $(STEPS)) $(if $(K_STEPS),--k-steps $(K_STEPS)) $(if $(ROUNDS),--rounds $(ROUNDS)) \
  $(if $(BASELINE_ROUNDS),--baseline-rounds $(BASELINE_ROUNDS)) \
  $(if $(PHASE_ITERATIONS),--phase-iterations $(PHASE_ITERATIONS)) \
  $(if $(INSTRUCTION_STEPS),--instruction-steps $(INSTRUCTION_STEPS)) $(if $(VARIANTS),--variants $(VARIANTS)) \
  $(if $(filter 1 yes true,$(FULL)),--full) $(BENCH_README)
COMPARE_PY = /usr/share/benchmark/compare.py

.PHONY: bench run-bench plot table compare run-compare check-plot-python sweep sweep-table sweep-plot

check-plot-python:
	@test -n "$(PLOT_PYTHON)" || { echo "no python3 can import matplotlib:" \
	  "apt-get install --no-install-recommends python3-matplotlib (or PLOT_PYTHON=/path/to/python3)" >&2; exit 2; }

# make expands a recipe before running it: the python found after the set-up
# step is looked up by a second make (run-bench, run-compare).
bench:
	@$(ENSURE_DEPENDENCIES) bench
	$(build_tree)
	@$(MAKE) --no-print-directory run-bench

run-bench: check-plot-python
	$(PLOT_PYTHON) scripts/run_bench.py $(BENCH_FLAGS)

plot: check-plot-python
	$(PLOT_PYTHON) scripts/plot_results.py --results-dir $(RESULTS_DIR)

table: check-plot-python
	$(PLOT_PYTHON) scripts/make_table.py --results-dir $(RESULTS_DIR) $(BENCH_README)

# Model-size sweep (scripts/run_sweep.py --help): every variant over n_embd
# 16,32,64,128 x n_layer 1,2,4 (20 steps per point, a fresh process each),
# and floor, vector and replay also at n_embd 256,512 and block_size 64,
# into $(SWEEP_DIR): sweep.json, sweep_run.json, sweep.csv, sweep_table.md and
# the plots, and the table into README.md's sweep section (unless SWEEP_DIR or
# RESULTS_DIR is not results/, or README= is given). QUICK=1: n_embd
# 16,32 x n_layer 1,2 (and 64, block_size 32 for those three), 5 steps,
# 0.1 s a point, into build/sweep-quick with README.md untouched, so the
# committed results stay as they are. make sweep-table and sweep-plot redo
# the CSV and table, and the plots.
QUICK_SWEEP = $(filter 1 yes true,$(QUICK))
SWEEP_DIR ?= $(if $(QUICK_SWEEP),$(BUILD_DIR)/sweep-quick,$(RESULTS_DIR))

# README.md's sweep table: from a sweep into results/, or when asked (README=...).
SWEEP_README = $(if $(README_GIVEN),$(if $(README),--readme $(README)),$(if $(QUICK_SWEEP)$(filter-out results,$(SWEEP_DIR)),,--readme $(README_DEFAULT)))

sweep: build check-plot-python
	$(PLOT_PYTHON) scripts/run_sweep.py --bench $(BUILD_DIR)/microgpt-bench --output-dir $(SWEEP_DIR) \
	  $(if $(QUICK_SWEEP),--quick) $(SWEEP_README)

sweep-table: check-plot-python
	$(PLOT_PYTHON) scripts/make_sweep_table.py --results-dir $(SWEEP_DIR) $(SWEEP_README)

sweep-plot: check-plot-python
	$(PLOT_PYTHON) scripts/plot_sweep.py --results-dir $(SWEEP_DIR)

compare:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=old.json B=new.json" >&2; exit 2; }
	@$(ENSURE_DEPENDENCIES) compare
	@$(MAKE) --no-print-directory run-compare

run-compare: check-plot-python
	$(PLOT_PYTHON) $(COMPARE_PY) benchmarks $(A) $(B)

# Two builds timed against each other (scripts/compare_builds.py --help):
# train_full of each variant in VARIANTS (default floor), OLD's harness and
# this build's alternately, PAIRS pairs (default 5), the ratio old / new
# pair by pair; ARGS go to both harnesses, e.g. ARGS="--n-embd 128 --n-layer 4
# --steps 50"; OUTPUT=FILE keeps the pairs as JSON. docs/the-floor.md uses it.
.PHONY: compare-builds

compare-builds:
	@test -n "$(OLD)" || { echo "usage: make compare-builds OLD=path/to/old/microgpt-bench [PAIRS=5] [VARIANTS=floor,vector] [ARGS=...]" >&2; exit 2; }
	@$(MAKE) --no-print-directory build
	cd scripts && python3 compare_builds.py --old $(abspath $(OLD)) --new $(abspath $(BUILD_DIR))/microgpt-bench \
	  $(if $(PAIRS),--pairs $(PAIRS)) $(foreach v,$(subst $(comma), ,$(VARIANTS)),--variant $(v)) \
	  $(if $(OUTPUT),--output $(abspath $(OUTPUT))) -- $(ARGS)

# Stability of the table (scripts/compare_runs.py --help; docs/benchmarking.md):
# two runs' row order, ratio changes and instruction counts, e.g. of two
# `make bench` runs in a row: make stability A=/tmp/run1 B=/tmp/run2. The
# block goes to stdout, and with README=FILE between its stability markers.
# Exit 1 when the counts of one build disagree by more than 0.1%.
.PHONY: stability

stability:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make stability A=results_dir B=results_dir [README=README.md]" >&2; exit 2; }
	python3 scripts/compare_runs.py $(A) $(B) $(if $(README),--readme $(README))
