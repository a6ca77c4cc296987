"""Namespaced sysctls: validated as runc does, written by PID 1 in its own namespaces.

Only kernel parameters that belong to a namespace the container has its own copy of are
allowed (runc's libcontainer/configs/validate: sysctl): net.* needs a network namespace,
the System V IPC and POSIX message-queue ones an ipc namespace, kernel.domainname a uts
namespace; kernel.hostname is refused because the hostname has its own setting.

PID 1 writes them through /proc/sys before its root filesystem is set up: writes there
act on the writer's namespaces (the container's, already entered), and later steps may
make /proc/sys read-only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

IPC_SYSCTLS = frozenset({
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
})


def sysctl_problem(key: str, namespaces: Iterable[str]) -> str | None:
    """Why `key` cannot be set in a container with these (new or joined) namespaces."""
    parts = key.split(".")
    if len(parts) < 2 or any(p in ("", "..") or "/" in p for p in parts):
        return f"invalid sysctl name {key!r}"
    have = set(namespaces)
    if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
        if "ipc" in have:
            return None
        return f"sysctl {key!r} not allowed in the host's ipc namespace"
    if key.startswith("net."):
        return None if "network" in have else f"sysctl {key!r} not allowed in the host's network namespace"
    if "uts" in have:
        if key == "kernel.domainname":
            return None
        if key == "kernel.hostname":
            return f"sysctl {key!r} is not allowed as it conflicts with the hostname setting"
    return f"sysctl {key!r} is not in a separate kernel namespace"


def proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def write_sysctls(sysctls: Mapping[str, str]) -> None:
    for key, value in sysctls.items():
        try:
            with open(proc_path(key), "w") as f:
                f.write(value)
        except OSError as e:
            raise OSError(e.errno, f"{key}={value}: {e.strerror or e}") from e
