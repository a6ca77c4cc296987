"""The `pycompose` console command: the fast paths (no-op `up -d`, `config -q`), else the full CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    from composer import fastpath

    args = fastpath.parse(sys.argv[1:])
    if args is not None:
        try:
            done = fastpath.noop_up(args, os.environ, Path.cwd())
        except Exception:  # noqa: BLE001 - any doubt: the full CLI does it all and reports errors
            done = False
        if done:
            sys.exit(0)
    config = fastpath.parse_config(sys.argv[1:])
    if config is not None:
        try:
            fastpath.quiet_config(config, os.environ, Path.cwd())
        except Exception:  # noqa: BLE001 - the full CLI loads again and reports the problem
            pass
        else:
            sys.exit(0)
    from composer.cli import main as full

    full()
