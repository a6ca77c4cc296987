"""`top`: the processes of each service container, as `docker compose top` shows them.

Like Docker, the table is the host's `ps -f` (procps) for the container's pids: host
pids and user names, because that is what an operator looks for on the host.
"""

from __future__ import annotations

import subprocess

from composer.engine import Engine
from composer.errors import PycomposeError
from composer.observe import project_containers


def process_table(pids: list[int]) -> str:
    """`ps -f` for `pids` (header and one row each)."""
    try:
        result = subprocess.run(["ps", "-f", "-p", ",".join(map(str, pids))],
                                capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PycomposeError("top needs the `ps` command (Debian package procps)") from None
    # ps exits 1 when some pid vanished meanwhile; the rows it printed still hold.
    return result.stdout.rstrip("\n")


def top(engine: Engine, project: str, services: list[str]) -> str:
    """One block per running container: its name, then its process table."""
    blocks = []
    for state in project_containers(engine, project, services):
        if state.status != "running":
            continue
        pids = engine.containers.processes(state.id)
        if pids:
            blocks.append(f"{state.name}\n{process_table(pids)}\n")
    return "\n".join(blocks)
