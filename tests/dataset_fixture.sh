#!/usr/bin/env bash
# dataset_fixture: the ctest fixture `dataset` (FIXTURES_SETUP), which every
# test that trains requires. It finds names.txt once, in the order every
# target uses: $MICROGPT_DATA as the tests start (a relative path is taken
# from the project's directory), else the project's data/names.txt, else the
# file an earlier run linked at LINK (so a plain ctest after
# `MICROGPT_DATA=... make test` finds it), else a download of URL into
# data/names.txt; checks its sha256; and links it at LINK, the path the
# tests read ($MICROGPT_DATA of every other test).
#
# Usage: dataset_fixture.sh PROJECT_DIR LINK URL SHA256
# Exit 0 with one line saying which file it uses; exit 1 with one line
# saying how to provide the dataset (also written to LINK's directory as
# missing.txt).
set -uo pipefail

if [ $# -ne 4 ]; then
  echo "usage: dataset_fixture.sh PROJECT_DIR LINK URL SHA256" >&2
  exit 2
fi
project_dir=$1 link=$2 url=$3 expected_sha256=$4
project_data=$project_dir/data/names.txt
how_to="set MICROGPT_DATA=/path/to/names.txt or put names.txt at $project_data"

sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
# The failure line goes to stderr and into LINK's directory as missing.txt,
# which `make test` repeats as its last line (ctest lists every test that
# did not run after it).
problem_file=$(dirname "$link")/missing.txt
rm -f "$problem_file"
fail() {
  echo "dataset: $1; $how_to" >&2
  mkdir -p "$(dirname "$problem_file")" && echo "dataset: $1; $how_to" >"$problem_file"
  exit 1
}

if [ -n "${MICROGPT_DATA:-}" ]; then
  source=$MICROGPT_DATA
  case $source in /*) ;; *) source=$project_dir/$source ;; esac
  origin="\$MICROGPT_DATA"
  [ -f "$source" ] || fail "\$MICROGPT_DATA=$MICROGPT_DATA is not a file"
elif [ -f "$project_data" ]; then
  source=$project_data origin="data/names.txt"
elif [ -f "$link" ] && [ "$(sha256_of "$link")" = "$expected_sha256" ]; then
  source=$(realpath "$link") origin="found by an earlier run"
else
  source=$project_data origin="downloaded from $url"
  temporary=$project_data.download-$$
  trap 'rm -f "$temporary"' EXIT
  curl_status=0
  curl --fail --silent --location --connect-timeout 15 --max-time 120 --output "$temporary" "$url" ||
    curl_status=$?
  [ "$curl_status" -eq 0 ] || fail "no dataset, and downloading $url failed (curl exit $curl_status; no network?)"
  actual=$(sha256_of "$temporary")
  [ "$actual" = "$expected_sha256" ] || fail "the download of $url has sha256 $actual, expected $expected_sha256"
  mv "$temporary" "$project_data" || fail "cannot move the download to $project_data"
fi

actual=$(sha256_of "$source")
[ "$actual" = "$expected_sha256" ] ||
  fail "$source ($origin) is not the project's names.txt: sha256 $actual, expected $expected_sha256"
if ! { mkdir -p "$(dirname "$link")" && ln -sfn "$(realpath "$source")" "$link"; }; then
  fail "cannot link $link to $source"
fi
echo "dataset: $source ($origin), sha256 $actual, linked at $link"
