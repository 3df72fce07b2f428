"""The bench tool behind scripts/bench (see cli.py)."""
