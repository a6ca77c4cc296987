"""From the monitor's fork to the container command's execve.

The intermediate child (forked by the single-threaded monitor) runs `enter_and_fork`:
  1. Join the container's cgroup if the container gets a cgroup namespace (it must be
     rooted there). Otherwise PID 1 moves itself in first thing on v1 (step 5: one
     thread's move skips the kernel's global lock, see cgroups/joined.py), and on v2 the
     monitor moves PID 1 in from outside while PID 1 sets up its root filesystem, PID 1
     waiting for that before step 8: that write waits for an RCU grace period, which then
     overlaps with the mounts. Either way the container's command is accounted and
     limited from its first instruction.
  2. setns() into the namespaces given by path (e.g. the netns the network layer made),
     opening every path first, before any setns changes what paths mean.
  3. unshare() the namespaces to create (pid, mount, uts, ipc, net unless joined; cgroup
     after step 1 so the container sees its own cgroup as the root).
  4. fork PID 1 (a new pid namespace only applies to children), report its host pid and
     exit. The monitor is a child subreaper, so PID 1 is reparented to it.

PID 1 runs `container_init`:
  5. Join the cgroup (v1, see step 1). New session; stdin from /dev/null, stdout/stderr to the monitor's log pipes.
  6. Sysctls (sysctls.py: written in the container's namespaces while /proc/sys is still
     writable), the root filesystem (rootfs.py, its own ordered steps, with tini mounted
     for `init: true`), hostname, then pivot_root.
  7. Resolve the user against the container's /etc/passwd and /etc/group (only readable
     after pivot_root); create and enter the working directory while still root.
  8. Set the rlimits (limits.py). Read-only and masked paths (rootfs.restrict_paths; none
     when privileged). Then security/process.py, in runc's order: no_new_privs, capabilities
     around the change to the user (setgroups, setgid, then setuid: afterwards the other two
     are no longer permitted), seccomp last (its program is read before step 6, from the
     host). Inherited fds are closed.
  9. Look the command up in the container's PATH (as the user, so permissions are the
     user's), restore default signal handling Python changed (SIGPIPE...), execve.
     The sync pipe is CLOEXEC: a successful exec closes it, which the monitor reads as
     "started". Any failure is written to it instead, in Docker's words. With `init: true`
     the command runs under tini (`/sbin/docker-init -- args`), as `docker run --init`.
"""

from __future__ import annotations

import os
import stat

from runtime import limits, protocol, rootfs, signals, syscalls, sysctls, tini
from runtime.configview import MountView
from runtime.errors import ContainerError, StartError
from runtime.security import process, seccomp
from runtime.users import entries, group_add_ids

TYPE_CHECKING = False  # this runs in the lean monitor (see monitor.py): type-only imports
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from runtime.config import Process
    from runtime.configview import ConfigView, ProcessView

# What Python changes in the signal state at start-up, restored before exec.
_RESET_SIGNALS = (signals.SIGPIPE, signals.SIGXFSZ, signals.SIGINT, signals.SIGQUIT, signals.SIGTERM,
                  signals.SIGCHLD, signals.SIGUSR1, signals.SIGHUP)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExecError(StartError):
    """The command cannot be executed; `code` is Docker's exit code for it (126 or 127)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class ResolvedUser:
    __slots__ = ("uid", "gid", "groups", "home")

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...], home: str) -> None:
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home

    def __repr__(self) -> str:
        return f"ResolvedUser(uid={self.uid}, gid={self.gid}, groups={self.groups}, home={self.home!r})"


# --- users --------------------------------------------------------------------------


def resolve_user(spec: str, passwd: str, group: str) -> ResolvedUser:
    """Resolve "uid", "uid:gid", "name", "name:group" as runc does.

    A numeric uid need not exist in passwd (gid then defaults to 0). Supplementary groups
    (the groups listing the user as a member) only apply when no group is given.
    """
    user_part, _, group_part = spec.partition(":")
    users = entries(passwd, 7)
    entry = next((u for u in users if u[0] == user_part), None)
    if entry is None and user_part.isdigit():
        entry = next((u for u in users if u[2] == user_part), None)
        uid, gid, home, name = int(user_part), 0, "/", None
    elif entry is None:
        raise ContainerError(f"unable to find user {user_part}: no matching entries in passwd file")
    if entry is not None:
        uid, gid, home, name = int(entry[2]), int(entry[3]), entry[5] or "/", entry[0]
    groups = entries(group, 4)
    supplementary: tuple[int, ...] = ()
    if group_part:
        if group_part.isdigit():
            gid = int(group_part)
        else:
            match = next((g for g in groups if g[0] == group_part), None)
            if match is None:
                raise ContainerError(f"unable to find group {group_part}: no matching entries in group file")
            gid = int(match[2])
    elif name is not None:
        supplementary = tuple(int(g[2]) for g in groups if name in g[3].split(","))
    return ResolvedUser(uid, gid, tuple(dict.fromkeys((gid, *supplementary))), home)


def user_for(process: Process | ProcessView, spec: str | None, passwd: str, group: str) -> ResolvedUser:
    """The user to run as: `spec` ("name:group"...) if given, else the numeric `process.user`."""
    if spec:
        user = resolve_user(spec, passwd, group)
    else:
        by_uid = resolve_user(str(process.user.uid), passwd, group)
        user = ResolvedUser(process.user.uid, process.user.gid, (process.user.gid,), by_uid.home)
    extra = tuple(g for g in process.user.additional_gids if g not in user.groups)
    return ResolvedUser(user.uid, user.gid, user.groups + extra, user.home)


def process_user(process: Process | ProcessView, spec: str | None) -> ResolvedUser:
    """`user_for` against the container's /etc/passwd and /etc/group, plus `group_add`
    (which Docker applies to exec'd processes too, whatever their user)."""
    group = read_text("/etc/group")
    user = user_for(process, spec, read_text("/etc/passwd"), group)
    extra = tuple(g for g in group_add_ids(process.group_add, group) if g not in user.groups)
    return ResolvedUser(user.uid, user.gid, user.groups + extra, user.home)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def drop_privileges(user: ResolvedUser) -> None:
    os.setgroups(list(user.groups))
    os.setgid(user.gid)
    os.setuid(user.uid)


# --- exec ----------------------------------------------------------------------------


def with_home(env: Sequence[str], home: str) -> list[str]:
    """Docker sets HOME from the user's passwd entry when the environment has none."""
    return list(env) if any(e.startswith("HOME=") for e in env) else [*env, f"HOME={home}"]


def env_path(env: Sequence[str]) -> str:
    for entry in reversed(env):
        if entry.startswith("PATH="):
            return entry[5:]
    return DEFAULT_PATH


def find_executable(name: str, path: str) -> str:
    """Like Go's exec.LookPath, with Docker's error messages."""
    if not name:
        raise ExecError('exec: "": executable file not found in $PATH', 127)
    if "/" in name:
        try:
            st = os.stat(name)
        except OSError as e:
            raise ExecError(f'exec: "{name}": stat {name}: {(e.strerror or str(e)).lower()}', 127) from e
        if stat.S_ISDIR(st.st_mode):
            raise ExecError(f'exec: "{name}": is a directory', 126)
        if not os.access(name, os.X_OK):
            raise ExecError(f'exec: "{name}": permission denied', 126)
        return name
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ExecError(f'exec: "{name}": executable file not found in $PATH', 127)


def execve(args: Sequence[str], env: Sequence[str]) -> NoReturn:
    """Restore what Python changed in the signal state, then exec; ExecError on failure."""
    program = find_executable(args[0], env_path(env))
    for sig in _RESET_SIGNALS:
        signals.signal(sig, signals.SIG_DFL)
    signals.pthread_sigmask(signals.SIG_SETMASK, [])
    try:
        os.execve(program, list(args), {k: v for k, _, v in (e.partition("=") for e in env)})
    except PermissionError as e:
        raise ExecError(f'exec: "{args[0]}": permission denied', 126) from e
    except OSError as e:
        code = 127 if isinstance(e, FileNotFoundError) else 126
        raise ExecError(f'exec: "{args[0]}": {(e.strerror or str(e)).lower()}', code) from e


# --- the two children -------------------------------------------------------------------


def namespace_plan(config: ConfigView) -> tuple[list[tuple[str, str]], int]:
    """([(type, path) to join], unshare flags for the rest)."""
    joins: list[tuple[str, str]] = []
    flags = 0
    for ns in config.namespaces:
        if ns.path:
            joins.append((ns.type, ns.path))
        else:
            flags |= syscalls.NAMESPACE_FLAGS[ns.type]
    return joins, flags


def join_cgroup(files: Sequence[str]) -> None:
    """Move the calling process into a cgroup: "0" (itself) into each of `files`."""
    for path in files:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def enter_and_fork(config: ConfigView, join_files: Sequence[str], pid1: ContainerInit) -> int:
    """Steps 1-4 in the intermediate child; returns PID 1's host pid (in the intermediate)."""
    join_cgroup(join_files)
    joins, flags = namespace_plan(config)
    fds = []
    for ns_type, path in joins:
        fds.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), ns_type, path))
    for fd, ns_type, path in fds:
        syscalls.setns(fd, syscalls.NAMESPACE_FLAGS[ns_type], path)
        os.close(fd)
    syscalls.unshare(flags)
    pid = os.fork()
    if pid == 0:
        pid1.run()  # never returns
    return pid


class ContainerInit:
    """Steps 5-9, run by PID 1. Never returns: execs, or reports the failure and exits."""

    def __init__(self, config: ConfigView, rootfs: str, upper: str, work: str,
                 stdout_fd: int, stderr_fd: int, sync_fd: int, joined_fd: int = -1,
                 join_files: Sequence[str] = (), console_fd: int = -1) -> None:
        self.config = config
        self.console_fd = console_fd  # >= 0: open the pty here and send its master (console.py)
        self.joined_fd = joined_fd  # >= 0: wait here for the monitor to move us into the cgroup
        self.join_files = join_files  # else, if any: write "0" into them (move ourselves in)
        self.rootfs = rootfs
        self.upper = upper
        self.work = work
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.sync_fd = sync_fd
        # Compiled at create time into the container's data dir (upper's parent).
        self.seccomp_path = os.path.join(os.path.dirname(upper), seccomp.BPF_FILE)

    def run(self) -> NoReturn:
        step = "joining the container's cgroup"
        try:
            join_cgroup(self.join_files)
            step = "preparing the container process"
            os.setsid()
            # stdin stays the monitor's: /dev/null, or what `start(stdin=)` handed it (`run`).
            os.dup2(self.stdout_fd, 1)
            os.dup2(self.stderr_fd, 2)
            for fd in {self.stdout_fd, self.stderr_fd} - {0, 1, 2}:
                os.close(fd)
            os.umask(0o022)
            c = self.config
            step = "preparing the seccomp filter"
            confinement = process.prepare(c.security, self.seccomp_path)
            # Sysctls first: they must be written before any later step makes /proc/sys
            # read-only (the masked and read-only paths come after pivot_root).
            step = "setting sysctls"
            sysctls.write_sysctls(c.sysctls)
            step = "setting up the root filesystem"
            rootfs.setup_rootfs(syscalls.LinuxSyscalls(), self.rootfs, c.root.layers, self.upper, self.work,
                                self._mounts(), c.root.readonly, privileged=c.security.privileged,
                                devices=c.devices, cwd=c.process.cwd)
            if any(ns.type == "uts" for ns in c.namespaces):
                step = "setting the hostname"
                syscalls.sethostname(c.hostname)
            step = "masking paths"
            rootfs.restrict_paths(syscalls.LinuxSyscalls(), c.security.masked_paths, c.security.readonly_paths)
            step = "resolving the user"
            user = process_user(c.process, c.process.user_spec)
            step = f"entering the working directory {c.process.cwd}"
            os.makedirs(c.process.cwd, exist_ok=True)
            os.chdir(c.process.cwd)
            if self.joined_fd >= 0:
                step = "joining the container's cgroup"
                if os.read(self.joined_fd, 1) != b"1":
                    raise StartError("the monitor could not move it into its cgroup")
            if self.console_fd >= 0:
                step = "opening the container's terminal"
                from runtime.console import become_terminal  # loaded by the monitor: no file access

                become_terminal(self.console_fd, user.uid)
            step = "setting ulimits"
            limits.apply_rlimits(c.process.rlimits)
            step = "switching to the user and applying capabilities and seccomp"
            process.finalize(confinement, lambda: drop_privileges(user))
            os.closerange(3, self.sync_fd)
            os.closerange(self.sync_fd + 1, 1 << 16)
            step = "starting the command"
            execve(tini.init_args(c.process.args) if c.init else c.process.args, with_home(c.process.env, user.home))
        except ExecError as e:
            self._fail(str(e), e.code)
        except OSError as e:
            where = f" ({e.filename})" if e.filename and str(e.filename) not in (e.strerror or "") else ""
            self._fail(f"{step}: {e.strerror or e}{where}", 1)
        except BaseException as e:  # noqa: BLE001 - PID 1 must report, never unwind into the monitor
            self._fail(f"{step}: {e}", 1)

    def _mounts(self) -> tuple[MountView, ...]:
        """The configured mounts, plus tini's for `init: true`."""
        if not self.config.init:
            return self.config.mounts
        return (*self.config.mounts, MountView(tini.init_mount(tini.find_init())))

    def _fail(self, message: str, code: int) -> NoReturn:
        try:
            protocol.send_error(self.sync_fd, message, code)
        finally:
            os._exit(code)
