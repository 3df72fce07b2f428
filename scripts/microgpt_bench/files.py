"""Files of a run: atomic writes, JSON, staged publishing, writability.

Every output goes through atomic_write (a temporary file beside the target,
fsync, rename), and a run's outputs through publish (a staging directory
renamed into place at the end), so that readers and an interrupted run see
the old files or the whole new ones, never a part.
"""
import json
import os
import shutil
import tempfile


class ResultsError(Exception):
    """A results file is missing or malformed, or an output cannot be
    written: one line for the user."""


def atomic_write(path, data):
    """Writes bytes or text to path so that readers see the old file or the
    whole new one, never a part (temporary file + fsync + os.replace)."""
    directory = os.path.dirname(os.path.abspath(path))
    if isinstance(data, str):
        data = data.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


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


def write_outputs(outputs, directory):
    """Writes {file name: bytes or text} into directory (made if missing),
    each file atomically: for the scripts that redo part of a run."""
    os.makedirs(directory, exist_ok=True)
    for name, data in outputs.items():
        atomic_write(os.path.join(directory, name), data)


def check_writable(directory):
    """Fails with a ResultsError unless a file can be created in directory,
    or, when it does not exist yet, in its nearest existing parent (where
    it will be made). Creates and removes a probe file: permission bits do
    not tell about a read-only file system, nor, for root, about anything."""
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ResultsError(f"cannot write to {directory}: {existing} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ResultsError(f"cannot write to {directory}: {error.strerror}") from None


def publish(outputs, output_dir, stale=()):
    """Writes every output ({file name: bytes or text}) to a staging
    directory inside output_dir, then renames them into place and removes
    the files named in stale that are not outputs (those a previous run
    wrote and this one does not): a failure before the renames leaves
    output_dir as it was."""
    os.makedirs(output_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=output_dir)
    try:
        for name, data in outputs.items():
            atomic_write(os.path.join(staging, name), data)
        for name in outputs:
            os.replace(os.path.join(staging, name), os.path.join(output_dir, name))
        for name in stale:
            if name not in outputs and os.path.isfile(os.path.join(output_dir, name)):
                os.unlink(os.path.join(output_dir, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
