#!/usr/bin/env python3
"""dataset_lookup: every target finds the dataset the same way, and says
MICROGPT_DATA when it cannot. The ctest fixture (tests/dataset_fixture.sh),
without $MICROGPT_DATA or data/names.txt, takes the file an earlier run
linked (a plain ctest after `MICROGPT_DATA=... make test`), and without it
and without network fails with one line naming MICROGPT_DATA; a program
finds the fixture's file when data/names.txt is missing; the bench tool
names MICROGPT_DATA when it finds nothing.
Usage: test_dataset_lookup.py BUILD_DIR DATASET SHA256"""
import os
import subprocess
import sys
import tempfile

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(TESTS_DIR)
NO_NETWORK_URL = "file:///nonexistent/names.txt"


def main():
    build_dir, data, sha256 = sys.argv[1:4]
    env = {k: v for k, v in os.environ.items() if k != "MICROGPT_DATA"}
    checks = {}
    with tempfile.TemporaryDirectory(prefix="test-dataset-") as work:
        project, link = os.path.join(work, "project"), os.path.join(work, "build", "dataset", "names.txt")
        os.makedirs(os.path.join(project, "data"))
        os.makedirs(os.path.dirname(link))
        os.symlink(os.path.abspath(data), link)
        fixture = ["bash", os.path.join(TESTS_DIR, "dataset_fixture.sh"), project, link, NO_NETWORK_URL, sha256]
        done = subprocess.run(fixture, capture_output=True, text=True, env=env)
        checks["the fixture takes the file an earlier run found"] = (
            done.returncode == 0 and "found by an earlier run" in done.stdout)
        os.unlink(link)
        done = subprocess.run(fixture, capture_output=True, text=True, env=env)
        checks["without it and without network: one line naming MICROGPT_DATA"] = (
            done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1 and "MICROGPT_DATA" in done.stderr)
        fake_build = os.path.join(work, "empty-build")
        os.makedirs(fake_build)
        os.symlink(os.path.join(os.path.abspath(build_dir), "microgpt-bench"), os.path.join(fake_build, "microgpt-bench"))
        if not os.path.exists(os.path.join(PROJECT_DIR, "data", "names.txt")):
            done = subprocess.run([sys.executable, os.path.join(PROJECT_DIR, "scripts", "bench"), "run", "--bench",
                                   os.path.join(fake_build, "microgpt-bench")], capture_output=True, text=True, env=env)
            checks["the bench tool, finding nothing: exit 2, one line naming MICROGPT_DATA"] = (
                done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "MICROGPT_DATA" in done.stderr)
    if os.path.exists(os.path.join(PROJECT_DIR, "data", "names.txt")):
        print("skipped part: data/names.txt exists, so a program and the tool find it first")
    elif os.path.exists(os.path.join(build_dir, "dataset", "names.txt")):
        done = subprocess.run([os.path.join(build_dir, "microgpt-floor"), "--steps", "1", "--samples", "0", "--quiet"],
                              capture_output=True, text=True, env=env)
        checks["a program without MICROGPT_DATA finds the fixture's file"] = done.returncode == 0
    for label, passed in checks.items():
        print(f"{'ok' if passed else 'FAILED'}: {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
