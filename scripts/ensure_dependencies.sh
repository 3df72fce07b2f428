#!/usr/bin/env bash
# ensure_dependencies: checks what a make target needs on Debian bookworm and
# installs what is missing with apt-get. The Makefile runs it before build,
# test, bench, compare, valgrind and fuzz, and .ci/run before everything, so
# CI takes the path a user takes.
#
# Usage: scripts/ensure_dependencies.sh [--dry-run] TARGET...
#   TARGET: build, test, bench, compare, valgrind, fuzz, or ci (what .ci/run
#     needs: test, test-sanitize, valgrind and fuzz)
#   --dry-run (or DRY_RUN=1): say what is missing and the commands it would
#     run, run nothing, exit 0.
#   NO_INSTALL=1: never install; exit 2 with the command to run instead.
#   PLOT_PYTHON: the python3 to check for matplotlib, scipy and torch
#     (default /usr/bin/python3, the one Debian's python3-* packages serve).
#
# For each missing piece it prints one line saying what and why, then runs
# `apt-get update` and `apt-get install -y --no-install-recommends ...` as
# root, or through sudo. Without root or sudo, or with NO_INSTALL=1, it stops
# with exit 2 and the one command to run. Optional pieces (PyTorch for make
# bench's PyTorch rows) are installed when possible and otherwise only noted.
# The checks are called through eval, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail

program=ensure_dependencies
dry_run=${DRY_RUN:-0}
python=${PLOT_PYTHON:-/usr/bin/python3}
targets=()
for argument in "$@"; do
  case $argument in
    --dry-run) dry_run=1 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    build | test | bench | compare | valgrind | fuzz | ci) targets+=("$argument") ;;
    *) echo "$program: unknown target '$argument' (build, test, bench, compare, valgrind, fuzz, ci)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || { echo "$program: no target given (see --help)" >&2; exit 2; }

# Each check: a name, the packages that provide it, why it is needed, and a
# test that succeeds when it is present (run through eval below).
have_command() { command -v "$1" >/dev/null 2>&1; }
have_benchmark() {
  local config
  for config in /usr/lib/*/cmake/benchmark/benchmarkConfig.cmake /usr/lib/cmake/benchmark/benchmarkConfig.cmake \
                /usr/local/lib/cmake/benchmark/benchmarkConfig.cmake /usr/local/lib/*/cmake/benchmark/benchmarkConfig.cmake; do
    [ -f "$config" ] && return 0
  done
  return 1
}
have_python_module() { [ -x "$python" ] && "$python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)" 2>/dev/null; }
have_libfuzzer() {
  have_command clang || return 1
  [ -f "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]
}

needed=()     # "name|packages|why|check command" for each required piece
optional=()   # the same for pieces whose absence only loses a part of the output
need() { needed+=("$1|$2|$3|$4"); }
want() { optional+=("$1|$2|$3|$4"); }

need_build() {
  need "a C compiler (cc)" gcc "the model and the variants are C11" "have_command cc"
  need "a C++ compiler (c++)" g++ "the benchmark harness is C++" "have_command c++"
  need make make "the Makefile drives the build" "have_command make"
  need cmake cmake "the build is CMake" "have_command cmake"
  need "Google Benchmark (headers and CMake config)" libbenchmark-dev "harness/microgpt-bench is built on it" \
       have_benchmark
  want rustc rustc "the Rust baseline (baselines/rust) is built with it (without it, its rows and tests are skipped)" \
       "have_command rustc"
}
need_plot_python() {
  need "matplotlib for $python" python3-matplotlib "the scripts draw the plots (and their tests run them)" \
       "have_python_module matplotlib"
}
for target in "${targets[@]}"; do
  case $target in
    build) need_build ;;
    test | ci)
      need_build
      need_plot_python
      need valgrind valgrind "the test suite runs every variant program under valgrind memcheck" "have_command valgrind"
      need curl "curl ca-certificates" "the programs download the dataset with it (and the tests check that path)" \
           "have_command curl"
      if [ "$target" = ci ]; then
        need clang clang "make fuzz builds the libFuzzer target with clang" "have_command clang"
        need "the libFuzzer runtime" libclang-rt-14-dev "make fuzz links libFuzzer" have_libfuzzer
      fi ;;
    bench)
      need_build
      need_plot_python
      need valgrind valgrind "make bench counts each variant's instructions per step with valgrind's callgrind" \
           "have_command valgrind"
      want "PyTorch for $python" python3-torch "make bench and make sweep time a PyTorch version of the model (without it, its rows say 'not measured')" \
           "have_python_module torch" ;;
    compare)
      need python3 python3 "the bench tool (scripts/bench) is Python" "have_command python3" ;;
    valgrind)
      need_build
      need valgrind valgrind "make valgrind runs every variant program under memcheck" "have_command valgrind" ;;
    fuzz)
      need cmake cmake "the build is CMake" "have_command cmake"
      need clang clang "make fuzz builds the libFuzzer target with clang" "have_command clang"
      need "the libFuzzer runtime" libclang-rt-14-dev "make fuzz links libFuzzer" have_libfuzzer ;;
  esac
done

# Missing packages of a list of checks, each announced on one line.
missing_packages() {  # $1: "required" or "optional"; the checks follow
  local kind=$1 entry name packages why check seen=" "
  shift
  for entry in "$@"; do
    IFS='|' read -r name packages why check <<<"$entry"
    case $seen in *" $name "*) continue ;; esac
    seen+="$name "
    if ! eval "$check"; then
      echo "$program: $name is missing ($kind: $why): apt package $packages" >&2
      echo "$packages"
    fi
  done
}
unique_words() { tr ' ' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ' | sed 's/ $//'; }

required_packages=$(missing_packages required "${needed[@]}" | unique_words)
optional_packages=""
[ ${#optional[@]} -eq 0 ] || optional_packages=$(missing_packages optional "${optional[@]}" | unique_words)
[ -n "$required_packages$optional_packages" ] || exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if have_command sudo && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    as_root=(sudo)
  else
    as_root=(none)
  fi
fi
install_command() {  # the command line a user would type
  local prefix=""
  [ "$(id -u)" -eq 0 ] || prefix="sudo "
  echo "${prefix}apt-get update && ${prefix}apt-get install -y --no-install-recommends $*"
}
all_packages="$required_packages${optional_packages:+ $optional_packages}"
all_packages=${all_packages# }

if [ "$dry_run" = 1 ]; then
  echo "$program: dry run, would run: $(install_command "$all_packages")"
  exit 0
fi
cannot_install() {  # $1: why not
  if [ -n "$required_packages" ]; then
    echo "$program: cannot install ($1); run: $(install_command "$all_packages")" >&2
    exit 2
  fi
  echo "$program: not installing the optional $optional_packages ($1); to have it: $(install_command "$optional_packages")" >&2
  exit 0
}
[ "${NO_INSTALL:-0}" != 1 ] || cannot_install "NO_INSTALL=1"
have_command apt-get || cannot_install "no apt-get on this machine; install the same pieces by its own means"
[ "${as_root[0]:-}" != none ] || cannot_install "not root and no usable sudo"

apt() { DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get "$@"; }
echo "$program: installing $all_packages" >&2
apt update -qq >&2 || { echo "$program: apt-get update failed; run: $(install_command "$all_packages")" >&2; exit 2; }
if [ -n "$required_packages" ]; then
  # shellcheck disable=SC2086  # a list of package names
  apt install -y -qq --no-install-recommends $required_packages >&2 ||
    { echo "$program: apt-get install failed; run: $(install_command "$required_packages")" >&2; exit 2; }
fi
if [ -n "$optional_packages" ]; then
  # shellcheck disable=SC2086
  apt install -y -qq --no-install-recommends $optional_packages >&2 ||
    echo "$program: could not install the optional $optional_packages; going on without it" >&2
fi

# What was installed must now be found: a wrong package name would
# otherwise surface later as a confusing build error.
still_missing=$(missing_packages "still missing" "${needed[@]}" 2>&1 >/dev/null) || true
if [ -n "$still_missing" ]; then
  echo "$still_missing" >&2
  exit 2
fi
exit 0
