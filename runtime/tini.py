"""`init: true`: tini as the container's PID 1, as `docker run --init` does.

Docker bind-mounts its static tini (docker-init) read-only at /sbin/docker-init and runs
`/sbin/docker-init -- <command>`: tini reaps zombies and forwards signals to the command.
We use Debian's static tini (package `tini`), which runs in any image, with or without a
libc; the dynamically linked /usr/bin/tini would not.
"""

from __future__ import annotations

import os

from runtime.errors import ContainerError

INIT_PATH = "/sbin/docker-init"  # where the binary appears in the container, as in Docker
CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/docker-init")


def find_init() -> str:
    """The host's static tini, or a ContainerError saying how to get it."""
    for path in CANDIDATES:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ContainerError("`init: true` needs a static tini on the host: install the Debian package `tini` "
                         f"(looked for {', '.join(CANDIDATES)})")


def init_mount(host_path: str) -> dict[str, object]:
    """The mount (config.json shape) that puts tini in the container, read-only."""
    return {"destination": INIT_PATH, "type": "bind", "source": host_path, "options": ["bind", "ro"]}


def init_args(args: tuple[str, ...]) -> tuple[str, ...]:
    return (INIT_PATH, "--", *args)
