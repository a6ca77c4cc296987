"""Healthchecks, run by the container's monitor with the semantics of Docker's daemon/health.go.

Imported by monitor.py only when the container has a healthcheck (keeping the monitor of
every other container as lean as before). A probe is forked from the single-threaded
monitor: the child joins PID 1's cgroup and namespaces (runtime/exec.py's `enter`), forks
the command (only children enter a pid namespace), and waits for it; its stdout and
stderr go to a pipe the monitor reads while polling, keeping at most 4 KB (then "...").

Docker's rules, kept here as pure functions (unit-tested) over the `health` dict stored
in state.json, {"status", "failing_streak", "log": [{"start", "end", "exit_code", "output"}]}:
  * each (re)start of PID 1 sets the status to "starting" and the failing streak to 0;
  * exit code 0 → "healthy", streak 0; any other → streak + 1 and "unhealthy" once the
    streak reaches `retries`, except that failures while still "starting" inside
    `start_period` do not count;
  * a probe running longer than `timeout` is killed and counts as exit code -1;
  * the first probe runs one delay after the start; the delay is `start_interval` while
    "starting" inside `start_period`, else `interval`; the next delay counts from the
    end of the previous probe; only the last 5 results are kept;
  * no probe runs while the container is paused: one under way is killed and its result
    dropped, and probing resumes one interval after the unpause.
"""

from __future__ import annotations

import os
import select

from runtime import exec as container_exec
from runtime import records, signals
from runtime.security import seccomp
from runtime.security.process import prepare

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.configview import ConfigView

STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"
MAX_OUTPUT = 4096  # bytes of probe output kept (moby's maxOutputLen)
MAX_LOG = 5  # results kept (moby's maxLogEntries)
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_START_PERIOD = 0.0
DEFAULT_START_INTERVAL = 5.0
DEFAULT_RETRIES = 3
KILL_GRACE = 1.0  # seconds a timed-out probe's helper gets to kill its command before SIGKILL
FAILED = -1  # the exit code Docker records for a probe that exceeded its timeout or could not run


class Settings:
    """A healthcheck with Docker's defaults applied (zero or unset means the default)."""

    __slots__ = ("test", "interval", "timeout", "start_period", "start_interval", "retries")

    def __init__(self, d: dict[str, Any]) -> None:
        self.test: tuple[str, ...] = tuple(d["test"])
        self.interval: float = d.get("interval") or DEFAULT_INTERVAL
        self.timeout: float = d.get("timeout") or DEFAULT_TIMEOUT
        self.start_period: float = d.get("start_period") or DEFAULT_START_PERIOD
        self.start_interval: float = d.get("start_interval") or DEFAULT_START_INTERVAL
        retries = d.get("retries") or 0
        self.retries: int = retries if retries > 0 else DEFAULT_RETRIES


def enabled(healthcheck: dict[str, Any] | None) -> bool:
    """A probe to run: Docker runs CMD and CMD-SHELL tests; none for NONE or no test."""
    test: list[str] = (healthcheck or {}).get("test") or []
    return len(test) > 1 and test[0] in ("CMD", "CMD-SHELL")


def probe_argv(test: tuple[str, ...]) -> tuple[str, ...]:
    """CMD runs its arguments directly; CMD-SHELL runs them with /bin/sh -c."""
    return tuple(test[1:]) if test[0] == "CMD" else ("/bin/sh", "-c", *test[1:])


# --- the pure rules ----------------------------------------------------------------------


def restarted(previous: dict[str, Any] | None) -> dict[str, Any]:
    """The health of a freshly (re)started container: starting, the old results kept."""
    return {"status": STARTING, "failing_streak": 0, "log": list((previous or {}).get("log") or ())}


def record_result(health: dict[str, Any], result: dict[str, Any], in_start_period: bool,
                  retries: int) -> dict[str, Any]:
    """The health after one probe `result` ({"start", "end", "exit_code", "output"})."""
    log = [*health.get("log", ()), result][-MAX_LOG:]
    status, streak = health.get("status", STARTING), health.get("failing_streak", 0)
    if result["exit_code"] == 0:
        status, streak = HEALTHY, 0
    elif not (status == STARTING and in_start_period):
        streak += 1
        if streak >= retries:
            status = UNHEALTHY
    return {"status": status, "failing_streak": streak, "log": log}


def next_delay(settings: Settings, elapsed: float, status: str) -> float:
    """Seconds until the next probe, `elapsed` seconds after PID 1 started."""
    if elapsed < settings.start_period and status == STARTING:
        return settings.start_interval
    return settings.interval


def output_text(data: bytes, truncated: bool) -> str:
    text = data[:MAX_OUTPUT].decode("utf-8", "replace")
    return text + "..." if truncated or len(data) > MAX_OUTPUT else text


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a time.Duration ("30s", "1m30s", "500ms"), for Docker's messages."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


# --- the monitor's side --------------------------------------------------------------------


class Probe:
    """One running probe: its helper process, output pipe and deadline."""

    __slots__ = ("pid", "fd", "output", "truncated", "start", "start_mono", "deadline", "timed_out",
                 "status", "dropped")

    def __init__(self, pid: int, fd: int, start_mono: float, timeout: float) -> None:
        self.pid, self.fd = pid, fd
        self.output = b""
        self.truncated = False
        self.start = records.now_rfc3339()
        self.start_mono = start_mono
        self.deadline = start_mono + timeout
        self.timed_out = False
        self.status: int | None = None  # wait status once reaped
        self.dropped = False  # killed by a pause: no result is recorded


class HealthChecker:
    """Schedules and runs the probes of one container; the monitor drives it from its loop."""

    def __init__(self, config: ConfigView, config_path: str, join_files: tuple[str, ...],
                 previous: dict[str, Any] | None, paused_path: str = "") -> None:
        assert config.healthcheck is not None
        self.settings = Settings(config.healthcheck)
        self.config = config
        self.config_path = config_path
        self.join_files = join_files
        self.paused_path = paused_path
        self.health = restarted(previous)
        self.pid = self.pid_start = 0
        self.started = 0.0
        self.next_at = 0.0
        self.probe: Probe | None = None
        self.poller: select.poll | None = None

    def restart(self, pid: int, pid_start: int | None, started: float) -> dict[str, Any]:
        """PID 1 (re)started at monotonic `started`: the health to record."""
        self.stop()
        self.pid, self.pid_start, self.started = pid, pid_start or 0, started
        self.health = restarted(self.health)
        self.next_at = started + next_delay(self.settings, 0.0, STARTING)
        return self.health

    def deadline(self) -> float:
        """When the checker next needs the monitor's attention (monotonic)."""
        if self.probe is None or self.probe.dropped:
            return self.next_at
        return self.probe.deadline + (KILL_GRACE if self.probe.timed_out else 0.0)

    def owns(self, fd: int) -> bool:
        return self.probe is not None and fd == self.probe.fd

    def read(self) -> None:
        """Output is ready on the probe's pipe: keep up to MAX_OUTPUT bytes."""
        probe = self.probe
        assert probe is not None
        try:
            data = os.read(probe.fd, 65536)
        except BlockingIOError:
            return
        if not data:
            self._close_pipe(probe)
            return
        room = MAX_OUTPUT - len(probe.output)
        probe.output += data[:max(0, room)]
        probe.truncated = probe.truncated or len(data) > room

    def reaped(self, pid: int, status: int) -> None:
        if self.probe is not None and pid == self.probe.pid:
            self.probe.status = status

    def tick(self, now: float) -> dict[str, Any] | None:
        """Start, time out or finish a probe; the new health when a result came in."""
        probe = self.probe
        if self.paused_path and os.path.exists(self.paused_path):
            self._pause(now)
            return None
        if probe is not None and probe.dropped and probe.status is not None:
            self._close_pipe(probe)
            self.probe = probe = None
        if probe is None:
            if now < self.next_at:
                return None
            try:
                self.probe = self._spawn(now)
            except OSError as e:  # e.g. EAGAIN from fork: a failed probe, as Docker records one
                return self._record(records.now_rfc3339(), now, FAILED, f"cannot start the health check: {e}", now)
            return None
        if probe.status is not None:
            if self._raced_the_exit(probe):
                self._close_pipe(probe)
                self.probe = None
                return None
            return self._finish(probe, now)
        if not probe.timed_out and now >= probe.deadline:
            probe.timed_out = True
            _signal(probe.pid, signals.SIGTERM)  # the helper SIGKILLs the command, then exits
        elif probe.timed_out and now >= probe.deadline + KILL_GRACE:
            _signal(probe.pid, signals.SIGKILL)
        return None

    def _raced_the_exit(self, probe: Probe) -> bool:
        """The probe could not enter because PID 1 has just exited (its namespaces are gone
        though the monitor has not reaped it yet): no result, as Docker drops a probe that
        the container's stop cancelled."""
        if probe.timed_out or records.exit_code_from_status(probe.status or 0) != container_exec.ENTER_FAILED:
            return False
        return not os.path.exists(f"/proc/{self.pid}/ns/mnt")

    def _pause(self, now: float) -> None:
        """Frozen: end a probe under way, without a result; probe again an interval later."""
        if self.probe is not None and not self.probe.dropped:
            self.probe.dropped = True
            _signal(self.probe.pid, signals.SIGKILL)  # takes effect at the thaw on cgroup v1
        self.next_at = now + self.settings.interval

    def stop(self) -> None:
        """PID 1 is gone: end a running probe (the cgroup's kill usually did already)."""
        if self.probe is not None:
            _signal(self.probe.pid, signals.SIGKILL)
            self._close_pipe(self.probe)
            self.probe = None

    def _finish(self, probe: Probe, now: float) -> dict[str, Any]:
        if probe.fd >= 0:
            self._drain(probe)
        self.probe = None
        if probe.timed_out:
            limit = go_duration(self.settings.timeout)
            out = output_text(probe.output, probe.truncated)
            code = FAILED
            output = f"Health check exceeded timeout ({limit}): {out}" if out else f"Health check exceeded timeout ({limit})"
        else:
            code = records.exit_code_from_status(probe.status or 0)
            output = output_text(probe.output, probe.truncated)
        return self._record(probe.start, probe.start_mono, code, output, now)

    def _record(self, start: str, start_mono: float, code: int, output: str, now: float) -> dict[str, Any]:
        result = {"start": start, "end": records.now_rfc3339(), "exit_code": code, "output": output}
        in_start_period = start_mono - self.started < self.settings.start_period
        self.health = record_result(self.health, result, in_start_period, self.settings.retries)
        self.next_at = now + next_delay(self.settings, now - self.started, self.health["status"])
        return self.health

    def _drain(self, probe: Probe) -> None:
        """The helper has exited: take what is left in the pipe (a grandchild may hold it open)."""
        while self.probe is probe and probe.fd >= 0:
            self.read()
            if probe.fd >= 0 and not _readable(probe.fd):
                self._close_pipe(probe)

    def _close_pipe(self, probe: Probe) -> None:
        if probe.fd >= 0:
            if self.poller is not None:
                try:
                    self.poller.unregister(probe.fd)
                except KeyError:
                    pass
            os.close(probe.fd)
            probe.fd = -1

    def _spawn(self, now: float) -> Probe:
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        spec = container_exec.ExecSpec(
            config_path=self.config_path, pid=self.pid, pid_start=self.pid_start, join_files=self.join_files,
            args=probe_argv(self.settings.test), env=self.config.process.env, cwd=self.config.process.cwd,
            user=None,
        )
        child = os.fork()
        if child == 0:
            _probe_child(spec, self.config, write_fd)  # never returns
        os.close(write_fd)
        if self.poller is not None:
            self.poller.register(read_fd, select.POLLIN)
        return Probe(child, read_fd, now, self.settings.timeout)


def _probe_child(spec: container_exec.ExecSpec, config: ConfigView, out_fd: int) -> None:
    """In the forked probe helper: enter the container, run the command, exit with its code."""
    try:
        signals.set_wakeup_fd(-1)
        for sig in (signals.SIGCHLD, signals.SIGUSR1, signals.SIGTERM, signals.SIGINT, signals.SIGHUP):
            signals.signal(sig, signals.SIG_DFL)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.closerange(3, 1 << 16)  # the monitor's pipes, fifo and log are not the probe's
        # Probes are confined as the container is (capabilities, seccomp), like `docker exec`.
        bpf_path = os.path.join(os.path.dirname(spec.config_path), seccomp.BPF_FILE)
        confinement = prepare(config.security, bpf_path, all_capabilities=False)
        container_exec.enter(spec, config)
    except BaseException as e:  # noqa: BLE001 - the child must never return into the monitor
        _die(f"cannot enter the container: {e}", container_exec.ENTER_FAILED)
    # The monitor's SIGTERM at the timeout: kill the command (set before the fork, so a
    # SIGTERM in between is never lost; the command's execve resets the handler).
    forked: list[int] = []

    def on_timeout(signo: int, frame: object) -> None:
        if not forked:
            os._exit(1)
        _signal(forked[0], signals.SIGKILL)

    signals.signal(signals.SIGTERM, on_timeout)
    command = os.fork()
    if command == 0:
        try:
            container_exec.run_command(spec, config, confinement)
        except BaseException as e:  # noqa: BLE001
            _die(str(e), getattr(e, "code", 126))
    forked.append(command)
    while True:
        try:
            _, status = os.waitpid(command, 0)
            break
        except InterruptedError:
            continue
    os._exit(records.exit_code_from_status(status))


def _die(message: str, code: int) -> None:
    try:
        os.write(2, f"{message}\n".encode())
    finally:
        os._exit(code)


def _signal(pid: int, signo: int) -> None:
    try:
        os.kill(pid, signo)
    except ProcessLookupError:
        pass


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])
