# Thin wrapper: the build's rules are in CMakeLists.txt, the bench tool's in
# scripts/bench (`scripts/bench --help`). Targets that build or measure first
# run scripts/ensure_dependencies.sh, which installs what is missing with
# apt-get (NO_INSTALL=1: only say what). docs/building.md lists every target.
BUILD_DIR ?= build
JOBS ?= 2
comma := ,
# Extra CMake arguments for every configure, e.g. CMAKE_ARGS=-DMICROGPT_WERROR=ON (CI).
CMAKE_ARGS ?=
# The bench tool needs a python3 that can import matplotlib: Debian's
# python3-matplotlib serves /usr/bin/python3, not a pyenv python3.
PLOT_PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
  if $$p -c 'import matplotlib' >/dev/null 2>&1; then command -v $$p; break; fi; done)
ENSURE_DEPENDENCIES = PLOT_PYTHON=$(PLOT_PYTHON) bash scripts/ensure_dependencies.sh
BENCH_TOOL = $(PLOT_PYTHON) scripts/bench

.PHONY: all build test clean test-sanitize valgrind fuzz instructions-baseline check-plot-python \
  bench run-bench plot table sweep run-sweep sweep-table sweep-plot compare stability compare-builds

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

# The dataset: $$MICROGPT_DATA, else data/names.txt, else the one the fixture
# found before, else downloaded (the ctest fixture `dataset`, tests/dataset_fixture.sh).
test:
	@$(ENSURE_DEPENDENCIES) test
	$(build_tree)
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) || \
	  { status=$$?; cat $(BUILD_DIR)/dataset/missing.txt >&2 2>/dev/null; exit $$status; }

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_BUILD_DIR) $(FUZZ_BUILD_DIR)

# The suite built with ASan, LSan and UBSan (a report fails the test); the
# tests of the bench tool run Python only and are left out.
SANITIZE_BUILD_DIR ?= build-sanitize
test-sanitize:
	@$(ENSURE_DEPENDENCIES) test
	cmake -S . -B $(SANITIZE_BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DMICROGPT_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(SANITIZE_BUILD_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir $(SANITIZE_BUILD_DIR) --output-on-failure -j $(JOBS) -E '^(tool|bench|sweep)\.'

# Every variant program under valgrind memcheck (also the ctest test `valgrind`).
VALGRIND_DATA ?= $(or $(MICROGPT_DATA),$(wildcard $(BUILD_DIR)/dataset/names.txt),data/names.txt)
valgrind:
	@$(ENSURE_DEPENDENCIES) valgrind
	$(build_tree)
	python3 tests/test_valgrind.py $(BUILD_DIR) $(VALGRIND_DATA) --jobs $(JOBS)

# The dataset loader under libFuzzer for FUZZ_SECONDS; a crash leaves its input
# in $(FUZZ_BUILD_DIR)/artifacts (tests/fuzz/README.md).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@$(ENSURE_DEPENDENCIES) fuzz
	cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DMICROGPT_FUZZ=ON $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target fuzz_dataset
	mkdir -p $(FUZZ_BUILD_DIR)/corpus/dataset $(FUZZ_BUILD_DIR)/artifacts
	$(FUZZ_BUILD_DIR)/fuzz_dataset -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -verbosity=0 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD_DIR)/artifacts/ $(FUZZ_BUILD_DIR)/corpus/dataset \
	  tests/fuzz/dataset_seeds tests/fuzz/dataset_regressions || \
	  { echo "fuzz_dataset failed: the input is in $(FUZZ_BUILD_DIR)/artifacts/;" \
	    "make it a regression test as tests/fuzz/README.md says" >&2; exit 1; }

# Instructions per step of every variant under callgrind; the ctest test
# `instructions` fails 5% above results/instructions_baseline.json.
instructions-baseline: build
	python3 scripts/bench instructions --build-dir $(BUILD_DIR) --write-baseline results/instructions_baseline.json

check-plot-python:
	@test -n "$(PLOT_PYTHON)" || { echo "no python3 can import matplotlib:" \
	  "apt-get install --no-install-recommends python3-matplotlib (or PLOT_PYTHON=/path/to/python3)" >&2; exit 2; }

# make bench (docs/benchmarking.md): every variant and the baselines in rounds.
# Settings, each the tool's default when empty: STEPS (1000), K_STEPS (300),
# ROUNDS (5), BASELINE_ROUNDS (3), PHASE_ITERATIONS (500), INSTRUCTION_STEPS
# (5), FULL=1, VARIANTS=a,b, DATA=path, ALLOW_OTHER_DATA=1. Only a run at the
# defaults on the reference's dataset publishes (results/, README.md,
# docs/results.md); others stay in BUILD_DIR/bench-runs/ unless RESULTS_DIR=
# or README= says where. make expands a recipe before running it, so the
# python found after the set-up step is looked up by a second make.
BENCH_FLAGS = --bench $(BUILD_DIR)/microgpt-bench $(if $(STEPS),--steps $(STEPS)) $(if $(K_STEPS),--k-steps $(K_STEPS)) \
  $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(BASELINE_ROUNDS),--baseline-rounds $(BASELINE_ROUNDS)) \
  $(if $(PHASE_ITERATIONS),--phase-iterations $(PHASE_ITERATIONS)) \
  $(if $(INSTRUCTION_STEPS),--instruction-steps $(INSTRUCTION_STEPS)) $(if $(filter 1 yes true,$(FULL)),--full) \
  $(if $(VARIANTS),--variants $(VARIANTS)) $(if $(DATA),--data $(DATA)) \
  $(if $(filter 1 yes true,$(ALLOW_OTHER_DATA)),--allow-other-dataset) $(OUTPUT_FLAGS)
OUTPUT_FLAGS = $(if $(RESULTS_DIR),--output-dir $(RESULTS_DIR)) \
  $(if $(filter-out undefined,$(origin README)),--readme '$(README)')

bench:
	@$(ENSURE_DEPENDENCIES) bench
	$(build_tree)
	@$(MAKE) --no-print-directory run-bench

run-bench: check-plot-python
	$(BENCH_TOOL) run $(BENCH_FLAGS)

# The tables, plots, README.md's blocks and docs/results.md again from results/.
plot table sweep-table sweep-plot: check-plot-python
	$(BENCH_TOOL) report --build-dir $(BUILD_DIR) $(if $(RESULTS_DIR),--results-dir $(RESULTS_DIR)) \
	  $(if $(filter-out undefined,$(origin README)),--readme '$(README)')

# make sweep: every variant and PyTorch over model sizes (about 15 minutes);
# QUICK=1 a small grid (into BUILD_DIR/sweep-runs/), EXTEND=1 also floor,
# sequence and PyTorch at n_embd 768 and 1024 (a second a step).
sweep:
	@$(ENSURE_DEPENDENCIES) bench
	$(build_tree)
	@$(MAKE) --no-print-directory run-sweep

run-sweep: check-plot-python
	$(BENCH_TOOL) sweep --bench $(BUILD_DIR)/microgpt-bench $(if $(filter 1 yes true,$(QUICK)),--quick) \
	  $(if $(filter 1 yes true,$(EXTEND)),--extend) $(if $(VARIANTS),--variants $(VARIANTS)) $(OUTPUT_FLAGS)

# Two runs side by side: A and B are Google Benchmark JSON files
# (results/benchmark-round-01.json) or results directories (make stability
# is the same for two `make bench` runs: order, ratios, instruction counts).
compare stability:
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make $@ A=old B=new (two benchmark JSON files or results directories)" >&2; exit 2; }
	python3 scripts/bench compare $(A) $(B) $(if $(OUTPUT),--output $(OUTPUT))

# Two builds timed alternately, old / new pair by pair (VARIANTS, default
# floor; PAIRS, default 5; ARGS for both harnesses, e.g. ARGS="--n-embd 128 --n-layer 4 --steps 50").
compare-builds:
	@test -n "$(OLD)" || { echo "usage: make compare-builds OLD=path/to/old/microgpt-bench [PAIRS=5] [VARIANTS=floor] [ARGS=...]" >&2; exit 2; }
	@$(MAKE) --no-print-directory build
	python3 scripts/bench compare-builds --old $(OLD) --new $(BUILD_DIR)/microgpt-bench $(if $(PAIRS),--pairs $(PAIRS)) \
	  $(foreach v,$(subst $(comma), ,$(VARIANTS)),--variant $(v)) $(if $(OUTPUT),--output $(OUTPUT)) -- $(ARGS)
