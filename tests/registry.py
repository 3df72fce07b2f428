"""registry: the variants of a build and their facts, as their const tables
state them (build/microgpt-variants --json; engine/variant_contract.h): what
the Python tests use to pick variants, instead of reading their sources."""
import json
import os
import subprocess


def variant_facts(build_dir):
    """[{"name", "tolerance", "expected_wrong", "sort", "graph", "description"}, ...] in registry order."""
    program = os.path.join(build_dir, "microgpt-variants")
    result = subprocess.run([program, "--json"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SystemExit(f"{program} --json failed (is the build complete?): {result.stderr}")
    return json.loads(result.stdout)


def is_sanitizer_build(build_dir):
    """Whether the build is the AddressSanitizer one (harness/CMakeLists.txt
    writes generated/build_flags.json): valgrind cannot run its programs, and
    its allocator keeps no glibc heap statistics."""
    with open(os.path.join(build_dir, "generated", "build_flags.json"), encoding="utf-8") as text:
        return bool(json.load(text)["sanitize"])
