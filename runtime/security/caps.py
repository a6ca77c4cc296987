"""Linux capabilities: Docker's default set, cap_add/cap_drop, and applying a set to a process.

The default set and the add/drop rules follow moby: `oci/caps/defaults.go`
(DefaultCapabilities) and `oci/caps/utils.go` (NormalizeLegacyCapabilities,
TweakCapabilities). Docker puts the one resulting list in the bounding, effective and
permitted sets and leaves inheritable and ambient empty (moby `oci.SetCapabilities`;
inheritable has been empty since CVE-2022-24769). runc then applies it in
`finalizeNamespace`: bounding set first, keep-caps across setuid, then capset.

The pure part (names, `tweak`) is used by composer to validate and resolve a service's
settings; the applying part runs in PID 1 and in exec'd processes, under the lean
monitor's import budget (ctypes and os only).
"""

from __future__ import annotations

import ctypes
import os

# Numbers from linux/capability.h; the order is the kernel's.
CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
CAP_NUMBERS = {name: number for number, name in enumerate(CAPABILITIES)}

# moby oci/caps/defaults.go, DefaultCapabilities(), in its order.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)
ALL = "ALL"

_PR_CAPBSET_DROP = 24
_PR_SET_KEEPCAPS = 8
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAPABILITY_VERSION_3 = 0x20080522


class UnknownCapability(ValueError):
    """A cap_add/cap_drop entry that names no capability (Docker's message)."""


def normalize(names: tuple[str, ...] | list[str]) -> list[str]:
    """Upper-case, add the CAP_ prefix, keep "ALL"; unknown names raise (NormalizeLegacyCapabilities)."""
    out = []
    for raw in names:
        name = raw.upper()
        if name != ALL:
            name = name if name.startswith("CAP_") else "CAP_" + name
            if name not in CAP_NUMBERS:
                raise UnknownCapability(f'unknown capability: "{name}"')
        out.append(name)
    return out


def tweak(add: tuple[str, ...] | list[str], drop: tuple[str, ...] | list[str], privileged: bool = False,
          basics: tuple[str, ...] = DEFAULT_CAPABILITIES) -> tuple[str, ...]:
    """The container's capability list, as moby's TweakCapabilities computes it.

    privileged: every capability. `cap_add: [ALL]`: every one not dropped. `cap_drop: [ALL]`:
    only what cap_add lists. Otherwise the defaults minus cap_drop, plus cap_add.
    """
    if privileged:
        return CAPABILITIES
    if not add and not drop:
        return basics
    dropped, added = normalize(drop), normalize(add)
    if ALL in added:
        caps = [c for c in CAPABILITIES if c not in dropped]
    elif ALL in dropped:
        caps = added
    else:
        caps = [c for c in basics if c not in dropped] + added
    return tuple(dict.fromkeys(caps))


def mask(names: tuple[str, ...] | list[str]) -> int:
    """The capability bit set of `names` (names the kernel table lacks are ignored, as runc warns and skips)."""
    bits = 0
    for name in names:
        number = CAP_NUMBERS.get(name)
        if number is not None:
            bits |= 1 << number
    return bits


# --- applying a set (PID 1 and exec'd processes) --------------------------------------------


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(libc: ctypes.CDLL, option: int, arg: int = 0, arg3: int = 0) -> None:
    if libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0)) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def current_bounding() -> int:
    """The calling process's bounding set (from /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return 0


def drop_bounding(keep: int) -> None:
    """Step 1 of runc's order: drop every capability not in `keep` from the bounding set
    (needs CAP_SETPCAP, so before the user change), so nothing dropped comes back at exec."""
    libc = _libc()
    have = current_bounding()
    for number in range(have.bit_length()):
        if have >> number & 1 and not keep >> number & 1:
            _prctl(libc, _PR_CAPBSET_DROP, number)


def set_keepcaps(on: bool) -> None:
    """Keep the permitted set across setuid to a non-root user (runc's SetKeepCaps/ClearKeepCaps)."""
    _prctl(_libc(), _PR_SET_KEEPCAPS, int(on))


def set_capabilities(effective: int, permitted: int, inheritable: int = 0) -> None:
    """capset(2) for this process; ambient cleared (Docker sets none)."""
    libc = _libc()
    header = _Header(_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)(
        _Data(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF),
        _Data(effective >> 32, permitted >> 32, inheritable >> 32),
    )
    if libc.capset(ctypes.byref(header), data) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")
    _prctl(libc, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
