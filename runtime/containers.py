"""`ContainerStore`: create, start, stop, kill, remove, inspect, exec and read logs.

Layout:
    data_root/containers/<id>/config.json         the ContainerConfig (JSON)
                             upper/ work/          the overlay's writable layer
                             container-json.log    Docker json-file log
    run_root/containers/<id>/state.json           StateRecord (atomic writes, flock'd)
                             lock, stop.json       state lock, explicit-stop request
                             rootfs/               overlay mountpoint (mounted only inside
                                                   the container's mount namespace)
                             exit.fifo             held open by the monitor while PID 1 runs
Each running container has one monitor process (monitor.py); this class never forks.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime import jsonio, logs, protocol
from runtime import state as st
from runtime.cgroups.joined import describe
from runtime.config import ContainerConfig, Resources
from runtime.errors import ContainerError, NotFoundError, StartError
from runtime.logs import LogRecord
from runtime.monitor_spawn import fork_server
from runtime.state import ContainerState, StateRecord

if TYPE_CHECKING:
    from runtime.cgroups import Cgroup, CgroupDriver
    from runtime.stats import ContainerStats

# Loaded where used: the cgroup drivers and the exec machinery (ctypes, rootfs, init)
# are ~25 ms of imports that read-only callers (`ps`, a no-op `up`) never need.

__all__ = ["ContainerState", "ContainerStore", "LogRecord"]

MONITOR_GRACE = 15.0  # seconds a monitor may take beyond the stop timeout before we act ourselves
POLL = 0.01


def with_device_rules(config: ContainerConfig) -> Resources:
    """The cgroup's resources, its devices allow list extended by the configured devices."""
    from runtime.security.devices import rules_for

    extra = rules_for(config.devices)
    return replace(config.resources, device_rules=config.resources.device_rules + extra) if extra else config.resources


def validate(config: ContainerConfig) -> None:
    """Reject what the runtime cannot honour, before anything is created."""
    if not config.id or "/" in config.id or config.id in (".", "..") or len(config.id) > 128:
        raise ContainerError(f"invalid container id {config.id!r}: one path segment of at most 128 characters")
    if not config.process.args:
        raise ContainerError(f"container {config.name}: no command to run (process.args is empty)")
    types = [ns.type for ns in config.namespaces]
    from runtime.syscalls import NAMESPACE_FLAGS

    unknown = sorted(set(types) - set(NAMESPACE_FLAGS))
    if unknown:
        raise ContainerError(f"container {config.name}: unknown namespace type(s) {', '.join(unknown)}")
    if len(set(types)) != len(types):
        raise ContainerError(f"container {config.name}: a namespace type is listed twice: {types}")
    mount_ns = next((ns for ns in config.namespaces if ns.type == "mount"), None)
    if mount_ns is None or mount_ns.path:
        raise ContainerError(f"container {config.name}: needs a new mount namespace (joining one is not supported)")
    if "uts" not in types and config.hostname:
        raise ContainerError(f"container {config.name}: a hostname needs a uts namespace")
    if not config.process.cwd.startswith("/"):
        raise ContainerError(f"container {config.name}: the working directory {config.process.cwd!r} must be absolute")
    protocol.signal_number(config.stop_signal)
    from runtime.process_settings import check_process_settings

    check_process_settings(config)


class ContainerStore:
    def __init__(self, data_root: Path, run_root: Path, cgroup_parent: str = "pycompose") -> None:
        self.data_root = Path(data_root)
        self.run_root = Path(run_root)
        self.cgroup_parent = cgroup_parent
        self._driver: CgroupDriver | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def create(self, config: ContainerConfig) -> ContainerState:
        validate(config)
        program = self._seccomp_program(config)  # may fail: before anything is made
        from runtime.bindsources import prepare_bind_sources

        prepare_bind_sources(config)
        paths = self._paths(config.id)
        if paths.config.exists():
            raise ContainerError(f"container {config.id} already exists")
        # config.json is written last: it is what makes the container exist, so a create
        # that crashed half-way leaves only directories the next create clears away.
        shutil.rmtree(paths.data_dir, ignore_errors=True)
        shutil.rmtree(paths.run_dir, ignore_errors=True)
        for d in (paths.upper, paths.work, paths.rootfs):
            d.mkdir(parents=True)
        rec = StateRecord(id=config.id, name=config.name, created_at=st.now_rfc3339(), labels=dict(config.labels))
        with st.locked(paths.lock):
            st.write_record(paths.state, rec)
        if program is not None:
            from runtime.security.seccomp import BPF_FILE

            (paths.data_dir / BPF_FILE).write_bytes(program)
        st.write_json_atomic(paths.config, config.to_dict())
        return rec.public()

    def _seccomp_program(self, config: ContainerConfig) -> bytes | None:
        """The container's seccomp program, compiled once at create (PID 1 and exec load it)."""
        from runtime.errors import SecurityError
        from runtime.security import seccomp
        from runtime.security.profile import ProfileError

        try:
            resolved = seccomp.filter_for(config.security.seccomp, config.security.capabilities)
            if resolved is None:
                return None
            return seccomp.cached_bpf(resolved, str(self.data_root / "seccomp-cache"))
        except (ProfileError, OSError) as e:
            raise SecurityError(f"container {config.name}: seccomp profile: {e}") from e

    def start(self, container_id: str, stdin: int | None = None, console: int | None = None) -> ContainerState:
        """Start the container; `stdin`: an fd PID 1 reads as its stdin (else /dev/null),
        e.g. the caller's own for `run` (the monitor holds it for the container's life).
        `console`, for a container with `process.terminal`: the caller's end of a console
        socket (runtime/console.py), on which the pty's master and PID 1's output come."""
        return self.prepare_start(container_id, stdin, console).finish()

    def prepare_start(self, container_id: str, stdin: int | None = None, console: int | None = None) -> PendingStart:
        """The first half of `start`: fork the monitor and create the cgroup, run nothing yet.

        The monitor's set-up and the cgroup creation (the fork server's boot, too, for the
        first start of a process) can so happen ahead of time, e.g. for every container of
        a stack at once, while the `finish()`es follow the dependency order. The start lock is held until `finish()`
        or `cancel()`; a monitor whose caller vanished exits quietly (its go pipe hits EOF).
        """
        config = self.config(container_id)
        if console is not None and not config.process.terminal:
            raise ContainerError(f"container {config.name}: a console needs process.terminal")
        if stdin is not None and config.process.terminal:
            raise ContainerError(f"container {config.name}: with a terminal, PID 1 reads its pty, not a stdin")
        paths = self._paths(container_id)
        self._observe(container_id)
        lock = st.locked(paths.run_dir / "start.lock")  # two starts never spawn two monitors
        lock.__enter__()
        try:
            rec = self._observe(container_id)
            if rec.status == "running":
                return PendingStart(self, config, lock, None)
            if st.is_alive(rec.monitor_pid, rec.monitor_start):  # in restart back-off: end it
                self._stop_monitor(rec, paths, config.stop_signal, 0)
            paths.stop_request.unlink(missing_ok=True)
            paths.paused.unlink(missing_ok=True)  # left by a container that died while paused
            paths.rootfs.mkdir(parents=True, exist_ok=True)
            # A terminal's PID 1 reads the pty: the monitor's stdin carries the console socket.
            monitor_stdin = console if console is not None else stdin
            return PendingStart(self, config, lock, _BootedMonitor.spawn(self, config, monitor_stdin))
        except BaseException:
            lock.__exit__()
            raise

    def _record_start_failure(self, container_id: str, error: str) -> None:
        paths = self._paths(container_id)
        with st.locked(paths.lock):
            rec = st.read_record(paths.state)
            if rec is not None:
                st.write_record(paths.state, st.mark_start_failed(rec, error, 1))

    def wait(self, container_id: str, timeout: float | None = None) -> ContainerState:
        """Block until the container is not running (its exit recorded, or it was never
        started); its state then. After `timeout` seconds, the state as it is (maybe running).

        No polling: the monitor holds exit.fifo open for writing while PID 1 runs and closes
        it once the exit is on record, which wakes the poll() here with POLLHUP. A monitor
        that died closes it too; if PID 1 outlived its monitor, we wait on a pidfd of PID 1.
        """
        paths = self._paths(container_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fifo = os.open(paths.exit_fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except FileNotFoundError:
                fifo = -1
            pidfd = -1
            try:
                rec = self._observe(container_id)  # after the open: a close after it wakes us
                left = None if deadline is None else deadline - time.monotonic()
                if rec.status != "running" or (left is not None and left <= 0):
                    return rec.public()
                watched = fifo
                if fifo < 0 or not st.is_alive(rec.monitor_pid, rec.monitor_start):
                    assert rec.pid is not None
                    try:
                        pidfd = watched = os.pidfd_open(rec.pid)
                    except ProcessLookupError:
                        continue
                    if not st.is_alive(rec.pid, rec.pid_start):  # the pid was reused meanwhile
                        continue
                poller = select.poll()
                poller.register(watched, select.POLLIN | select.POLLHUP)
                poller.poll(None if left is None else max(1, int(left * 1000)))
            finally:
                for fd in (fifo, pidfd):
                    if fd >= 0:
                        os.close(fd)

    def stop(self, container_id: str, timeout: float | None = None) -> ContainerState:
        config = self.config(container_id)
        paths = self._paths(container_id)
        wait = config.stop_timeout if timeout is None else max(0.0, timeout)
        rec = self._observe(container_id)
        if not st.is_alive(rec.monitor_pid, rec.monitor_start) and not st.is_alive(rec.pid, rec.pid_start):
            return self.state(container_id)
        self._thaw_to_stop(container_id)
        self._stop_monitor(rec, paths, config.stop_signal, wait)
        return self.state(container_id)

    def processes(self, container_id: str) -> list[int]:
        """Host pids of every process in the container (its cgroup), sorted; [] if none run."""
        self.config(container_id)  # NotFoundError
        cgroup = self.driver.open(self.cgroup_parent, container_id)
        return cgroup.procs() if cgroup is not None else []

    def kill(self, container_id: str, signal: str = "SIGKILL") -> None:
        """Send `signal` to PID 1. SIGKILL and the stop signal count as an explicit stop."""
        signo = protocol.signal_number(signal)
        config = self.config(container_id)
        rec = self._observe(container_id)
        if rec.status != "running" or rec.pid is None:
            raise ContainerError(f"cannot kill container {config.name}: it is not running")
        if signo in (9, protocol.signal_number(config.stop_signal)):
            st.write_json_atomic(self._paths(container_id).stop_request, {"signal": signal, "timeout": 0})
        if st.is_alive(rec.pid, rec.pid_start):
            try:
                os.kill(rec.pid, signo)
            except ProcessLookupError:
                pass
        if signo in (9, protocol.signal_number(config.stop_signal)):
            # dockerd resumes a paused container after sending it SIGKILL or its stop signal, so
            # that the signal is acted on; any other signal waits, pending, until unpause.
            self._thaw_to_stop(container_id)

    def remove(self, container_id: str, force: bool = False) -> None:
        config = self.config(container_id)
        paths = self._paths(container_id)
        rec = self._observe(container_id)
        if rec.status == "running" and not force:
            raise ContainerError(f"cannot remove container {config.name}: it is running (stop it first, or force)")
        if st.is_alive(rec.monitor_pid, rec.monitor_start) or st.is_alive(rec.pid, rec.pid_start):
            self._thaw_to_stop(container_id)
            self._stop_monitor(rec, paths, "SIGKILL", 0)
        cgroup = self.driver.open(self.cgroup_parent, container_id)
        if cgroup is not None:
            cgroup.remove()
        shutil.rmtree(paths.run_dir, ignore_errors=True)
        shutil.rmtree(paths.data_dir)

    # --- inspection -----------------------------------------------------------------------------

    def state(self, container_id: str) -> ContainerState:
        rec = self._observe(container_id)
        paused = rec.status == "running" and self._paths(container_id).paused.exists()
        return replace(rec.public(), paused=True) if paused else rec.public()

    def pidfile(self, container_id: str) -> Path:
        """Holds "PID START" while the container's PID 1 runs (see records.PIDFILE)."""
        return self._paths(container_id).pidfile

    # --- freezing and resource use (the container's cgroup) -------------------------------------

    def pause(self, container_id: str) -> None:
        """Freeze every process of the container (cgroup freezer); it stays "running", paused."""
        config = self.config(container_id)
        paths = self._paths(container_id)
        with st.locked(paths.run_dir / "start.lock"):  # no start, and no second pause, meanwhile
            if self.state(container_id).status != "running":
                raise ContainerError(f"container {config.name} is not running")
            if paths.paused.exists():
                raise ContainerError(f"container {config.name} is already paused")
            cgroup = self._running_cgroup(config)
            paths.paused.touch()  # first: a crash after the freeze must still show it paused
            try:
                cgroup.freeze()
            except BaseException:
                paths.paused.unlink(missing_ok=True)
                raise

    def unpause(self, container_id: str) -> None:
        config = self.config(container_id)
        paths = self._paths(container_id)
        with st.locked(paths.run_dir / "start.lock"):
            if not self.state(container_id).paused:
                raise ContainerError(f"container {config.name} is not paused")
            self._running_cgroup(config).thaw()
            paths.paused.unlink(missing_ok=True)

    def stats(self, container_id: str) -> ContainerStats:
        """A sample of CPU time, memory, pids, block and network I/O (see runtime.stats)."""
        from runtime.stats import sample

        config = self.config(container_id)
        rec = self._observe(container_id)
        if rec.status != "running":
            raise ContainerError(f"container {config.name} is not running")
        return sample(self._running_cgroup(config).stats(), rec.pid)

    def _running_cgroup(self, config: ContainerConfig) -> Cgroup:
        cgroup = self.driver.open(self.cgroup_parent, config.id)
        if cgroup is None:
            raise ContainerError(f"container {config.name}: its cgroup is gone")
        return cgroup

    def _thaw_to_stop(self, container_id: str) -> None:
        """A paused container cannot act on a stop: thaw it first (on v1 even SIGKILL waits)."""
        paths = self._paths(container_id)
        if not paths.paused.exists():
            return
        cgroup = self.driver.open(self.cgroup_parent, container_id)
        if cgroup is not None:
            cgroup.thaw()
        paths.paused.unlink(missing_ok=True)

    def config(self, container_id: str) -> ContainerConfig:
        try:
            return ContainerConfig.from_dict(json.loads(self._paths(container_id).config.read_text()))
        except FileNotFoundError:
            raise NotFoundError(f"no such container: {container_id}") from None

    def list(self) -> list[ContainerState]:
        root = self.data_root / "containers"
        found = []
        for d in sorted(root.iterdir()) if root.is_dir() else []:
            try:
                found.append(self.state(d.name))
            except NotFoundError:
                continue  # being created or removed right now
        return sorted(found, key=lambda s: s.created_at)

    def logs(self, container_id: str, follow: bool = False, tail: int | None = None) -> Iterator[LogRecord]:
        paths = self._paths(container_id)
        self.config(container_id)  # NotFoundError
        if not follow:
            return iter(logs.read_log(paths.log, tail))

        def active() -> bool:
            rec = self._observe(container_id)
            return rec.status == "running" or st.is_alive(rec.monitor_pid, rec.monitor_start)

        return logs.follow_log(paths.log, active, tail)

    def exec(self, container_id: str, args: Sequence[str], env: Sequence[str] = (),
             cwd: str | None = None, user: str | None = None, tty: bool = False,
             privileged: bool = False) -> int:
        """Run `args` in the container with our stdio (a new pseudo-terminal with `tty`);
        its exit code. `privileged`: every capability for the command (`docker exec --privileged`)."""
        config = self.config(container_id)
        rec = self._observe(container_id)
        if rec.status != "running" or rec.pid is None or rec.pid_start is None:
            raise ContainerError(f"cannot exec in container {config.name}: it is not running")
        if not args:
            raise ContainerError("exec needs a command")
        if self._paths(container_id).paused.exists():
            raise ContainerError(f"container {config.name} is paused, unpause the container before exec")
        cgroup = self.driver.open(self.cgroup_parent, container_id)
        from runtime.exec import ExecSpec, merge_env, run_exec

        spec = ExecSpec(
            config_path=str(self._paths(container_id).config), pid=rec.pid, pid_start=rec.pid_start,
            join_files=tuple(describe(cgroup).join_files()) if cgroup else (),
            args=tuple(args), env=tuple(merge_env(config.process.env, env)),
            cwd=cwd or config.process.cwd, user=user, tty=tty, privileged=privileged,
        )
        return run_exec(spec)

    # --- internals ----------------------------------------------------------------------------------

    @property
    def driver(self) -> CgroupDriver:
        if self._driver is None:
            from runtime.cgroups import detect  # safe from threads: see runtime/cgroups/__init__.py

            self._driver = detect()
        return self._driver

    def _paths(self, container_id: str) -> st.ContainerPaths:
        if not container_id or "/" in container_id or container_id in (".", ".."):
            raise NotFoundError(f"no such container: {container_id!r}")
        return st.ContainerPaths.of(self.data_root, self.run_root, container_id)

    def _observe(self, container_id: str) -> StateRecord:
        """The state record, corrected by what is really alive (and saved if it changed)."""
        paths = self._paths(container_id)
        if not paths.config.exists():
            raise NotFoundError(f"no such container: {container_id}")
        paths.run_dir.mkdir(parents=True, exist_ok=True)  # gone after a reboot (run_root is tmpfs)
        with st.locked(paths.lock):
            rec = st.read_record(paths.state)
            if rec is None:  # after a reboot: nothing runs; keep what config.json tells
                config = self.config(container_id)
                created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(paths.config.stat().st_mtime))
                rec = StateRecord(id=config.id, name=config.name, created_at=created, labels=dict(config.labels))
                st.write_record(paths.state, rec)
            now = st.reconcile(rec, st.is_alive(rec.monitor_pid, rec.monitor_start),
                               st.is_alive(rec.pid, rec.pid_start), st.now_rfc3339())
            if now != rec:
                st.write_record(paths.state, now)
        return now

    def _stop_monitor(self, rec: StateRecord, paths: st.ContainerPaths, sig: str, timeout: float) -> None:
        """Ask the monitor to stop PID 1 (crash-safe: the request is a file); if the monitor
        is dead or does not finish in time, kill PID 1 and the cgroup ourselves."""
        st.write_json_atomic(paths.stop_request, {"signal": sig, "timeout": timeout})
        if st.is_alive(rec.monitor_pid, rec.monitor_start):
            assert rec.monitor_pid is not None
            os.kill(rec.monitor_pid, signal.SIGUSR1)
            if _wait_dead(rec.monitor_pid, rec.monitor_start, timeout + MONITOR_GRACE):
                return
        if st.is_alive(rec.pid, rec.pid_start):
            assert rec.pid is not None
            os.kill(rec.pid, protocol.signal_number(sig))
            _wait_dead(rec.pid, rec.pid_start, timeout)
        cgroup = self.driver.open(self.cgroup_parent, rec.id)
        if cgroup is not None:
            cgroup.kill_all()
        with st.locked(paths.lock):
            latest = st.read_record(paths.state) or rec
            if latest.status == "running":
                latest = st.mark_exited(latest, None, False, st.now_rfc3339())
            st.write_record(paths.state, replace(latest, monitor_pid=None, monitor_start=None))


def _wait_dead(pid: int | None, start: int | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while st.is_alive(pid, start):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


class _BootedMonitor:
    """A monitor process that is setting up (or waiting for its go) and its cgroup.

    Protocol (see runtime/protocol.py and runtime/monitor.py): the monitor reads the
    cgroup description from the go pipe, starts PID 1 and writes its report; EOF on the
    go pipe without a description makes it exit quietly.
    """

    def __init__(self, report_r: int, go_w: int) -> None:
        self.report_r = report_r
        self.go_w = go_w
        self.cgroup: Any = None
        self.error: str | None = None

    @classmethod
    def spawn(cls, store: ContainerStore, config: ContainerConfig, stdin: int | None = None) -> _BootedMonitor:
        """Have the monitor forked, then create the cgroup while it reads its config."""
        report_r, report_w = os.pipe2(os.O_CLOEXEC)
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC) if stdin is None else -1
        try:
            fork_server().spawn_monitor(str(store.data_root), str(store.run_root), config.id,
                                        report_w, go_r, stdin if stdin is not None else null)
        except BaseException:
            for fd in (report_r, go_w):
                os.close(fd)
            raise
        finally:
            for fd in (report_w, go_r, null):
                if fd >= 0:
                    os.close(fd)
        booted = cls(report_r, go_w)
        try:
            booted.cgroup = store.driver.create(store.cgroup_parent, config.id, with_device_rules(config))
        except ContainerError as e:
            booted.error = str(e)
        return booted

    def go(self) -> str | None:
        """Hand the cgroup over and read the report to EOF; the error, if any."""
        try:
            if self.cgroup is None:
                os.close(self.go_w)  # EOF without a hand-over: the monitor exits quietly
                self.go_w = -1
                return self.error
            try:
                protocol.write_all(self.go_w, jsonio.dumps(describe(self.cgroup).to_dict()).encode())
            except BrokenPipeError:
                pass  # the monitor is gone already (or never forked): its report says why
            finally:
                os.close(self.go_w)
                self.go_w = -1
            _, error = protocol.read_report(self.report_r)
            if error is not None:
                self.cgroup.remove()
            return error
        finally:
            self.close()

    def cancel(self) -> None:
        if self.go_w >= 0:
            os.close(self.go_w)
            self.go_w = -1
        if self.cgroup is not None:
            self.cgroup.remove()
        self.close()

    def close(self) -> None:
        for name in ("report_r", "go_w"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


class PendingStart:
    """A start prepared by `ContainerStore.prepare_start`: call `finish()` or `cancel()` once."""

    def __init__(self, store: ContainerStore, config: ContainerConfig, lock: Any,
                 monitor: _BootedMonitor | None) -> None:
        self._store = store
        self._config = config
        self._lock = lock
        self._monitor = monitor

    def finish(self) -> ContainerState:
        """Let the container run; returns once PID 1 has exec'd (StartError otherwise)."""
        try:
            error = self._monitor.go() if self._monitor is not None else None
            if error is not None and self._monitor is not None and self._monitor.cgroup is None:
                self._store._record_start_failure(self._config.id, error)
        finally:
            self._lock.__exit__()
        if error is not None:
            raise StartError(f"cannot start container {self._config.name}: {error}")
        return self._store.state(self._config.id)

    def cancel(self) -> None:
        """Do not start after all: the monitor exits, the cgroup goes, the lock is released."""
        try:
            if self._monitor is not None:
                self._monitor.cancel()
        finally:
            self._lock.__exit__()

