"""The container's root filesystem, built inside its private mount namespace.

Runs in PID 1 (already in the new pid and mount namespaces), in runc's order:

1. Make every mount rslave: without it, mounts made below could propagate back to the
   host through shared peer groups, and the overlay would leak onto the host mount table.
2. Mount the overlay (image layers read-only, the container's upper/work dirs) on the
   rootfs mountpoint: everything else is mounted inside it.
3. /proc: a new procfs, which shows the new pid namespace (the mounter's).
4. /dev: a small tmpfs, so the container sees only the devices we create (not the host's
   devtmpfs); then the device nodes, the /dev/fd & std* symlinks, a NEW devpts instance
   (its ptys are not the host's) with /dev/ptmx pointing into it, /dev/shm (unless a
   configured mount replaces it) and the configured devices (devices.py).
5. /sys: sysfs read-only (a container must not write kernel tunables).
6. The configured mounts (binds, tmpfs...), sorted parents first. They come after the
   system mounts, as in runc where the spec lists the defaults first, so that a user
   mount under /dev or /sys wins instead of being hidden by them.
7. pivot_root into the rootfs, then detach the old root: the container cannot reach host
   files through it. pivot_root(".", ".") stacks the old root under the new one, so no
   directory has to be created in (and left behind in) the container's upper layer.
8. Read-only root, when asked: remount / ro last, once nothing needs to write into it.
9. Read-only and masked paths (`restrict_paths`, called by init after the steps above, as
   runc does them after pivot_root and the ro root): /proc/sys & co. bind-remounted
   read-only, /proc/kcore & co. hidden under /dev/null (files) or an empty read-only
   tmpfs (directories). A privileged container skips this, keeps /sys writable and gets
   the host's device nodes in /dev (`add_host_devices`, step 4).
"""

from __future__ import annotations

import errno
import os
import stat

from runtime.devices import make_devices
from runtime.errors import RootfsError
from runtime.syscalls import (
    MNT_DETACH,
    MS_BIND,
    MS_NOATIME,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SLAVE,
)

TYPE_CHECKING = False  # runs in PID 1 under the lean monitor: type-only imports stay out
if TYPE_CHECKING:
    from collections.abc import Sequence

    from runtime.config import Device, Mount
    from runtime.configview import DeviceView, MountView
    from runtime.syscalls import Syscalls

DEV_SIZE = "65536k"
SHM_SIZE = "65536k"  # 64 MB, Docker's default shm size
DEVICES = (  # name, major, minor; all char devices with mode 0666
    ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx"),
)
_FLAGS = {  # option → (flag, set it?)
    "ro": (MS_RDONLY, True), "rw": (MS_RDONLY, False),
    "nosuid": (MS_NOSUID, True), "suid": (MS_NOSUID, False),
    "nodev": (MS_NODEV, True), "dev": (MS_NODEV, False),
    "noexec": (MS_NOEXEC, True), "exec": (MS_NOEXEC, False),
    "noatime": (MS_NOATIME, True),
    "bind": (MS_BIND, True), "rbind": (MS_BIND | MS_REC, True),
}
_PROPAGATION = {
    "private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC, "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC,
}


def overlay_options(layers: Sequence[str], upper: str, work: str) -> str:
    """The overlayfs mount data; `layers` top first, as lowerdir wants them."""
    if not layers:
        raise RootfsError("the container has no image layers: an overlay needs at least one lower layer")
    for path in (*layers, upper, work):
        if any(c in path for c in ",:\\"):
            raise RootfsError(f"path {path!r} contains ',', ':' or '\\', which overlayfs options cannot express")
    data = f"lowerdir={':'.join(layers)},upperdir={upper},workdir={work}"
    if len(data) >= 4096:
        raise RootfsError(f"too many image layers ({len(layers)}): the overlay options exceed one page")
    return data


def parse_options(options: Sequence[str]) -> tuple[int, int, list[str]]:
    """(mount flags, propagation flags, remaining data options like size=64m)."""
    flags = propagation = 0
    data = []
    for opt in options:
        if opt in _FLAGS:
            bit, on = _FLAGS[opt]
            flags = flags | bit if on else flags & ~bit
        elif opt in _PROPAGATION:
            propagation = _PROPAGATION[opt]
        else:
            data.append(opt)
    return flags, propagation, data


def secure_join(root: str, path: str) -> str:
    """`root`/`path` with symlinks resolved as if `root` were /, so an image symlink
    (e.g. /data -> /etc on the host) can never send a mount outside the rootfs."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except FileNotFoundError:
            is_link = False
        if not is_link:
            resolved.append(part)
            continue
        hops += 1
        if hops > 40:
            raise RootfsError(f"too many levels of symbolic links in {path!r} inside the container")
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return os.path.join(root, *resolved)


def make_private(sc: Syscalls) -> None:
    sc.mount(None, "/", None, MS_REC | MS_SLAVE)


def mount_overlay(sc: Syscalls, rootfs: str, layers: Sequence[str], upper: str, work: str) -> None:
    sc.mount("overlay", rootfs, "overlay", 0, overlay_options(layers, upper, work))


def mount_proc(sc: Syscalls, rootfs: str) -> None:
    target = secure_join(rootfs, "/proc")
    sc.makedirs(target)
    sc.mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def mount_dev(sc: Syscalls, rootfs: str, shm: bool = True) -> None:
    dev = secure_join(rootfs, "/dev")
    sc.makedirs(dev)
    sc.mount("tmpfs", dev, "tmpfs", MS_NOSUID, f"mode=755,size={DEV_SIZE}")
    for name, major, minor in DEVICES:
        sc.mknod(f"{dev}/{name}", stat.S_IFCHR | 0o666, major, minor)
    sc.makedirs(f"{dev}/pts")
    sc.mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
    for target, name in DEV_SYMLINKS:
        sc.symlink(target, f"{dev}/{name}")
    sc.makedirs(f"{dev}/shm")
    if shm:  # else a configured mount (e.g. sized by `shm_size`) takes its place
        sc.mount("shm", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"mode=1777,size={SHM_SIZE}")


def mount_sys(sc: Syscalls, rootfs: str, readonly: bool = True) -> None:
    target = secure_join(rootfs, "/sys")
    sc.makedirs(target)
    sc.mount("sysfs", target, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (MS_RDONLY if readonly else 0))


def mount_user(sc: Syscalls, rootfs: str, m: Mount | MountView) -> None:
    """One configured mount: a bind (file or dir; "ro" by a bind remount) or a filesystem."""
    if not m.destination.startswith("/"):
        raise RootfsError(f"mount destination {m.destination!r} must be an absolute path")
    flags, propagation, data = parse_options(m.options)
    target = secure_join(rootfs, m.destination)
    is_bind = m.type == "bind" or bool(flags & MS_BIND)
    if is_bind:
        if data:
            raise RootfsError(f"unsupported option(s) {', '.join(data)} for the bind mount on {m.destination}")
        if not os.path.exists(m.source):
            raise RootfsError(f"bind mount source {m.source!r} for {m.destination} does not exist")
        if os.path.isdir(m.source):
            sc.makedirs(target)
        else:
            sc.makedirs(os.path.dirname(target))
            if not os.path.exists(target):
                sc.touch(target)
        sc.mount(m.source, target, None, MS_BIND | (flags & MS_REC))
        extra = flags & ~(MS_BIND | MS_REC)
        if extra:  # the flags of a bind mount only change with a remount
            sc.mount(None, target, None, MS_BIND | MS_REMOUNT | extra)
    else:
        sc.makedirs(target)
        sc.mount(m.source or m.type, target, m.type, flags, ",".join(data) or None)
    if propagation:
        sc.mount(None, target, None, propagation)


def pivot(sc: Syscalls, rootfs: str) -> None:
    old = sc.open_dir("/")
    new = sc.open_dir(rootfs)
    sc.fchdir(new)
    sc.pivot_root(".", ".")
    sc.fchdir(old)  # now the old root, stacked under the new one
    sc.mount(None, ".", None, MS_SLAVE | MS_REC)  # so the unmount cannot propagate anywhere
    sc.umount2(".", MNT_DETACH)
    sc.chdir("/")
    sc.close(old)
    sc.close(new)


def setup_rootfs(
    sc: Syscalls, rootfs: str, layers: Sequence[str], upper: str, work: str,
    mounts: Sequence[Mount | MountView] = (), readonly: bool = False, privileged: bool = False,
    devices: Sequence[Device | DeviceView] = (), cwd: str = "/",
) -> None:
    """Steps 1-8 of the module docstring. Raises RootfsError (or OSError naming the path)."""
    make_private(sc)
    mount_overlay(sc, rootfs, layers, upper, work)
    mount_proc(sc, rootfs)
    mount_dev(sc, rootfs, shm=not any(os.path.normpath(m.destination) == "/dev/shm" for m in mounts))
    make_devices(sc, rootfs, devices)  # the configured device nodes, next to the standard ones
    if privileged:
        add_host_devices(sc, rootfs)
    mount_sys(sc, rootfs, readonly=not privileged)
    for m in sorted(mounts, key=lambda m: len([p for p in m.destination.split("/") if p])):
        mount_user(sc, rootfs, m)
    sc.makedirs(secure_join(rootfs, cwd))  # as runc: the working directory exists even on a read-only root
    pivot(sc, rootfs)
    if readonly:
        sc.mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY)


# --- privileged devices; read-only and masked paths ------------------------------------------

# Never copied from the host's /dev (runc libcontainer/devices.HostDevices skips these).
_HOST_DEV_SKIP = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev", "console"})


def host_devices(dev: str = "/dev") -> list[tuple[str, int, int]]:
    """(path relative to /dev, st_mode, st_rdev) of the host's char and block devices."""
    found = []
    for directory, dirs, files in os.walk(dev):
        relative_dir = os.path.relpath(directory, dev)
        if relative_dir == ".":
            dirs[:] = [d for d in dirs if d not in _HOST_DEV_SKIP]
        for name in files:
            relative = os.path.normpath(os.path.join(relative_dir, name))
            if relative in _HOST_DEV_SKIP:
                continue
            try:
                st = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append((relative, st.st_mode, st.st_rdev))
    return found


def add_host_devices(sc: Syscalls, rootfs: str) -> None:
    """Docker's privileged mode: every host device node in the container's /dev (still the
    host's /dev here, before pivot_root). Nodes /dev already has are kept."""
    dev = secure_join(rootfs, "/dev")
    for relative, mode, rdev in host_devices():
        target = os.path.join(dev, relative)
        if os.path.lexists(target):
            continue
        sc.makedirs(os.path.dirname(target))
        sc.mknod(target, mode, os.major(rdev), os.minor(rdev))


def restrict_paths(sc: Syscalls, masked: Sequence[str], readonly: Sequence[str]) -> None:
    """Step 9, after pivot_root, in runc's order: read-only paths, then masked paths.

    Like runc's readonlyPath/maskPath: a path the kernel does not have is skipped; the ro
    remount keeps the mount's nosuid/nodev/noexec (a remount must not clear them); /dev/null
    bound on a directory fails with ENOTDIR, which means "mask it with a read-only tmpfs".
    """
    for path in readonly:
        try:
            sc.mount(path, path, None, MS_BIND | MS_REC)
        except FileNotFoundError:
            continue
        sc.mount(path, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _locked_flags(path))
    for path in masked:
        try:
            sc.mount("/dev/null", path, None, MS_BIND)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno != errno.ENOTDIR:
                raise
            sc.mount("tmpfs", path, "tmpfs", MS_RDONLY)


def _locked_flags(path: str) -> int:
    try:
        flags = os.statvfs(path).f_flag
    except OSError:
        return 0
    return flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)  # ST_NOSUID... have the MS_ values
