"""The devices cgroup: which device nodes a container may open or create.

CAP_MKNOD is one of Docker's default capabilities, so a container can create any device
node; what stops it from opening the host's disks is the devices cgroup, deny-all plus
this allow list. The list is runc's AllowedDevices (libcontainer/specconv/spec_linux.go),
which Docker's default spec (moby oci/defaults.go, linux.resources.devices) extends: any
node may be created (m), and only the pseudo-devices and ttys may be read or written.
A privileged container gets ALLOW_ALL; a service's `devices` add one rule each.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from runtime.config import Device

DEFAULT_DEVICE_RULES = (
    "c *:* m", "b *:* m",  # mknod of anything: using it is what the rules below decide
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",  # tty console ptmx
    "c 136:* rwm",  # the pts of the container's devpts
    "c 10:200 rwm",  # tun
)
ALLOW_ALL = ("a *:* rwm",)


def rules_for(devices: Iterable[Device]) -> tuple[str, ...]:
    """One allow rule per configured device, from its host node and its permissions (as
    dockerd's WithDevices). A node that cannot be read is left out: the device setup at
    start reports it in Docker's words."""
    rules = []
    for device in devices:
        try:
            st = os.stat(device.source)
        except OSError:
            continue
        kind = "c" if stat.S_ISCHR(st.st_mode) else "b" if stat.S_ISBLK(st.st_mode) else None
        if kind is not None:
            rules.append(f"{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)} {device.permissions}")
    return tuple(rules)
