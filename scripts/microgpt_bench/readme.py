"""Generated blocks of a README: the lines between a begin and an end marker
are replaced, nothing else is touched. Checked before a run (markers present
once each, in order; the file writable), so that a README that cannot take
the block fails at once, not after minutes of measurements."""
import collections
import os

from .files import ResultsError, atomic_write, check_writable

Block = collections.namedtuple("Block", "begin end what")
RESULTS_TABLE = Block("<!-- results-table:begin -->", "<!-- results-table:end -->", "the results table")
SWEEP_TABLE = Block("<!-- sweep-table:begin -->", "<!-- sweep-table:end -->", "the sweep table")


def replace_block(text, content, block, name="README"):
    """text with the lines between block's markers replaced by content."""
    begin, end = text.find(block.begin), text.find(block.end)
    if begin < 0 or end < 0:
        raise ResultsError(f"{name}: missing the marker lines {block.begin} and {block.end} around {block.what}")
    if text.count(block.begin) != 1 or text.count(block.end) != 1 or end < begin:
        raise ResultsError(f"{name}: the markers {block.begin} ... {block.end} must appear once each, in that order")
    return text[: begin + len(block.begin)] + "\n" + content + text[end:]


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as error:
        raise ResultsError(f"{path}: cannot read: {error.strerror}") from None


def check_readme(path, block):
    """Fails early if path cannot take the block."""
    replace_block(_read(path), "", block, path)
    check_writable(os.path.dirname(os.path.abspath(path)))


def update_readme(path, block, content):
    text = _read(path)
    updated = replace_block(text, content, block, path)
    if updated != text:
        atomic_write(path, updated)
