"""The per-container monitor (the conmon model), run as `protocol.helper_argv("runtime.monitor")`.

Started by `ContainerStore.start`; imports only the standard library and `runtime`;
single-threaded, so it may fork. It detaches (forks; the parent exits at once so the
caller can reap it), creates the cgroup, forks the container's PID 1 through an
intermediate child (init.py), reports "started pid N" or the error on the report fd,
then stays as PID 1's parent: it pumps stdout/stderr into the json-file log, delivers
stop requests, records the exit code and OOM kills, applies the restart policy, exits.

Stop protocol (crash-safe): the caller writes stop.json ({"signal", "timeout"}) then
sends SIGUSR1 (SIGTERM also stops). The monitor sends the signal to PID 1 and SIGKILL
after the timeout. stop.json stays until the next start, so an explicit stop is never
undone by the restart policy, even if the signal got lost. If the monitor is dead the
caller kills PID 1 and the cgroup itself (containers.py).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from runtime import init, protocol
from runtime import state as st
from runtime.cgroups import Cgroup, detect
from runtime.config import ContainerConfig
from runtime.errors import ContainerError
from runtime.logs import LineSplitter, LogWriter, Stream
from runtime.syscalls import PR_SET_CHILD_SUBREAPER, prctl

BACKOFF_START = 0.1  # seconds; doubles after each restart, as Docker
BACKOFF_RESET = 10.0  # a run at least this long resets the back-off
DRAIN_TIMEOUT = 5.0  # seconds to wait for the log pipes' EOF once PID 1 is gone
_SIGNALS = (signal.SIGCHLD, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StartFailed(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f" ({e.filename})" if e.filename and str(e.filename) not in e.strerror else ""
        return f"{e.strerror}{where}"
    return str(e) if isinstance(e, ContainerError | StartFailed) else f"{type(e).__name__}: {e}"


class Monitor:
    def __init__(self, paths: st.ContainerPaths, cgroup_parent: str, report_fd: int) -> None:
        self.paths = paths
        self.config = ContainerConfig.from_dict(json.loads(paths.config.read_text()))
        self.cgroup_parent = cgroup_parent
        self.report_fd = report_fd
        self.cgroup: Cgroup | None = None
        self.stop_pending = False
        self.stopped = False  # an explicit stop was delivered: never restart
        self.oom_before = 0
        self.started = 0.0

    # --- main flow ----------------------------------------------------------------------

    def run(self) -> int:
        self._install_signals()
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        try:
            self.cgroup = detect().create(self.cgroup_parent, self.config.id, self.config.resources)
            self.log = LogWriter(self.paths.log)
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
            message = f"the container monitor failed: {describe(e)}"
            self._update(lambda r: dataclasses.replace(r, error=message))
            raise
        return 0

    def _supervise_until_done(self, pid: int) -> None:
        """Supervise PID 1, restarting it as the policy says; record each exit."""
        delay = BACKOFF_START
        while True:
            code, oom = self._supervise(pid)
            restart = self._should_restart(code)
            self._update(functools.partial(st.mark_exited, exit_code=code, oom_killed=oom, now=st.now_rfc3339()))
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
                self._update(functools.partial(st.mark_start_failed, error=describe(e), exit_code=failed))
                break
            self._mark_running(pid, restarted=True)
        self.log.close()
        self._update(lambda r: dataclasses.replace(r, monitor_pid=None, monitor_start=None))

    def _should_restart(self, code: int) -> bool:
        if self.stopped or self.paths.stop_request.exists():
            return False
        policy = self.config.restart
        return policy in ("always", "unless-stopped") or (policy == "on-failure" and code != 0)

    def _start_failed(self, message: str, code: int) -> None:
        try:
            if self.cgroup is not None:
                self.cgroup.remove()
            self._update(lambda r: st.mark_start_failed(r, message, code))
        finally:
            protocol.report_error(self.report_fd, message)

    def _mark_running(self, pid: int, restarted: bool) -> None:
        me = os.getpid()

        def change(r: st.StateRecord) -> st.StateRecord:
            r = st.mark_running(r, pid, st.process_start_time(pid), st.now_rfc3339())
            return dataclasses.replace(r, monitor_pid=me, monitor_start=st.process_start_time(me),
                                       restart_count=r.restart_count + int(restarted))

        self._update(change)

    def _update(self, change: Callable[[st.StateRecord], st.StateRecord]) -> None:
        with st.locked(self.paths.lock):
            rec = st.read_record(self.paths.state)
            if rec is None:
                raise ContainerError(f"the state of container {self.config.id} vanished")
            st.write_record(self.paths.state, change(rec))

    # --- signals --------------------------------------------------------------------------

    def _install_signals(self) -> None:
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd fires
        signal.signal(signal.SIGUSR1, self._on_stop)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def _on_stop(self, signo: int, frame: object) -> None:
        self.stop_pending = True

    def _reset_signals(self) -> None:
        """In a forked child: the monitor's handlers and wakeup fd are not the child's."""
        signal.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_DFL)

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
                return not self.paths.stop_request.exists()
            select.select([self.wake_r], [], [], left)
            self._drain_wakeups()
            self._reap(None)
        return False

    # --- one run of PID 1 --------------------------------------------------------------------

    def _launch(self) -> int:
        """Fork PID 1 (via the intermediate child); its host pid once it has exec'd."""
        assert self.cgroup is not None
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        sync_r, sync_w = os.pipe2(os.O_CLOEXEC)
        self.oom_before = self.cgroup.oom_kill_count()
        procs = [str(p) for p in self.cgroup.procs_files()]
        pid1 = init.ContainerInit(self.config, str(self.paths.rootfs), str(self.paths.upper),
                                  str(self.paths.work), out_w, err_w, sync_w)
        child = os.fork()
        if child == 0:
            try:
                self._reset_signals()
                for fd in (out_r, err_r, sync_r):
                    os.close(fd)
                protocol.send_pid(sync_w, init.enter_and_fork(self.config, procs, pid1))
                os._exit(0)
            except BaseException as e:  # noqa: BLE001
                try:
                    protocol.send_error(sync_w, f"entering the container's namespaces: {describe(e)}", 1)
                finally:
                    os._exit(1)
        for fd in (out_w, err_w, sync_w):
            os.close(fd)
        result = protocol.read_sync(sync_r)
        os.close(sync_r)
        os.waitpid(child, 0)
        self.started = time.monotonic()
        if result.error is not None or result.pid is None:
            for fd in (out_r, err_r):
                os.close(fd)
            if result.pid is not None:
                self._reap(result.pid, block=True)
            self.cgroup.kill_all()
            raise StartFailed(result.error or "the container's init vanished before it started", result.exit_code or 1)
        self.out_r, self.err_r = out_r, err_r
        return result.pid

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

    def _supervise(self, pid: int) -> tuple[int, bool]:
        """Pump logs and deliver stops until PID 1 has exited and the pipes are drained."""
        assert self.cgroup is not None
        streams: dict[int, tuple[Stream, LineSplitter]] = {
            self.out_r: ("stdout", LineSplitter()), self.err_r: ("stderr", LineSplitter()),
        }
        poller = select.poll()
        for fd in (*streams, self.wake_r):
            poller.register(fd, select.POLLIN)
        status: int | None = None
        kill_at: float | None = None
        drain_until = 0.0
        while streams or status is None:
            deadline = drain_until if status is not None else kill_at
            wait = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000) + 1)
            for fd, _ in poller.poll(wait):
                if fd == self.wake_r:
                    self._drain_wakeups()
                elif fd in streams:
                    self._pump(fd, streams, poller)
            if status is None:
                if self.stop_pending:
                    self.stop_pending = False
                    kill_at = self._deliver_stop(pid)
                status = self._reap(pid)
                if status is not None:
                    self.cgroup.kill_all()  # anything PID 1 left behind (no pid namespace)
                    drain_until = time.monotonic() + DRAIN_TIMEOUT
                elif kill_at is not None and time.monotonic() >= kill_at:
                    _signal(pid, signal.SIGKILL)
                    kill_at = None
            elif time.monotonic() >= drain_until:
                break
        for fd in list(streams):
            os.close(fd)
        code = st.exit_code_from_status(status)
        oom = code == 128 + signal.SIGKILL and self.cgroup.oom_kill_count() > self.oom_before
        return code, oom

    def _pump(self, fd: int, streams: dict[int, tuple[Stream, LineSplitter]], poller: select.poll) -> None:
        name, splitter = streams[fd]
        data = os.read(fd, 65536)
        if data:
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
            request = json.loads(self.paths.stop_request.read_text())
            sig = request.get("signal") or sig
            timeout = timeout if request.get("timeout") is None else request["timeout"]
        except (OSError, ValueError):
            pass  # SIGTERM without a request (e.g. host shutdown): the configured defaults
        try:
            _signal(pid, protocol.signal_number(sig))
        except ContainerError:
            timeout = 0
        return time.monotonic() + max(0.0, float(timeout))


def _signal(pid: int, signo: int) -> None:
    try:
        os.kill(pid, signo)
    except ProcessLookupError:
        pass


def _set_comm(name: str) -> None:
    """The name `ps -o comm`, top and the OOM killer show (at most 15 bytes)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass  # cosmetic only


def main(argv: list[str] | None = None) -> int:
    """argv: data_root run_root cgroup_parent container_id report_fd."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 5:
        print("usage: python -m runtime.monitor DATA_ROOT RUN_ROOT CGROUP_PARENT ID REPORT_FD", file=sys.stderr)
        return 2
    data_root, run_root, cgroup_parent, container_id, report_fd = args
    if os.fork() != 0:  # detach: the caller reaps this parent at once; the monitor lives on
        os._exit(0)
    _set_comm(f"pcmon-{container_id[:9]}")
    paths = st.ContainerPaths.of(Path(data_root), Path(run_root), container_id)
    try:
        monitor = Monitor(paths, cgroup_parent, int(report_fd))
    except BaseException as e:  # noqa: BLE001 - e.g. an unreadable config.json
        protocol.report_error(int(report_fd), f"cannot start the monitor: {describe(e)}")
        return 1
    return monitor.run()


if __name__ == "__main__":
    sys.exit(main())
