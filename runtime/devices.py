"""Host devices recreated in the container (compose `devices`, OCI linux.devices).

Each device is a node made with mknod(2) from the host node's type, major/minor, mode
and owner, read when the container starts (as runc does for linux.devices), so the
container sees the device under the path it asked for.

The `permissions` (r, w, m) are enforced by the devices cgroup: the container's allow
list gets one rule per device (runtime/security/devices.py, `rules_for`).
"""

from __future__ import annotations

import os
import stat

from runtime.errors import ContainerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from runtime.config import Device
    from runtime.configview import DeviceView
    from runtime.syscalls import Syscalls


def host_node(source: str) -> os.stat_result:
    """The host device node at `source`, or a ContainerError in Docker's words."""
    try:
        st = os.stat(source)
    except OSError as e:
        raise ContainerError(f'error gathering device information while adding custom device "{source}": '
                             f"{(e.strerror or str(e)).lower()}") from e
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise ContainerError(f'error gathering device information while adding custom device "{source}": '
                             "not a device node")
    return st


def check_devices(devices: Iterable[Device]) -> None:
    """At create: every source is a host device node, every path absolute, permissions rwm letters."""
    for d in devices:
        host_node(d.source)
        if not d.path.startswith("/") or ".." in d.path.split("/"):
            raise ContainerError(f"device path {d.path!r} in the container must be absolute, without ..")
        if not d.permissions or not set(d.permissions) <= set("rwm"):
            raise ContainerError(f"invalid device permissions {d.permissions!r} for {d.source}: use r, w and m")


def make_devices(sc: Syscalls, rootfs: str, devices: Iterable[Device | DeviceView]) -> None:
    """Before pivot_root, after /dev is mounted: one node per device, as on the host."""
    from runtime.rootfs import secure_join

    for d in devices:
        st = host_node(d.source)
        target = secure_join(rootfs, d.path)
        sc.makedirs(os.path.dirname(target))
        kind = stat.S_IFCHR if stat.S_ISCHR(st.st_mode) else stat.S_IFBLK
        try:
            sc.mknod(target, kind | stat.S_IMODE(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev))
        except FileExistsError:
            continue  # made by an earlier run (outside /dev, nodes live in the writable layer), as runc
        if st.st_uid or st.st_gid:
            sc.chown(target, st.st_uid, st.st_gid)
