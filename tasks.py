"""Invoke entry point. Thin by design: each area's tasks live in `shared/cli/<area>.py` (argument parsing and
printing), their logic elsewhere in `shared/`. `invoke --list` shows them all."""

from shared.cli import collect

ns = collect()
