"""Running the harness and the Python programs, one process at a time.

A process that crashes, hangs or writes no usable output loses only its own
measurement: its failure becomes a status text ("failed: killed by SIGSEGV",
"failed: timed out after 1800 s", "failed: exit status 2: <last stderr
line>"), and the caller goes on. A Ctrl-C that reached the child goes on as
KeyboardInterrupt.
"""
import json
import os
import signal
import subprocess
import sys
import time

from .files import ResultsError


def log(message):
    print(message, flush=True)


def run_guarded(program, output_dir, work):
    """work()'s exit status; 2 after one line on stderr when it raises a
    ResultsError, 130 when interrupted (Ctrl-C) before it published."""
    try:
        return work()
    except KeyboardInterrupt:
        print(f"\n{program}: interrupted; {output_dir} left as it was", file=sys.stderr)
        return 130
    except ResultsError as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 2


def exit_status(program, failures, what):
    """1 after one line on stderr naming the failures, or 0 without any."""
    if not failures:
        return 0
    print(f"{program}: {len(failures)} {what} failed: {'; '.join(failures)}", file=sys.stderr)
    return 1


def command_output(command, cwd=None, strip=True):
    """The command's stdout (stripped), or None if it cannot run or fails."""
    try:
        output = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout
        return output.strip() if strip else output
    except (OSError, subprocess.CalledProcessError):
        return None


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def run_logged(command, stdout_path, stderr_path, timeout, cwd=None, env=None):
    """(returncode, or None on timeout, and the wall seconds)."""
    start = time.monotonic()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, env=env)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = None
        except BaseException:
            process.kill()
            process.wait()
            raise
    return returncode, time.monotonic() - start


def process_failure(returncode, stderr_path, timeout):
    """Why a finished process failed, or None if it exited with status 0;
    returncode None means it timed out."""
    if returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    if returncode is None:
        return f"failed: timed out after {timeout:g} s"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"failed: killed by {name}"
    if returncode != 0:
        last = tail(stderr_path, 1)
        return f"failed: exit status {returncode}" + (f": {last}" if last else "")
    return None


def run_json_process(command, stem, timeout, output_path=None, empty=None):
    """Runs command with stdout and stderr in stem.out and stem.err and reads
    the JSON it writes to output_path (default stem.json).
    Returns ({"status", "exit_code", "seconds"[, "stderr_tail"]}, JSON or
    None). empty(JSON) returns a reason when the JSON holds no result."""
    output_path = output_path or stem + ".json"
    try:
        returncode, seconds = run_logged(command, stem + ".out", stem + ".err", timeout)
        failure = process_failure(returncode, stem + ".err", timeout)
    except OSError as error:
        returncode, seconds, failure = None, 0.0, f"failed: cannot run {command[0]}: {error.strerror}"
    outcome = {"status": failure or "ok", "exit_code": returncode, "seconds": round(seconds, 3)}
    result = None
    if not failure:
        try:
            with open(output_path) as f:
                result = json.load(f)
            reason = empty(result) if empty else None
            if reason:
                raise ValueError(reason)
        except (OSError, ValueError) as error:
            outcome["status"] = f"failed: no usable output ({error})"
            result = None
    if result is None:
        outcome["stderr_tail"] = tail(stem + ".err", 20)
    return outcome, result


def no_benchmarks(benchmark_json):
    """empty() for run_json_process on Google Benchmark JSON."""
    return None if benchmark_json.get("benchmarks") else "no benchmarks in it"


def select_variants(bench, wanted_text):
    """The variants to run: all the harness binary has, or those named in
    wanted_text (comma-separated), each checked against the binary's."""
    if not os.access(bench, os.X_OK):
        raise ResultsError(f"{bench}: no harness binary (run `make` first)")
    output = command_output([bench, "--list-variants"])
    if output is None:
        raise ResultsError(f"{bench} --list-variants failed (is the harness built? run `make`)")
    variants = output.split()
    if not wanted_text:
        return variants
    wanted = [name for name in wanted_text.split(",") if name]
    unknown = [name for name in wanted if name not in variants]
    if unknown:
        raise ResultsError(f"unknown variant(s) {', '.join(unknown)}; the binary has {', '.join(variants)}")
    return wanted


def merge_benchmarks(results):
    """One Google Benchmark JSON from several processes' ones: the first
    context (plus every process's own microgpt_* keys) and all entries."""
    merged = {"context": {}, "benchmarks": []}
    for result in results:
        if not merged["context"]:
            merged["context"] = dict(result.get("context", {}))
        for key, value in result.get("context", {}).items():
            if key.startswith("microgpt_"):
                merged["context"].setdefault(key, value)
        merged["benchmarks"].extend(result.get("benchmarks", []))
    return merged
