"""What every command of the bench tool shares: its one error type, files
written whole or not at all, child processes, statistics over rounds, the
facts recorded beside every run, and the number formats of every table."""
import collections
import datetime
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import tempfile
import time

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MISSING = "—"


class ResultsError(Exception):
    """Bad input, or an output that cannot be read or written: one line for the user, exit 2."""


def log(message):
    print(message, flush=True)


# ---- files ----

def atomic_write_all(files):
    """{path: text or bytes}, all or none: each to a temporary file beside it, then all renamed with Ctrl-C
    held off, so a reader sees the old file or the whole new one. A failure is a ResultsError."""
    staged = {}
    try:
        for path, data in files.items():
            if os.path.isdir(path):
                raise ResultsError(f"cannot write {path}: it is a directory")
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            handle, staged[path] = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
            with os.fdopen(handle, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(staged[path], os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o644)
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for path in files:
                os.replace(staged.pop(path), path)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    except OSError as error:
        raise ResultsError(f"cannot write {error.filename}: {error.strerror}") from None
    finally:
        for temporary in staged.values():  # those not renamed
            os.unlink(temporary)


def json_text(value, sort_keys=False):
    return json.dumps(value, indent=2, sort_keys=sort_keys) + "\n"


def load_json(path, hint="run `make bench` first"):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found ({hint})") from None
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read: {error}") from None


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as error:
        raise ResultsError(f"{path}: cannot read: {error.strerror}") from None


def check_writable(directory):
    """A ResultsError unless a file can be made in directory (or, when it does
    not exist yet, in its nearest existing parent): a probe file, since mode
    bits tell nothing of a read-only file system, nor anything for root."""
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    try:
        os.close(os.open(os.path.join(existing, f".write-check-{os.getpid()}"), os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(os.path.join(existing, f".write-check-{os.getpid()}"))
    except OSError as error:
        raise ResultsError(f"cannot write to {directory}: {error.strerror}") from None


# ---- processes ----

def command_output(command, cwd=None):
    """The command's stdout, stripped, or None if it cannot run or fails."""
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def run_process(command, stem, timeout=None, env=None, cwd=None):
    """Runs command with stdout and stderr in stem.out and stem.err: (why it
    failed or None, wall seconds). A Ctrl-C that reached it goes on as
    KeyboardInterrupt; a crash or a timeout is only this process's failure."""
    start = time.monotonic()
    try:
        with open(stem + ".out", "w") as out, open(stem + ".err", "w") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    except OSError as error:
        return f"failed: cannot run {command[0]}: {error.strerror}", 0.0
    seconds = time.monotonic() - start
    if code == -signal.SIGINT:
        raise KeyboardInterrupt
    if code is None:
        return f"failed: timed out after {timeout:g} s", seconds
    if code < 0:
        return f"failed: killed by {signal.Signals(-code).name}", seconds
    if code:
        return f"failed: exit status {code}" + (f": {tail(stem + '.err', 1)}" if tail(stem + ".err", 1) else ""), seconds
    return None, seconds


def run_json(command, stem, timeout=None, output=None, env=None):
    """run_process, then the JSON it wrote to output (default stem.json):
    ({"status", "seconds", "stderr_tail"?}, JSON or None)."""
    failure, seconds = run_process(command, stem, timeout, env)
    result = None
    if not failure:
        try:
            with open(output or stem + ".json") as f:
                result = json.load(f)
        except (OSError, ValueError) as error:
            failure = f"failed: no usable output ({error})"
    outcome = {"status": failure or "ok", "seconds": round(seconds, 3)}
    if failure:
        outcome["stderr_tail"] = tail(stem + ".err", 20)
    return outcome, result


# ---- statistics over rounds ----

# A row is unstable when its coefficient of variation over the rounds exceeds this.
UNSTABLE_CV = 0.10
Spread = collections.namedtuple("Spread", "median low high cv count")


def spread(values):
    """Median, min, max and coefficient of variation of the values (None without any)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    mean = statistics.fmean(values)
    cv = statistics.stdev(values) / mean if len(values) > 1 and mean > 0 else None
    return Spread(statistics.median(values), min(values), max(values), cv, len(values))


def is_unstable(summary):
    return summary is not None and summary.cv is not None and summary.cv > UNSTABLE_CV


def round_ratios(numerators, denominators):
    """Spread of numerator / denominator over the rounds both ran in ({round: value} or lists by round)."""
    if isinstance(numerators, list):
        numerators, denominators = dict(enumerate(numerators)), dict(enumerate(denominators or []))
    shared = [r for r in numerators if r in denominators and numerators[r] is not None and denominators[r]]
    return spread([numerators[r] / denominators[r] for r in shared])


def tie_groups(summaries):
    """{key: (rank, tied)}, fastest first: a row whose min-max overlaps the
    group before it joins it; a group's rows share its first rank."""
    groups = []
    for _, low, high, key in sorted((s.median, s.low, s.high, k) for k, s in summaries.items() if s):
        if groups and low <= groups[-1]["high"]:
            groups[-1]["keys"].append(key)
            groups[-1]["high"] = max(groups[-1]["high"], high)
        else:
            groups.append({"keys": [key], "high": high})
    ranks, position = {}, 1
    for group in groups:
        ranks.update({key: (position, len(group["keys"]) > 1) for key in group["keys"]})
        position += len(group["keys"])
    return ranks


def fitted_slope(points):
    """Least-squares slope of log y against log x; None for fewer than two x."""
    points = [(math.log(x), math.log(y)) for x, y in points if x and y and x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x, mean_y = (statistics.fmean(p[i] for p in points) for i in (0, 1))
    return (sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points))


# ---- what every run records ----

def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def machine(load_before):
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor() or "unknown") if os.path.exists("/proc/cpuinfo") else platform.processor()
    return {"uname": " ".join(platform.uname()), "cpu_model": model, "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": list(os.getloadavg())}


def git_state(directory=PROJECT_DIR, exclude=()):
    """The commit, and whether the tree differs from it (untracked files count; ignored ones and exclude do not)."""
    pathspec = ["--", ".", *(f":!{path}" for path in exclude)] if exclude else []
    status = command_output(["git", "status", "--porcelain", "--untracked-files=all", *pathspec], cwd=directory)
    changes = status.splitlines() if status else []
    return {"commit": command_output(["git", "rev-parse", "HEAD"], cwd=directory) or "unknown",
            "dirty": bool(changes), "changes": changes[:50]}


def toolchain(context):
    """Compilers and flags, from the microgpt_* keys of a harness's JSON context."""
    library = command_output(["dpkg-query", "-W", "-f", "${Version}", "libbenchmark-dev"])
    return {"c_compiler": context.get("microgpt_c_compiler", "unknown"), "c_flags": context.get("microgpt_c_flags", "unknown"),
            "cxx_compiler": context.get("microgpt_cxx_compiler", "unknown"),
            "benchmark_library": f"libbenchmark {library}" if library else "libbenchmark",
            "benchmark_library_build_type": context.get("library_build_type", "unknown")}


def measured_line(run_json, what="Measured"):
    """When, where, which commit and compiler: the first note under every table."""
    m, git = run_json.get("machine", {}), run_json.get("git", {})
    before, after = m.get("load_average_before"), m.get("load_average_after")
    load = f", load average {before[0]:.2f} before and {after[0]:.2f} after" if before and after else ""
    commit = git.get("commit", "unknown")[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")
    return (f"{what} {run_json.get('date', '?')} on {m.get('cpu_model', '?')} ({m.get('cpus', '?')} CPUs{load}), "
            f"commit {commit}; C compiled by {run_json.get('c_compiler', '?')} with `{run_json.get('c_flags', '?')}`")


# ---- number formats ----

def number(value, digits=3):
    """Three significant digits, never an exponent: 0.0123, 1.23, 12.3, 123, 1,234."""
    if value is None:
        return MISSING
    if value == 0 or abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{value:,.{max(decimals, 0)}f}"


def seconds_unit(seconds):
    """(unit, scale) in which the seconds read best."""
    return ("s", 1.0) if seconds >= 1 else ("ms", 1e3) if seconds >= 1e-3 else ("µs", 1e6)


def format_seconds(seconds):
    if seconds is None:
        return MISSING
    unit, scale = seconds_unit(seconds)
    return f"{number(seconds * scale)} {unit}"


def format_time(summary, estimated=False):
    """"2.26 s [2.20–2.41]": median and min–max over the rounds, in the median's
    unit; ~ (est.) for a time scaled from a shorter run; *unstable* over UNSTABLE_CV."""
    if summary is None:
        return MISSING
    text = format_seconds(summary.median)
    if summary.count > 1:
        unit, scale = seconds_unit(summary.median)
        text += f" [{number(summary.low * scale)}–{number(summary.high * scale)}]"
    return (f"~{text} (est.)" if estimated else text) + (" *unstable*" if is_unstable(summary) else "")


def format_ratio(summary):
    """"101× [95.2–110]": a ratio's median and min–max over the rounds."""
    if summary is None:
        return MISSING
    text = number(summary.median) + "×"
    if summary.count > 1 and number(summary.low) != number(summary.high):
        text += f" [{number(summary.low)}–{number(summary.high)}]"
    return text


def format_instructions(value):
    return "not counted" if value is None else f"{number(value / 1e6)} M"


def markdown_table(header, rows, align=None):
    """Lines of a Markdown table; align: a string of 'l'/'r' per column."""
    align = align or "l" * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return lines + ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in rows]


def markdown_cell(cell):
    """A cell's text with "|" made "/" and, outside code spans, "<" made "&lt;" (else read as an HTML tag)."""
    parts = str(cell).replace("|", "/").split("`")
    return "`".join(part if index % 2 else part.replace("<", "&lt;") for index, part in enumerate(parts))


def shape_name(n_embd, n_head, n_layer, block_size):
    """The size part of a benchmark's name (harness/bench_main.cpp): e64_h4_l2_b16."""
    return f"e{n_embd}_h{n_head}_l{n_layer}_b{block_size}"


def parse_shape_name(name):
    match = re.fullmatch(r"e(\d+)_h(\d+)_l(\d+)_b(\d+)", name)
    return tuple(int(g) for g in match.groups()) if match else None
