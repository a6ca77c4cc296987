"""Process rlimits (compose `ulimits`): checked when a container is created, set by PID 1.

Root here may lack CAP_SYS_RESOURCE (see /work/shared/peers/README.md): then a hard limit
can be lowered but never raised above the one the container inherits. That is refused at
create, naming the limit, rather than failing inside the container at start.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # PID 1 runs under the lean monitor: type-only imports
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from runtime.config import Rlimit

CAP_SYS_RESOURCE = 24
# Linux's RLIMIT_* numbers (asm-generic/resource.h; the same on x86_64 and arm64).
RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
INFINITY = -1  # as in the config; the kernel's RLIM_INFINITY is all ones


def rlimit_type(name: str) -> str:
    """Docker's `nofile` → OCI's `RLIMIT_NOFILE`."""
    return f"RLIMIT_{name.upper()}"


def short_name(rlimit_type: str) -> str:
    return rlimit_type.removeprefix("RLIMIT_").lower()


def _above(a: int, b: int) -> bool:
    """a > b where -1 (or the kernel's RLIM_INFINITY) is unlimited."""
    if b < 0 or b >= (1 << 63) - 1:
        return False
    return a < 0 or a > b


def has_cap_sys_resource(status: str) -> bool:
    """From /proc/self/status: is CAP_SYS_RESOURCE in the effective set?"""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    return False


def check_rlimits(rlimits: Iterable[Rlimit], current: Callable[[int], tuple[int, int]], can_raise: bool) -> list[str]:
    """Problems with `rlimits` ("ulimits.nofile: ..."), given the limits the container inherits."""
    problems = []
    for r in rlimits:
        name = short_name(r.type)
        number = RLIMITS.get(r.type)
        if number is None:
            problems.append(f"ulimits.{name}: unknown limit {r.type}")
            continue
        if _above(r.soft, r.hard):
            problems.append(f"ulimits.{name}: the soft limit {r.soft} is above the hard limit {r.hard}")
            continue
        hard_now = current(number)[1]
        if not can_raise and _above(r.hard, hard_now):
            wanted = "unlimited" if r.hard < 0 else str(r.hard)
            problems.append(f"ulimits.{name}: cannot raise the hard limit to {wanted} above the current {hard_now} "
                            "(that needs CAP_SYS_RESOURCE, which this host's root lacks)")
    return problems


def current_problems(rlimits: Iterable[Rlimit]) -> list[str]:
    """`check_rlimits` against this process's limits (a container's monitor inherits them)."""
    import resource

    try:
        with open("/proc/self/status") as f:
            can_raise = has_cap_sys_resource(f.read())
    except OSError:
        can_raise = False
    return check_rlimits(rlimits, resource.getrlimit, can_raise)


RLIM_INFINITY = (1 << 64) - 1


def setrlimit(number: int, soft: int, hard: int) -> None:
    """prlimit(2) on this process through ctypes: the lean monitor cannot import `resource`
    (a lib-dynload extension, off its path). -1 is unlimited."""
    import ctypes

    from runtime.syscalls import _check, _lib

    limits = (ctypes.c_uint64 * 2)(*(RLIM_INFINITY if v < 0 else v for v in (soft, hard)))
    _check(_lib().prlimit(0, ctypes.c_int(number), limits, None), "prlimit")


def apply_rlimits(rlimits: Iterable[tuple[str, int, int]]) -> None:
    """In PID 1, before it drops to the user: (type, soft, hard) each; -1 is unlimited."""
    for kind, soft, hard in rlimits:
        try:
            setrlimit(RLIMITS[kind], soft, hard)
        except OSError as e:
            raise OSError(e.errno, f"{short_name(kind)}={soft}:{hard}: {os.strerror(e.errno or 1)}") from e
