"""The `pycompose` commands, grouped by what they do; composer/cli.py registers them.

No `from __future__ import annotations` in these modules: typer reads every command's
signature at each start, and string annotations make it eval them all (~25 ms per
command). Heavy imports stay inside the command functions, so `--help` stays fast.
"""
