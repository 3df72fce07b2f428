"""The dataset, looked up as every target looks it up: --data, $MICROGPT_DATA,
data/names.txt, the file `make test`'s fixture found (BUILD/dataset/names.txt),
else downloaded into data/names.txt by the build's microgpt-fetch-data. Every
failure names MICROGPT_DATA. The reference's sha256 is CMakeLists.txt's."""
import hashlib
import os
import re

from .util import PROJECT_DIR, ResultsError, command_output, read_text

HOW_TO = "set MICROGPT_DATA=/path/to/names.txt (make bench DATA=... passes --data)"


def reference_sha256():
    match = re.search(r'set\(MICROGPT_DATASET_SHA256 "([0-9a-f]{64})"\)', read_text(os.path.join(PROJECT_DIR, "CMakeLists.txt")))
    if not match:
        raise ResultsError("CMakeLists.txt does not set MICROGPT_DATASET_SHA256")
    return match.group(1)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(explicit, build_dir):
    """The dataset's absolute path, downloading it if nothing else is there."""
    environment = os.environ.get("MICROGPT_DATA")
    for origin, path in (("--data", explicit), ("$MICROGPT_DATA", environment)):
        if path:
            if not os.path.isfile(path):
                raise ResultsError(f"no dataset: {origin} {path} is not a file; {HOW_TO}")
            return os.path.abspath(path)
    project, fixture = os.path.join(PROJECT_DIR, "data", "names.txt"), os.path.join(build_dir, "dataset", "names.txt")
    for path in (project, fixture):
        if os.path.isfile(path):
            return os.path.realpath(path)
    fetch = os.path.join(build_dir, "microgpt-fetch-data")
    if not os.access(fetch, os.X_OK) or command_output([fetch, "--output", project]) is None:
        raise ResultsError(f"no dataset: none at data/names.txt or {fixture}, and the download failed; {HOW_TO}")
    return project


def check(path, allow_other):
    """(sha256, whether it is the reference's); a ResultsError for another
    dataset unless allow_other: such a run is marked and never published."""
    actual, expected = sha256(path), reference_sha256()
    if actual != expected and not allow_other:
        raise ResultsError(f"{path} is not the reference's names.txt (sha256 {actual[:12]}…, expected {expected[:12]}…); "
                           f"{HOW_TO}, or ALLOW_OTHER_DATA=1 (--allow-other-dataset) to time it anyway, unpublished")
    return actual, actual == expected
