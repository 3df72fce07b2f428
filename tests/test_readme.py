#!/usr/bin/env python3
"""tool.readme: README.md is the front door and says only what the committed
run says. It has at most 150 lines; its generated blocks (variants, results,
findings) and docs/results.md are exactly what `scripts/bench report` makes
from results/ and the build's registry, so a number in a finding that is not
in the run's data, or a variant missing from the variants table, fails here;
and no figure with a unit stands in its hand-written prose.
Usage: test_readme.py BUILD_DIR"""
import os
import re
import sys

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(PROJECT_DIR, "scripts"))

from microgpt_bench import report, runner  # noqa: E402

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
FIGURE = re.compile(r"\d[\d,.]*\s*(?:×|ms\b|µs\b|s\b|%)")


def block(text, name):
    begin, end = report.markers(name)
    return text[text.index(begin) + len(begin):text.index(end)]


def main():
    build_dir = sys.argv[1]
    results = os.path.join(PROJECT_DIR, "results")
    with open(report.README) as f:
        text = f.read()
    with open(report.results_doc(report.README)) as f:
        doc = f.read()
    expected, expected_doc = report.documents(report.README, results, results, build_dir)
    names = [fact["name"] for fact in runner.variant_facts(build_dir)]
    variants_block = block(text, "variants")
    findings, expected_findings = block(text, "findings"), block(expected, "findings")
    prose = text
    for name in report.BLOCKS:
        prose = prose.replace(block(text, name), "")
    checks = {
        f"README.md has at most 150 lines ({len(text.splitlines())})": len(text.splitlines()) <= 150,
        "every variant of the registry is in the variants table: missing "
        f"{[n for n in names if f'| `{n}` |' not in variants_block]}":
            all(f"| `{n}` |" in variants_block for n in names),
        "every number in the findings is in the findings made from results/: not "
        f"{sorted(set(NUMBER.findall(findings)) - set(NUMBER.findall(expected_findings)))}":
            set(NUMBER.findall(findings)) <= set(NUMBER.findall(expected_findings)),
        "README.md's generated blocks are what results/ and the registry make (make table redoes them)":
            text == expected,
        "docs/results.md is what results/ makes": doc == expected_doc,
        f"no figure in README.md's prose outside the blocks: {FIGURE.findall(prose)}": not FIGURE.findall(prose),
    }
    for label, passed in checks.items():
        print(f"{'ok' if passed else 'FAILED'}: {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
