#!/usr/bin/env python3
"""test_cli: the microgpt-<variant> programs and microgpt-fetch-data as a user
meets them: --help, every bad input (one line on stderr, exit 2, nothing on
stdout, no output file left behind), --quiet, --losses (also through a link
or a pipe), $MICROGPT_DATA.

Usage: test_cli.py BUILD_DIR DATASET"""
import argparse
import json
import os
import resource
import stat
import subprocess
import sys
import tempfile
import threading
import unittest

BUILD_DIR = DATASET = None


def run(program, *arguments, env=None, cwd=None):
    environment = dict(os.environ)
    environment.pop("MICROGPT_DATA", None)
    environment.update(env or {})
    return subprocess.run(
        [os.path.join(os.path.abspath(BUILD_DIR), program), *arguments],
        capture_output=True, text=True, env=environment, cwd=cwd, timeout=120,
    )


class BadInput(unittest.TestCase):
    """Each case: exit code 2, nothing on stdout, exactly this one line on stderr.
    README.md's "Bad input" table lists the same cases."""

    def assert_refused(self, result, message):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "", "nothing is printed before a refusal")
        self.assertEqual(result.stderr.splitlines(), ["microgpt-naive: " + message], "one line on stderr")

    def test_steps_values(self):
        for value in ("0", "-3", "abc", "1.5", "", "12abc", "99999999999", "1000001"):
            with self.subTest(steps=value):
                self.assert_refused(
                    run("microgpt-naive", "--data", DATASET, "--steps", value),
                    f"--steps takes a whole number from 1 to 1000000, got '{value}'",
                )

    def test_samples_values(self):
        for value in ("-1", "x", "100001"):
            with self.subTest(samples=value):
                self.assert_refused(
                    run("microgpt-naive", "--data", DATASET, "--samples", value),
                    f"--samples takes a whole number from 0 to 100000, got '{value}'",
                )

    def test_unknown_option(self):
        for option in ("--stpes", "--steps=3", "-q", "names.txt"):
            with self.subTest(option=option):
                self.assert_refused(run("microgpt-naive", option), f"unknown option '{option}' (see --help)")

    def test_size_values(self):
        # Each size: a whole number from 1 to its cap (engine/variant.h).
        caps = {"--n-embd": 4096, "--n-head": 4096, "--n-layer": 10000, "--block-size": 4096}
        for flag, cap in caps.items():
            for value in ("0", "-4", "x", "2.5", "", "16k", str(cap + 1), "99999999999"):
                with self.subTest(flag=flag, value=value):
                    self.assert_refused(run("microgpt-naive", "--data", DATASET, flag, value),
                                        f"{flag} takes a whole number from 1 to {cap}, got '{value}'")

    def test_size_not_divisible(self):
        for embd, head in (("30", None), ("16", "3"), ("8", "16")):
            arguments = ["--n-embd", embd] + (["--n-head", head] if head else [])
            with self.subTest(arguments=arguments):
                self.assert_refused(run("microgpt-naive", "--data", DATASET, *arguments),
                                    f"--n-embd {embd} is not divisible by --n-head {head or 4}")

    def test_size_too_large(self):
        # Past the graph-node limit, refused before anything is allocated or
        # printed, and before the --losses file is made.
        with tempfile.TemporaryDirectory() as directory:
            for arguments, nodes in (((2048, 4, 1, 16), 1664831651), ((128, 4, 8, 16), 52994179),
                                     ((16, 4, 1, 4096), 870428515)):
                embd, head, layers, block = arguments
                with self.subTest(arguments=arguments):
                    self.assert_refused(
                        run("microgpt-naive", "--data", DATASET, "--n-embd", str(embd), "--n-head", str(head),
                            "--n-layer", str(layers), "--block-size", str(block),
                            "--losses", os.path.join(directory, "losses.txt")),
                        f"--n-embd {embd} --n-head {head} --n-layer {layers} --block-size {block} is too large: "
                        f"up to {nodes} graph nodes per step, parameters included, over the limit of 50000000 "
                        "(about 5 GB)")
            self.assertEqual(os.listdir(directory), [])

    def test_size_too_large_own_bound(self):
        # floor, vector and replay bound their own memory (variant.h,
        # step_bytes): past the reference graph's limit, within their own.
        self.assertEqual(run("microgpt-floor", "--data", DATASET, "--quiet", "--steps", "1", "--samples", "0",
                             "--n-embd", "256", "--n-layer", "1", "--block-size", "64").returncode, 0)
        for variant in ("floor", "vector", "replay"):
            with self.subTest(variant=variant):
                result = run(f"microgpt-{variant}", "--data", DATASET, "--n-embd", "4096", "--n-layer", "8")
                self.assertEqual(result.returncode, 2)
                self.assertRegex(result.stderr, rf"^microgpt-{variant}: --n-embd 4096 --n-head 4 --n-layer 8 "
                                 rf"--block-size 16 is too large for {variant}: about [0-9.]+ GB a step "
                                 r"\(parameters, Adam, activations\), over the limit of 5 GB\n$")

    def test_missing_value(self):
        for flag in ("--data", "--steps", "--samples", "--losses", "--n-embd", "--n-head", "--n-layer",
                     "--block-size"):
            with self.subTest(flag=flag):
                self.assert_refused(run("microgpt-naive", "--quiet", flag), f"{flag} needs a value (see --help)")

    def test_option_given_twice(self):
        with tempfile.TemporaryDirectory() as directory:
            losses = os.path.join(directory, "losses.txt")
            for flag, first, second in (("--data", DATASET, DATASET), ("--steps", "2", "3"),
                                        ("--samples", "1", "1"), ("--losses", losses, losses),
                                        ("--n-embd", "8", "8"), ("--n-layer", "1", "2")):
                with self.subTest(flag=flag):
                    self.assert_refused(run("microgpt-naive", flag, first, "--quiet", flag, second),
                                        f"{flag} is given twice (see --help)")
            self.assertEqual(os.listdir(directory), [])

    def test_empty_file_names(self):
        with tempfile.TemporaryDirectory() as directory:
            for flag in ("--data", "--losses"):
                with self.subTest(flag=flag):
                    self.assert_refused(run("microgpt-naive", flag, "", cwd=directory), f"{flag} needs a file name, got ''")
            self.assertEqual(os.listdir(directory), [], "no temporary file in the working directory")

    def test_bad_datasets(self):
        with tempfile.TemporaryDirectory() as directory:
            cases = {
                "empty.txt": (b"", "is empty"),
                "blank.txt": (b"\n \n\t\n", "has no usable line (every line is blank)"),
                "binary.txt": (b"anna\n\xff\xfe\n", "line 2 has byte 0xff, outside printable ASCII"),
                "control.txt": (b"an\x07na\n", "line 1 has byte 0x07, outside printable ASCII"),
                "utf8.txt": ("zo\u00eb\n".encode(), "line 1 has byte 0xc3, outside printable ASCII"),
            }
            for name, (content, message) in cases.items():
                path = os.path.join(directory, name)
                with open(path, "wb") as f:
                    f.write(content)
                with self.subTest(dataset=name):
                    self.assert_refused(run("microgpt-naive", "--data", path), f"dataset {path} {message}")
            missing = os.path.join(directory, "missing.txt")
            self.assert_refused(
                run("microgpt-naive", "--data", missing), f"cannot open dataset {missing}: No such file or directory"
            )
            self.assert_refused(run("microgpt-naive", "--data", directory), f"cannot read dataset {directory}: Is a directory")
            self.assertEqual(sorted(os.listdir(directory)), sorted(cases), "no file was written")

    @unittest.skipUnless(os.path.exists("/proc/self/mem"), "needs Linux /proc")
    def test_unreadable_dataset(self):
        # Opens, but reading it fails (even for root, unlike a chmod 000 file).
        self.assert_refused(
            run("microgpt-naive", "--data", "/proc/self/mem"), "cannot read dataset /proc/self/mem: Input/output error"
        )

    @unittest.skipIf(os.geteuid() == 0, "root reads a file whatever its permissions")
    def test_dataset_without_read_permission(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "names.txt")
            with open(path, "w") as f:
                f.write("anna\n")
            os.chmod(path, 0)
            self.assert_refused(run("microgpt-naive", "--data", path), f"cannot open dataset {path}: Permission denied")

    def test_environment_dataset(self):
        result = run("microgpt-naive", "--steps", "1", env={"MICROGPT_DATA": "/nonexistent/names.txt"})
        self.assert_refused(result, "cannot open dataset /nonexistent/names.txt: No such file or directory")

    def test_losses_in_missing_directory(self):
        with tempfile.TemporaryDirectory() as directory:
            target = os.path.join(directory, "no-such-dir", "losses.txt")
            self.assert_refused(
                run("microgpt-naive", "--data", DATASET, "--steps", "2", "--losses", target),
                f"cannot write --losses {target}: No such file or directory",
            )
            self.assertEqual(os.listdir(directory), [])

    def test_losses_is_a_directory(self):
        # Refused before training, not by the rename after it.
        with tempfile.TemporaryDirectory() as directory:
            target = os.path.join(directory, "losses")
            os.mkdir(target)
            self.assert_refused(
                run("microgpt-naive", "--data", DATASET, "--steps", "2", "--losses", target),
                f"cannot write --losses {target}: Is a directory",
            )
            self.assertEqual(os.listdir(directory), ["losses"], "no temporary file beside it")
            self.assertEqual(os.listdir(target), [])

    @unittest.skipUnless(os.path.exists("/dev/full"), "needs /dev/full")
    def test_losses_write_fails(self):
        # The one refusal that comes after the run: the disk fills up.
        result = run("microgpt-naive", "--data", DATASET, "--steps", "2", "--samples", "0", "--quiet",
                     "--losses", "/dev/full")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr.splitlines(),
                         ["microgpt-naive: cannot write --losses /dev/full: No space left on device"])
        self.assertNotIn("--- summary", result.stdout, "no summary after a failed write")

    def test_out_of_memory_leaves_no_losses_file(self):
        # An exit from deep inside training (here out of memory; a graph too
        # deep for the call stack exits the same way) removes the temporary file.
        binary = os.path.join(BUILD_DIR, "microgpt-naive")
        with open(binary, "rb") as f:
            if b"__asan_init" in f.read():
                self.skipTest("a sanitizer build reserves more address space than the limit allows")
        limit = 600 << 20
        with tempfile.TemporaryDirectory() as directory:
            result = subprocess.run(
                [binary, "--data", DATASET, "--n-embd", "128", "--n-layer", "4", "--steps", "1", "--samples", "0",
                 "--losses", os.path.join(directory, "losses.txt")],
                capture_output=True, text=True, timeout=120,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertRegex(result.stderr, r"^microgpt: out of memory \(\d+ bytes at [^)]+\)\n$")
            self.assertEqual(os.listdir(directory), [], "no temporary losses file left behind")


class GoodInput(unittest.TestCase):
    def test_help(self):
        for variant in ("naive", "stack", "fused", "both"):
            result = run(f"microgpt-{variant}", "--help")
            self.assertEqual(result.returncode, 0)
            self.assertIn(f"usage: microgpt-{variant} [--data PATH] [--steps N]", result.stdout)
            self.assertEqual(result.stderr, "")

    def test_output_lines_and_losses_file(self):
        with tempfile.TemporaryDirectory() as directory:
            losses = os.path.join(directory, "losses.txt")
            result = run("microgpt-fused", "--data", DATASET, "--steps", "3", "--samples", "2", "--losses", losses)
            self.assertEqual(result.returncode, 0, result.stderr)
            lines = result.stdout.splitlines()
            self.assertEqual(lines[:3], ["num docs: 32033", "vocab size: 27", "num params: 4192"])
            self.assertEqual(lines[3], "step    1 /    3 | loss 3.3660")
            self.assertTrue(lines[5].startswith("step    3 /    3 | loss "))
            self.assertIn("--- inference (new, hallucinated names) ---", lines)
            self.assertTrue(any(line.startswith("sample  2: ") for line in lines))
            for key in ("wall time:", "time per step: forward", "graph nodes per step: mean", "graph edges per step: mean"):
                self.assertTrue(any(line.startswith(key) for line in lines), key)
            with open(losses) as f:
                values = f.read().splitlines()
            self.assertEqual(len(values), 3)
            self.assertEqual(values[0], "3.3659669475848504")
            self.assertEqual(os.listdir(directory), ["losses.txt"], "no temporary file left")

    def test_losses_through_link_and_pipe(self):
        # A target that is not a regular file is written through, never replaced
        # by the renamed temporary (as root, that would replace /dev/stdout).
        with tempfile.TemporaryDirectory() as directory:
            real = os.path.join(directory, "real.txt")
            link = os.path.join(directory, "link.txt")
            os.symlink(real, link)
            result = run("microgpt-stack", "--data", DATASET, "--steps", "2", "--samples", "0", "--losses", link)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(os.path.islink(link), "the link is kept")
            with open(real) as f:
                self.assertEqual(f.read().splitlines()[0], "3.3659669475848504")

            pipe = os.path.join(directory, "pipe")
            os.mkfifo(pipe)
            received = []
            reader = threading.Thread(target=lambda: received.append(open(pipe).read()))
            reader.start()
            result = run("microgpt-stack", "--data", DATASET, "--steps", "2", "--samples", "0", "--losses", pipe)
            reader.join(timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(stat.S_ISFIFO(os.stat(pipe).st_mode), "the pipe is kept")
            self.assertEqual(len(received[0].splitlines()), 2)
            self.assertEqual(sorted(os.listdir(directory)), ["link.txt", "pipe", "real.txt"])

    def test_model_size(self):
        # num params follows the shape: 2 * 27 * E + B * E + 12 * L * E^2.
        for embd, head, layers, block in ((8, 2, 2, 8), (32, 1, 1, 4), (12, 3, 3, 20)):
            with self.subTest(shape=(embd, head, layers, block)):
                result = run("microgpt-both", "--data", DATASET, "--steps", "2", "--samples", "2",
                             "--n-embd", str(embd), "--n-head", str(head), "--n-layer", str(layers),
                             "--block-size", str(block))
                self.assertEqual(result.returncode, 0, result.stderr)
                lines = result.stdout.splitlines()
                self.assertEqual(lines[2], f"num params: {2 * 27 * embd + block * embd + 12 * layers * embd * embd}")
                self.assertTrue(lines[3].startswith("step    1 /    2 | loss "))
                samples = [line.split(": ", 1)[1] for line in lines if line.startswith("sample ")]
                self.assertEqual(len(samples), 2)
                self.assertTrue(all(len(sample) <= block for sample in samples), samples)

    def test_default_size_flags_change_nothing(self):
        # The reference's sizes given explicitly: the same run, byte for byte.
        explicit = run("microgpt-naive", "--data", DATASET, "--steps", "3", "--samples", "2", "--n-embd", "16",
                       "--n-head", "4", "--n-layer", "1", "--block-size", "16")
        implicit = run("microgpt-naive", "--data", DATASET, "--steps", "3", "--samples", "2")
        self.assertEqual(explicit.returncode, 0, explicit.stderr)
        self.assertEqual(explicit.stdout.partition("\n--- summary")[0], implicit.stdout.partition("\n--- summary")[0])

    def test_deep_graph_runs(self):
        # About 25,000 nodes on the deepest path: the recursive sort runs on a
        # thread whose stack is sized for the bound (engine/call_stack.h).
        for variant in ("naive", "fused"):
            with self.subTest(variant=variant):
                result = run(f"microgpt-{variant}", "--data", DATASET, "--steps", "1", "--samples", "0", "--quiet",
                             "--n-embd", "4", "--n-head", "1", "--n-layer", "500", "--block-size", "4")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "")
                self.assertIn("num params: 96232", result.stdout)

    def test_quiet(self):
        result = run("microgpt-both", "--data", DATASET, "--steps", "4", "--samples", "1", "--quiet")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(any(line.startswith("step ") for line in result.stdout.splitlines()))
        self.assertIn("sample  1: ", result.stdout)

    def test_environment_dataset_is_used(self):
        result = run("microgpt-naive", "--steps", "1", "--samples", "0", env={"MICROGPT_DATA": DATASET})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("num docs: 32033", result.stdout)


class FetchData(unittest.TestCase):
    def test_checksum_mismatch_leaves_nothing(self):
        with tempfile.TemporaryDirectory() as directory:
            bad = os.path.join(directory, "bad.txt")
            with open(bad, "w") as f:
                f.write("not\nthe\nnames\n")
            output = os.path.join(directory, "names.txt")
            result = run("microgpt-fetch-data", "--url", "file://" + bad, "--output", output)
            self.assertEqual(result.returncode, 2)
            lines = result.stderr.splitlines()
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("checksum mismatch for file://" + bad, lines[0])
            self.assertEqual(os.listdir(directory), ["bad.txt"], "nothing half-written")

    def test_download_failure(self):
        with tempfile.TemporaryDirectory() as directory:
            output = os.path.join(directory, "names.txt")
            result = run("microgpt-fetch-data", "--url", "file:///nonexistent/names.txt", "--output", output)
            self.assertEqual(result.returncode, 2)
            self.assertEqual(result.stderr.splitlines(), [
                "microgpt-fetch-data: no dataset: downloading file:///nonexistent/names.txt failed (curl exit 37; "
                "no network?); set MICROGPT_DATA=/path/to/names.txt"], "one line on stderr, not curl's as well")
            self.assertEqual(os.listdir(directory), [])

    def test_verified_download(self):
        with tempfile.TemporaryDirectory() as directory:
            output = os.path.join(directory, "names.txt")
            result = run("microgpt-fetch-data", "--url", "file://" + os.path.abspath(DATASET), "--output", output)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("verified sha256", result.stdout)
            with open(output, "rb") as f, open(DATASET, "rb") as g:
                self.assertEqual(f.read(), g.read())

    def test_bad_option(self):
        result = run("microgpt-fetch-data", "--bogus")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown option '--bogus'", result.stderr)


class SharedOptionRules(unittest.TestCase):
    """microgpt-bench and microgpt-variants parse options with the CLI's parser
    (engine/command_line.c): the same one-line refusals, exit 2."""

    def assert_refused(self, result, program, message):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "", "nothing is printed before a refusal")
        self.assertEqual(result.stderr.splitlines(), [f"{program}: {message}"], "one line on stderr")

    def test_bench_repeated_option(self):
        for flag, first, second in (("--steps", "2", "3"), ("--data", DATASET, DATASET), ("--n-embd", "8", "8")):
            with self.subTest(flag=flag):
                self.assert_refused(run("microgpt-bench", flag, first, flag, second), "microgpt-bench",
                                    f"{flag} is given twice (see --help)")
        self.assert_refused(run("microgpt-bench", "--sweep", "--sweep"), "microgpt-bench",
                            "--sweep is given twice (see --help)")

    def test_bench_same_variant_twice(self):
        self.assert_refused(run("microgpt-bench", "--variant", "naive", "--variant", "naive"), "microgpt-bench",
                            "--variant naive is given twice (see --help)")

    def test_bench_k_steps_over_steps(self):
        self.assert_refused(run("microgpt-bench", "--k-steps", "50", "--steps", "10"), "microgpt-bench",
                            "--k-steps (50) must not exceed --steps (10)")

    def test_bench_unknown_option_and_values(self):
        self.assert_refused(run("microgpt-bench", "--stpes", "3"), "microgpt-bench",
                            "unknown option '--stpes' (see --help)")
        self.assert_refused(run("microgpt-bench", "--steps"), "microgpt-bench", "--steps needs a value (see --help)")
        self.assert_refused(run("microgpt-bench", "--steps", "0"), "microgpt-bench",
                            "--steps takes a whole number from 1 to 1000000, got '0'")
        self.assert_refused(run("microgpt-bench", "--data", ""), "microgpt-bench", "--data needs a file name, got ''")

    def test_quiet_twice(self):
        self.assert_refused(run("microgpt-naive", "--quiet", "--quiet"), "microgpt-naive",
                            "--quiet is given twice (see --help)")

    def test_variants_list(self):
        result = run("microgpt-variants", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        variants = json.loads(result.stdout)
        self.assertIn("naive", [v["name"] for v in variants])
        for facts in variants:
            self.assertEqual(set(facts), {"name", "tolerance", "expected_wrong", "sort", "graph", "description"})
            self.assertIn(facts["sort"], ("recursive", "iterative", "none"))
            self.assertIn(facts["graph"], ("scalar", "fused", "coarse", "sequence", "none"))
        self.assert_refused(run("microgpt-variants", "--yaml"), "microgpt-variants",
                            "unknown option '--yaml' (see --help)")


def main():
    global BUILD_DIR, DATASET
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("dataset")
    args, rest = parser.parse_known_args()
    BUILD_DIR, DATASET = args.build_dir, args.dataset
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
