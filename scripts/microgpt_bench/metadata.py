"""What every run records beside its numbers: date, machine, git state and
the toolchain from the harness's JSON context."""
import datetime
import os
import platform

from .processes import command_output

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    return list(os.getloadavg())


def machine(load_before):
    """The machine, with the 1/5/15-minute load averages before the run and now."""
    return {"uname": " ".join(platform.uname()), "cpu_model": cpu_model(), "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": load_average()}


def git_state(directory=PROJECT_DIR, exclude=()):
    """The commit and whether the tree differs from it. Untracked files
    count (a new variant is an untracked file until it is added); ignored
    ones (build/, data/names.txt) do not, nor the paths in exclude."""
    commit = command_output(["git", "rev-parse", "HEAD"], cwd=directory)
    pathspec = ["--", ".", *(f":!{path}" for path in exclude)] if exclude else []
    status = command_output(["git", "status", "--porcelain", "--untracked-files=all", *pathspec], cwd=directory,
                            strip=False)
    changes = status.splitlines() if status else []
    return {"commit": commit or "unknown", "dirty": bool(changes), "changes": changes[:50]}


def toolchain(context):
    """Compilers and flags, from the microgpt_* keys of a harness JSON context."""
    library = command_output(["dpkg-query", "-W", "-f", "${Version}", "libbenchmark-dev"])
    return {"c_compiler": context.get("microgpt_c_compiler", "unknown"),
            "cxx_compiler": context.get("microgpt_cxx_compiler", "unknown"),
            "c_flags": context.get("microgpt_c_flags", "unknown"),
            "build_type": context.get("microgpt_build_type", "unknown"),
            "benchmark_library": f"libbenchmark {library}" if library else "libbenchmark",
            "benchmark_library_build_type": context.get("library_build_type", "unknown")}


def commit_text(git):
    """"abcdef012345" or "abcdef012345 (with uncommitted changes)"."""
    return git.get("commit", "unknown")[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")


def measured_line(run_json, what="Measured"):
    """The first line of a table's notes: when, where, which commit, which compiler."""
    machine_facts = run_json.get("machine", {})
    before, after = machine_facts.get("load_average_before"), machine_facts.get("load_average_after")
    load = f", load average {before[0]:.2f} before and {after[0]:.2f} after the run" if before and after else ""
    return (f"{what} {run_json.get('date', '?')} on {machine_facts.get('cpu_model', '?')} "
            f"({machine_facts.get('cpus', '?')} CPUs{load}), commit {commit_text(run_json.get('git', {}))}")
