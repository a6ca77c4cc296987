"""Choose the cgroup driver once, from what is mounted at the cgroup root."""

from __future__ import annotations

from pathlib import Path

from runtime.cgroups.base import CgroupDriver, CgroupFS
from runtime.cgroups.v1 import V1Driver
from runtime.cgroups.v2 import V2Driver
from runtime.errors import CgroupError

MOUNTINFO = Path("/proc/self/mountinfo")
# cgroup v1 super options that are mount flags, not controllers.
NOT_CONTROLLERS = frozenset(
    {"rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods"}
)


def parse_mountinfo(text: str) -> list[tuple[Path, str, list[str]]]:
    """(mount point, fs type, super options) of each line of /proc/<pid>/mountinfo."""
    mounts = []
    for line in text.splitlines():
        pre, sep, post = line.partition(" - ")
        fields, rest = pre.split(), post.split()
        if not sep or len(fields) < 5 or len(rest) < 3:
            continue
        mount_point = _unescape(fields[4])
        mounts.append((Path(mount_point), rest[0], rest[2].split(",")))
    return mounts


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040 ...)."""
    parts = field.split("\\")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:3]
        if len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(code, 8)) + part[3:])
        else:
            out.append("\\" + part)
    return "".join(out)


def v1_mounts(mounts: list[tuple[Path, str, list[str]]], root: Path) -> dict[str, Path]:
    """controller → mount point of every v1 hierarchy under `root`; the first mount wins."""
    found: dict[str, Path] = {}
    for mount_point, fstype, options in mounts:
        if fstype != "cgroup" or root not in mount_point.parents:
            continue
        for option in options:
            if option not in NOT_CONTROLLERS and "=" not in option:  # name=systemd is no controller
                found.setdefault(option, mount_point)
    return found


def detect(
    root: Path = Path("/sys/fs/cgroup"), mountinfo: Path = MOUNTINFO, fs: CgroupFS | None = None
) -> CgroupDriver:
    """v2 when `root` itself is a cgroup2 mount (unified mode); otherwise v1 (hybrid counts as v1)."""
    try:
        mounts = parse_mountinfo(mountinfo.read_text())
    except OSError as e:
        raise CgroupError(f"cannot read {mountinfo} to find the cgroup mounts: {e.strerror}") from e
    if any(point == root and fstype == "cgroup2" for point, fstype, _ in mounts):
        return V2Driver(root, fs)
    controllers = v1_mounts(mounts, root)
    if not controllers:
        raise CgroupError(
            f"no cgroup filesystem is mounted at {root}: neither a cgroup2 mount nor cgroup v1 "
            "controller hierarchies below it"
        )
    return V1Driver(controllers, fs)
