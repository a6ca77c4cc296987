"""The `pycompose` console command: the fast paths (no-op `up -d`, `config -q`), else the full CLI."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import NoReturn


def main() -> None:
    # A fast path is short and its objects (model classes, schemas) live to the end: the
    # cyclic collector would only walk them again and again (~15 ms), and once more at exit.
    gc.disable()
    from composer import fastpath

    args = fastpath.parse(sys.argv[1:])
    if args is not None:
        try:
            done = fastpath.noop_up(args, os.environ, Path.cwd())
        except Exception:  # noqa: BLE001 - any doubt: the full CLI does it all and reports errors
            done = False
        if done:
            _exit_done()
    config = fastpath.parse_config(sys.argv[1:])
    if config is not None:
        try:
            fastpath.quiet_config(config, os.environ, Path.cwd())
        except Exception:  # noqa: BLE001 - the full CLI loads again and reports the problem
            pass
        else:
            _exit_done()
    gc.enable()
    from composer.cli import main as full

    full()


def _exit_done() -> NoReturn:
    """Exit 0 without a last collection: frozen objects are not walked at shutdown (~70 ms
    with the models loaded on a 2-core VM); the process is ending, the OS takes the memory."""
    gc.freeze()
    sys.exit(0)
