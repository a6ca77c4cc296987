"""The per-container monitor (the conmon model), forked by the fork server (forkserver.py).

Started by `ContainerStore.start`; imports only the standard library and `runtime`;
single-threaded, so it may fork. In a session of its own, it forks the container's PID 1
through an intermediate child (init.py), reports "started pid N" or the error on the
report fd, then stays as PID 1's parent: it pumps stdout/stderr (or a pty: console.py)
into the json-file log, delivers stop requests, records the exit code and OOM kills,
applies the restart policy, exits.

Start hand-over: the caller creates the cgroup while this process reads its config and writes
its description (cgroups/joined.py) on the "go" fd; EOF without it means the caller
failed and reports that itself. The monitor holds exit.fifo open for writing while PID 1
runs and closes it once the exit is recorded: `ContainerStore.wait` blocks on that.

Lean on purpose: the fork server (so every monitor) holds this module's imports, and a
monitor lives as long as its container. Measured under `python -I -S -X importtime`, the
former closure (dataclasses → inspect/ast/dis/enum, typing, pathlib → urllib, re, json, signal → enum,
contextlib) cost ≈77 ms and ≈4 MB PSS. It now imports only builtins-level modules (os,
sys, select, fcntl, time, _signal, _json, ctypes for prctl) and runtime modules written to
keep it that way (configview, records, jsonio, jsonlog, cgroups.joined, init, rootfs).
Type-only imports sit under `if TYPE_CHECKING:` (a local False constant: importing
`typing` for it alone costs ≈5 ms). Rare paths (a monitor failure, a cgroup not empty
after PID 1's exit) may import more, lazily.

Stop protocol (crash-safe): the caller writes stop.json ({"signal", "timeout"}) then
sends SIGUSR1 (SIGTERM also stops). The monitor sends the signal to PID 1 and SIGKILL
after the timeout. stop.json stays until the next start, so an explicit stop is never
undone by the restart policy, even if the signal got lost. If the monitor is dead the
caller kills PID 1 and the cgroup itself (containers.py).
"""

from __future__ import annotations

import errno
import os
import select
import time

from runtime import init, jsonio, protocol, records, signals
from runtime.cgroups.joined import JoinedCgroup
from runtime.configview import read_config
from runtime.errors import ContainerError
from runtime.jsonlog import LineSplitter, LogWriter
from runtime.syscalls import PR_SET_CHILD_SUBREAPER, prctl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.console import Console
    from runtime.health import HealthChecker
    from runtime.jsonlog import Stream

BACKOFF_START = 0.1  # seconds; doubles after each restart, as Docker
BACKOFF_RESET = 10.0  # a run at least this long resets the back-off
DRAIN_TIMEOUT = 5.0  # seconds to wait for the log pipes' EOF once PID 1 is gone
_SIGNALS = (signals.SIGCHLD, signals.SIGUSR1, signals.SIGTERM, signals.SIGINT, signals.SIGHUP)


class StartFailed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f" ({e.filename})" if e.filename and str(e.filename) not in e.strerror else ""
        return f"{e.strerror}{where}"
    return str(e) if isinstance(e, ContainerError | StartFailed) else f"{type(e).__name__}: {e}"


class Paths:
    """The container's files (the layout in containers.py), as plain strings."""

    __slots__ = ("config", "upper", "work", "log", "state", "lock", "stop_request", "exit_fifo", "rootfs",
                 "pidfile")

    def __init__(self, data_root: str, run_root: str, container_id: str) -> None:
        data = os.path.join(data_root, "containers", container_id)
        run = os.path.join(run_root, "containers", container_id)
        self.config, self.upper = os.path.join(data, records.CONFIG), os.path.join(data, records.UPPER)
        self.work, self.log = os.path.join(data, records.WORK), os.path.join(data, records.LOG)
        self.state, self.lock = os.path.join(run, records.STATE), os.path.join(run, records.LOCK)
        self.stop_request = os.path.join(run, records.STOP_REQUEST)
        self.exit_fifo = os.path.join(run, records.EXIT_FIFO)
        self.pidfile = os.path.join(run, records.PIDFILE)
        self.rootfs = os.path.join(run, records.ROOTFS)


class Monitor:
    def __init__(self, paths: Paths, report_fd: int) -> None:
        self.paths = paths
        self.config = read_config(paths.config)
        self.report_fd = report_fd
        self.cgroup: JoinedCgroup | None = None
        self.exit_fd = -1
        self.stop_pending = False
        self.stopped = False  # an explicit stop was delivered: never restart
        self.restarts = 0  # restarts by the policy, for on-failure:N
        self.oom_before = 0
        self.started = 0.0
        self.health: HealthChecker | None = None  # only with a healthcheck (runtime/health.py)
        self.console: Console | None = None  # only with process.terminal (runtime/console.py)
        self.outputs: dict[int, Stream] = {}  # PID 1's output: read end → log stream

    # --- main flow ----------------------------------------------------------------------

    def run(self, go_fd: int) -> int:
        self._install_signals()
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        try:
            handover = _read_to_eof(go_fd)
            os.close(go_fd)
            if not handover:
                return 1  # the caller could not create the cgroup; it reports and records that
            self.cgroup = JoinedCgroup.from_dict(jsonio.loads(handover.decode()))
            self.log = LogWriter(self.paths.log, self.config.log_max_size, self.config.log_max_files)
            self._init_health()
            pid = self._launch()
        except BaseException as e:  # noqa: BLE001 - every failure must reach the caller
            self._start_failed(describe(e), e.code if isinstance(e, StartFailed) else 1)
            return 1
        self._mark_running(pid, restarted=False)
        protocol.report_started(self.report_fd, pid)
        os.close(self.report_fd)
        try:
            self._supervise_until_done(pid)
        except BaseException as e:
            # Nobody sees the monitor's stderr: leave the reason where `state` can find it.
            self._update({"error": f"the container monitor failed: {describe(e)}"})
            raise
        return 0

    def _supervise_until_done(self, pid: int) -> None:
        """Supervise PID 1, restarting it as the policy says; record each exit."""
        delay = BACKOFF_START
        while True:
            code, oom = self._supervise(pid)
            records.remove_pidfile(self.paths.pidfile)
            restart = self._should_restart(code)
            self._update(records.exited(code, oom, records.now_rfc3339()))
            self._close_exit_fifo()  # wakes `ContainerStore.wait`: the exit is on record
            if not restart:
                break
            delay = BACKOFF_START if time.monotonic() - self.started >= BACKOFF_RESET else delay
            if not self._sleep(delay):
                break
            delay *= 2
            try:
                pid = self._launch()
            except BaseException as e:  # noqa: BLE001 - record it; there is nobody to report to
                failed = e.code if isinstance(e, StartFailed) else 1
                self._update(records.start_failed(describe(e), failed))
                break
            self.restarts += 1
            self._mark_running(pid, restarted=True)
        self.log.close()
        self._update(records.MONITOR_GONE)

    def _init_health(self) -> None:
        """Only a container with a healthcheck pays for importing runtime/health.py."""
        if self.config.healthcheck is None:
            return
        from runtime import health

        if health.enabled(self.config.healthcheck):
            assert self.cgroup is not None
            previous = (records.read_state(self.paths.state) or {}).get("health")
            paused = os.path.join(os.path.dirname(self.paths.state), records.PAUSED)
            self.health = health.HealthChecker(self.config, self.paths.config, tuple(self.cgroup.join_files()),
                                               previous, paused)

    def _should_restart(self, code: int) -> bool:
        if self.stopped or os.path.exists(self.paths.stop_request):
            return False
        policy = self.config.restart
        if policy == "on-failure":
            limit = self.config.restart_max_retries
            return code != 0 and (limit is None or self.restarts < limit)
        return policy in ("always", "unless-stopped")

    def _start_failed(self, message: str, code: int) -> None:
        """Record the failure and report it; the caller removes the cgroup it created."""
        try:
            self._update(records.start_failed(message, code))
        finally:
            protocol.report_error(self.report_fd, message)

    def _mark_running(self, pid: int, restarted: bool) -> None:
        self._open_exit_fifo()  # before the record says "running": a waiter then finds a writer
        me = os.getpid()
        change = records.running(pid, records.process_start_time(pid), records.now_rfc3339())
        records.write_pidfile(self.paths.pidfile, pid, change["pid_start"])
        change.update(monitor_pid=me, monitor_start=records.process_start_time(me))
        if self.health is not None:
            change["health"] = self.health.restart(pid, change["pid_start"], self.started)
        self._update(change, count_restart=restarted)

    def _update(self, change: dict[str, Any], count_restart: bool = False) -> None:
        with records.Locked(self.paths.lock):
            rec = records.read_state(self.paths.state)
            if rec is None:
                raise ContainerError(f"the state of container {self.config.id} vanished")
            rec.update(change)
            if count_restart:
                rec["restart_count"] = rec.get("restart_count", 0) + 1
            jsonio.write_json_atomic(self.paths.state, rec)

    def _open_exit_fifo(self) -> None:
        try:
            os.mkfifo(self.paths.exit_fifo, 0o600)
        except FileExistsError:
            pass
        # O_RDWR: opening a FIFO write-only without a reader fails (ENXIO) or blocks.
        self.exit_fd = os.open(self.paths.exit_fifo, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def _close_exit_fifo(self) -> None:
        if self.exit_fd >= 0:
            os.close(self.exit_fd)
            self.exit_fd = -1

    # --- signals --------------------------------------------------------------------------

    def _install_signals(self) -> None:
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signals.set_wakeup_fd(self.wake_w)
        signals.signal(signals.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd fires
        signals.signal(signals.SIGUSR1, self._on_stop)
        signals.signal(signals.SIGTERM, self._on_stop)
        signals.signal(signals.SIGINT, signals.SIG_IGN)
        signals.signal(signals.SIGHUP, signals.SIG_IGN)

    def _on_stop(self, signo: int, frame: object) -> None:
        self.stop_pending = True

    def _reset_signals(self) -> None:
        """In a forked child: the monitor's handlers and wakeup fd are not the child's."""
        signals.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)
        for sig in _SIGNALS:
            signals.signal(sig, signals.SIG_DFL)

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _sleep(self, seconds: float) -> bool:
        """The restart back-off; False if a stop request arrived meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stop_pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return not os.path.exists(self.paths.stop_request)
            select.select([self.wake_r], [], [], left)
            self._drain_wakeups()
            self._reap(None)
        return False

    # --- one run of PID 1 --------------------------------------------------------------------

    def _launch(self) -> int:
        """Fork PID 1 (via the intermediate child); its host pid once it has exec'd.

        Who moves whom into the cgroup, always before PID 1 drops privileges and execs:
        - with a cgroup namespace, the intermediate child joins first, so that the
          namespace is rooted there;
        - on v1, PID 1 moves itself, first thing (cheap: `JoinedCgroup.self_join_files`);
        - on v2, this monitor moves PID 1 while PID 1 mounts its root, since that write
          waits for an RCU grace period (5-20 ms); PID 1 waits for the "joined" byte.
        """
        assert self.cgroup is not None
        outputs, (out_w, err_w) = self._open_outputs()
        sync_r, sync_w = os.pipe2(os.O_CLOEXEC)
        joined_r, joined_w = os.pipe2(os.O_CLOEXEC)
        self.oom_before = self.cgroup.oom_kill_count()
        cheap = self.cgroup.self_join_files()
        cgroupns = any(ns.type == "cgroup" for ns in self.config.namespaces)
        from_outside = not cgroupns and not cheap
        console_fd = self.console.pid1_end() if self.console is not None else -1
        pid1 = init.ContainerInit(self.config, self.paths.rootfs, self.paths.upper, self.paths.work,
                                  out_w, err_w, sync_w, joined_r if from_outside else -1,
                                  join_files=() if cgroupns else cheap, console_fd=console_fd)
        intermediate_joins = self.cgroup.join_files() if cgroupns else ()
        child = os.fork()
        if child == 0:
            try:
                self._reset_signals()
                for fd in (*outputs, sync_r, joined_w):
                    os.close(fd)
                protocol.send_pid(sync_w, init.enter_and_fork(self.config, intermediate_joins, pid1))
                os._exit(0)
            except BaseException as e:  # noqa: BLE001
                try:
                    protocol.send_error(sync_w, f"entering the container's namespaces: {describe(e)}", 1)
                finally:
                    os._exit(1)
        for fd in {out_w, err_w, sync_w, joined_r, console_fd} - {-1}:
            os.close(fd)
        earlier: tuple[bytes, ...] = ()
        join_error = None
        if from_outside:
            pid, earlier = protocol.read_until_pid(sync_r)
            if pid is not None:
                join_error = self._move_into_cgroup(pid, joined_w)
        os.close(joined_w)
        result = protocol.read_sync(sync_r, earlier)
        os.close(sync_r)
        os.waitpid(child, 0)
        self.started = time.monotonic()
        # PID 1's own error first: a PID 1 that failed early has exited, so moving it failed too.
        error = result.error or (f"joining the container's cgroup: {join_error}" if join_error else None)
        if error is None and self.console is not None:
            master = self.console.receive()
            if master is None:
                error = "opening the container's terminal: PID 1 sent no pty"
            else:
                outputs = {master: "stdout"}
        if error is not None or result.pid is None:
            for fd in outputs:
                os.close(fd)
            self._close_console()
            if result.pid is not None:
                _kill(result.pid, signals.SIGKILL)  # it may have exec'd (a pty that got lost)
                self._reap(result.pid, block=True)
            self.cgroup.kill_all()
            raise StartFailed(error or "the container's init vanished before it started", result.exit_code or 1)
        self.outputs = outputs
        return result.pid

    def _open_outputs(self) -> tuple[dict[int, Stream], tuple[int, int]]:
        """PID 1's output (read ends → log stream) and its stdout and stderr: two pipes;
        with `process.terminal`, none yet (PID 1 makes a pty its stdio and sends us the
        master: console.py), /dev/null until then."""
        if self.config.process.terminal:
            from runtime.console import Console

            self.console = Console.prepare(0)  # the caller's console socket, if it gave one
            null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
            return {}, (null, null)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        return {out_r: "stdout", err_r: "stderr"}, (out_w, err_w)

    def _close_console(self) -> None:
        if self.console is not None:
            self.console.close()
            self.console = None

    def _move_into_cgroup(self, pid: int, joined_w: int) -> str | None:
        """Move PID 1 in and tell it so; the failure, described (PID 1 is then killed)."""
        assert self.cgroup is not None
        try:
            self.cgroup.add_process(pid)
        except OSError as e:
            _kill(pid, signals.SIGKILL)
            return describe(e)
        try:
            os.write(joined_w, b"1")
        except BrokenPipeError:
            pass  # PID 1 failed and exited first: its error is on the sync pipe
        return None

    def _reap(self, pid: int | None, block: bool = False) -> int | None:
        """Reap every exited child; the wait status of `pid` if it was among them."""
        found = None
        while True:
            try:
                wpid, status = os.waitpid(-1, 0 if block and found is None else os.WNOHANG)
            except ChildProcessError:
                return found
            if wpid == 0:
                return found
            if wpid == pid:
                found = status
            elif self.health is not None:
                self.health.reaped(wpid, status)  # a probe's helper

    def _supervise(self, pid: int) -> tuple[int, bool]:
        """Pump logs and deliver stops until PID 1 has exited and the pipes are drained."""
        assert self.cgroup is not None
        streams = {fd: (name, LineSplitter()) for fd, name in self.outputs.items()}
        poller = select.poll()
        for fd in (*streams, self.wake_r):
            poller.register(fd, select.POLLIN)
        if self.health is not None:
            self.health.poller = poller  # registers its probes' output pipes
        status: int | None = None
        kill_at: float | None = None
        drain_until = 0.0
        while streams or status is None:
            deadline = drain_until if status is not None else self._next_deadline(kill_at)
            wait = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000) + 1)
            self._poll(poller, wait, streams)
            if status is None:
                if self.stop_pending:
                    self.stop_pending = False
                    kill_at = self._deliver_stop(pid)
                status = self._reap(pid)
                self._tick_health(status is None)
                if status is not None:
                    self.cgroup.kill_all()  # anything PID 1 left behind (no pid namespace)
                    drain_until = time.monotonic() + DRAIN_TIMEOUT
                elif kill_at is not None and time.monotonic() >= kill_at:
                    _kill(pid, signals.SIGKILL)
                    kill_at = None
            elif time.monotonic() >= drain_until:
                break
        for fd in list(streams):
            os.close(fd)
        self._close_console()  # the caller's relay ends; it reads the exit code from the record
        code = records.exit_code_from_status(status)
        oom = code == 128 + signals.SIGKILL and self.cgroup.oom_kill_count() > self.oom_before
        return code, oom

    def _poll(self, poller: select.poll, wait: int | None, streams: dict[int, tuple[Stream, LineSplitter]]) -> None:
        for fd, _ in poller.poll(wait):
            if fd == self.wake_r:
                self._drain_wakeups()
            elif fd in streams:
                self._pump(fd, streams, poller)
            elif self.health is not None and self.health.owns(fd):
                self.health.read()

    def _next_deadline(self, kill_at: float | None) -> float | None:
        if self.health is None:
            return kill_at
        due = self.health.deadline()
        return due if kill_at is None else min(kill_at, due)

    def _tick_health(self, running: bool) -> None:
        """Run the healthcheck's next step; record a result; end probes once PID 1 is gone."""
        if self.health is None:
            return
        if not running:
            self.health.stop()
            return
        change = self.health.tick(time.monotonic())
        if change is not None:
            self._update({"health": change})

    def _pump(self, fd: int, streams: dict[int, tuple[Stream, LineSplitter]], poller: select.poll) -> None:
        name, splitter = streams[fd]
        try:
            data = os.read(fd, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""  # a pty's master once no process holds the slave any more
        if data:
            if self.console is not None:
                self.console.forward(data)
            self.log.write(name, splitter.feed(data))
            return
        self.log.write(name, splitter.flush())
        poller.unregister(fd)
        os.close(fd)
        del streams[fd]

    def _deliver_stop(self, pid: int) -> float:
        """Send the stop signal to PID 1; the time at which SIGKILL follows."""
        self.stopped = True
        sig, timeout = self.config.stop_signal, self.config.stop_timeout
        try:
            request = jsonio.read_json(self.paths.stop_request)
            sig = request.get("signal") or sig
            timeout = timeout if request.get("timeout") is None else request["timeout"]
        except (OSError, ValueError):
            pass  # SIGTERM without a request (e.g. host shutdown): the configured defaults
        try:
            _kill(pid, protocol.signal_number(sig))
        except ContainerError:
            timeout = 0
        return time.monotonic() + max(0.0, float(timeout))


def _kill(pid: int, signo: int) -> None:
    try:
        os.kill(pid, signo)
    except ProcessLookupError:
        pass


def _read_to_eof(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def set_comm(name: str) -> None:
    """The name `ps -o comm`, top and the OOM killer show (at most 15 bytes)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass  # cosmetic only


def main(argv: list[str]) -> int:
    """argv: data_root run_root container_id report_fd go_fd. Runs in a process the fork
    server (runtime/forkserver.py) forked for this container; returns the exit code."""
    if len(argv) != 5:
        raise ValueError("monitor arguments: DATA_ROOT RUN_ROOT ID REPORT_FD GO_FD")
    data_root, run_root, container_id, report_fd, go_fd = argv
    set_comm(f"pcmon-{container_id[:9]}")
    try:
        monitor = Monitor(Paths(data_root, run_root, container_id), int(report_fd))
    except BaseException as e:  # noqa: BLE001 - e.g. an unreadable config.json
        protocol.report_error(int(report_fd), f"cannot start the monitor: {describe(e)}")
        return 1
    return monitor.run(int(go_fd))
