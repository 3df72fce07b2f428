"""A row's gradient-check verdict, from the harness's counters.

The harness checks every variant before timing it and writes the verdict
into every benchmark entry of that variant: the counter gradient_status
(engine/gradient_check.h: 0 bit-exact, 1 within the declared tolerance,
2 wrong) and expected_wrong (1 for a declared negative control); the label
is the same verdict as text for people ("within tol 1.8e-07"). The scripts
decide with the counters and show the label.
"""
EXACT = "exact"
TOLERANT = "tolerant"
WRONG = "wrong"
NEGATIVE_CONTROL = "negative control"  # wrong on purpose (VARIANT_EXPECTED_WRONG)
FAILED = "failed"  # the process crashed, hung or wrote nothing usable
UNCHECKED = "unchecked"  # an entry without the verdict counters
NOT_MEASURED = "not measured"  # a baseline that cannot run here (PyTorch missing): no row, no failure

# The exit status of a baseline program that cannot run on this machine
# (scripts/microgpt_torch.py without torch), as opposed to one that failed.
NOT_MEASURED_EXIT = 3

_BY_GRADIENT_STATUS = {0: EXACT, 1: TOLERANT, 2: WRONG}


def verdict(entry):
    """EXACT, TOLERANT, WRONG, NEGATIVE_CONTROL or UNCHECKED for one harness
    benchmark entry."""
    status = entry.get("gradient_status")
    if status is None or int(status) not in _BY_GRADIENT_STATUS:
        return UNCHECKED
    check = _BY_GRADIENT_STATUS[int(status)]
    if check == WRONG and entry.get("expected_wrong"):
        return NEGATIVE_CONTROL
    return check


def is_wrong(check):
    """Trains a different model: its time is shown but is not a result."""
    return check in (WRONG, NEGATIVE_CONTROL)


def is_result(check):
    """Timed and checked: its times and ratios are results."""
    return check in (EXACT, TOLERANT)


def is_failure(check):
    """Verdicts that make `make bench` and `make sweep` exit non-zero."""
    return check in (WRONG, FAILED, UNCHECKED)


def has_measurement(check):
    """Whether the row has times and losses: not for a process that failed,
    nor for a baseline that cannot run here."""
    return check not in (FAILED, NOT_MEASURED)


def status_text(entry):
    """The label the harness wrote, or a text for an unchecked entry."""
    return entry.get("label", "") or UNCHECKED
