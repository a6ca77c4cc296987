"""The service's process settings → pieces of the runtime's ContainerConfig (pure).

`read_only`, `tmpfs`, `shm_size`, `group_add`, `ulimits`, `sysctls`, `init` and
`devices`, with Docker's defaults: tmpfs mounts are noexec, nosuid, nodev unless the
options say otherwise (moby's TmpfsMounts), /dev/shm is a 64 MB tmpfs.
"""

from __future__ import annotations

from typing import Any

from composer.models import Service, ServiceVolume
from runtime.config import Device, Mount, Rlimit

SHM_DEFAULT = 64 * 1024 * 1024  # Docker's default shm_size
TMPFS_DEFAULTS = ("noexec", "nosuid", "nodev")  # earlier options lose to the user's


def process_settings(service: Service) -> dict[str, Any]:
    """Keyword arguments for runtime.config.Process."""
    return {
        "rlimits": tuple(Rlimit(f"RLIMIT_{name.upper()}", u.soft, u.hard) for name, u in sorted(service.ulimits.items())),
        "group_add": service.group_add,
        "terminal": service.tty,  # Docker logs a TTY's output as one stream (stdout)
    }


def container_settings(service: Service) -> dict[str, Any]:
    """Keyword arguments for runtime.config.ContainerConfig."""
    return {
        "sysctls": dict(service.sysctls),
        "devices": tuple(Device(d.source, d.target or d.source, d.permissions) for d in service.devices),
        "init": bool(service.init),
    }


def tmpfs_volume_options(volume: ServiceVolume) -> tuple[str, ...]:
    """`tmpfs: {size, mode}` of a tmpfs volume as mount options (moby's ConvertTmpfsOptions)."""
    if volume.tmpfs is None:
        return ()
    size = () if volume.tmpfs.size is None else (f"size={volume.tmpfs.size}",)
    mode = () if volume.tmpfs.mode is None else (f"mode={volume.tmpfs.mode:o}",)
    return (*size, *mode)


def settings_mounts(service: Service) -> tuple[Mount, ...]:
    """/dev/shm sized by `shm_size`, then the `tmpfs:` mounts."""
    size = service.shm_size if service.shm_size is not None else SHM_DEFAULT
    shm = Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", f"size={size}"))
    return (shm, *(Mount(t.target, "tmpfs", "tmpfs", (*TMPFS_DEFAULTS, *t.options)) for t in service.tmpfs))
