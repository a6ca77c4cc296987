"""Published ports per sandbox and the proxy process serving them.

One JSON record per sandbox, run_root/network/ports/<id>.json: the requests, the host
ports as bound (so an ephemeral port is known to `port` and `ps`), the exposed ports,
and the proxy's pid with its start time (a recycled pid is not mistaken for it), and the
container's pidfile: the proxy holds the host ports only while the container runs
(network/liveness.py, proxy.py).

Record before create: the record is written without a pid before the proxy is spawned,
and the proxy's command line names the record. A `kill -9` between the two leaves a
proxy that `stop`/`remove` still find, by that name, in /proc.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from network import liveness
from network.errors import NetworkError
from network.liveness import start_time as _start_time
from network.ports import PortRequest, PublishedPort, Reservation, reserve
from network.state import flocked, load_json, store_json

if TYPE_CHECKING:
    import subprocess

PROXY_SCRIPT = str(Path(__file__).resolve().parent / "proxy.py")
READY_TIMEOUT = 10.0


@dataclass
class ProxyRecord:
    sandbox: str
    target: str  # the container address the proxy forwards to
    requests: list[PortRequest] = field(default_factory=list)
    ports: list[PublishedPort] = field(default_factory=list)  # as bound, in request order
    chosen: list[int] = field(default_factory=list)  # the host port of each request
    exposed: list[str] = field(default_factory=list)  # "80/tcp", no host binding
    pid: int | None = None
    started: int | None = None  # the pid's start time, in clock ticks since boot
    spawning: bool = False  # set while a proxy may run whose pid is not recorded yet
    pidfile: str | None = None  # the container's (liveness.py); None: ports held while the proxy lives

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProxyRecord:
        return cls(
            sandbox=raw["sandbox"],
            target=raw["target"],
            requests=[_request(r) for r in raw.get("requests", [])],
            ports=[PublishedPort(**p) for p in raw.get("ports", [])],
            chosen=list(raw.get("chosen", [])),
            exposed=list(raw.get("exposed", [])),
            pid=raw.get("pid"),
            started=raw.get("started"),
            spawning=bool(raw.get("spawning")),
            pidfile=raw.get("pidfile"),
        )


def _request(raw: dict[str, Any]) -> PortRequest:
    published = raw.get("published")
    return PortRequest(raw["target"], raw["protocol"], raw["host_ip"],
                       (published[0], published[1]) if published else None)


class ProxyTable:
    """The records under run_root/network/ports, each changed under its own flock (spawning a
    proxy takes a while: the proxies of several containers start in parallel)."""

    def __init__(self, run_root: Path) -> None:
        self._dir = run_root / "network" / "ports"

    def path(self, sandbox_id: str) -> Path:
        return self._dir / f"{sandbox_id}.json"

    def get(self, sandbox_id: str) -> ProxyRecord | None:
        raw = load_json(self.path(sandbox_id))
        return ProxyRecord.from_json(raw) if raw else None

    def alive(self, record: ProxyRecord) -> bool:
        return record.pid is not None and _start_time(record.pid) == record.started

    def start(self, sandbox_id: str, target: str, reservation: Reservation,
              exposed: Sequence[str] = (), pidfile: str | None = None) -> ProxyRecord:
        """Record the ports, then hand the bound sockets to a new proxy (none without ports)."""
        with self._locked(sandbox_id):
            self._stop(self.get(sandbox_id), sandbox_id)
            record = ProxyRecord(sandbox_id, target, list(reservation.requests),
                                 list(reservation.ports), list(reservation.chosen), list(exposed),
                                 pidfile=pidfile)
            self._save(record)
            if reservation.sockets:
                self._spawn(record, reservation)
            return record

    def ensure(self, sandbox_id: str, target: str) -> ProxyRecord | None:
        """Restart the proxy of a recorded sandbox when it is not running (stopped, killed,
        crashed), binding the same host ports again where they are free.

        A proxy whose container is not running (about to be started) is restarted too: it
        may have released the ports at the container's exit, and binding them here makes a
        port taken meanwhile a clear error before the start."""
        with self._locked(sandbox_id):
            record = self.get(sandbox_id)
            if record is None or not record.requests:
                return record
            if self.alive(record) and (record.pidfile is None or liveness.running(record.pidfile)):
                return record
            self._stop(record, sandbox_id)  # a half-recorded proxy, if any
            with reserve(record.requests, record.chosen) as reservation:
                record.target, record.ports = target, list(reservation.ports)
                record.chosen = list(reservation.chosen)
                record.pid = record.started = None
                self._save(record)
                self._spawn(record, reservation)
            return record

    def stop(self, sandbox_id: str) -> None:
        """End the proxy (freeing its host ports) but keep the record, for `ensure`."""
        if not self.path(sandbox_id).exists():
            return
        with self._locked(sandbox_id):
            record = self.get(sandbox_id)
            if record is not None:
                self._stop(record, sandbox_id)
                record.pid = record.started = None
                record.spawning = False
                self._save(record)

    def remove(self, sandbox_id: str) -> None:
        """End the proxy and forget the record; idempotent."""
        if not self.path(sandbox_id).exists():
            return  # a proxy is only ever spawned once its record exists
        with self._locked(sandbox_id):
            self._stop(self.get(sandbox_id), sandbox_id)
            self.path(sandbox_id).unlink(missing_ok=True)
            self.log_path(sandbox_id).unlink(missing_ok=True)
            (self._dir / f".{sandbox_id}.lock").unlink(missing_ok=True)  # callers hold the project lock

    def log_path(self, sandbox_id: str) -> Path:
        return self._dir / f"{sandbox_id}.log"

    @contextmanager
    def _locked(self, sandbox_id: str) -> Iterator[None]:
        with flocked(self._dir / f".{sandbox_id}.lock"):
            yield

    def _save(self, record: ProxyRecord) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        store_json(self.path(record.sandbox), asdict(record), durable=False)

    def _spawn(self, record: ProxyRecord, reservation: Reservation) -> None:
        import subprocess  # only here: read-only commands import this module too

        record.spawning = True
        self._save(record)
        read_end, write_end = os.pipe()
        fds = [s.fileno() for s in reservation.sockets]
        spec = {
            "ready": write_end,
            "target": record.target,
            "pidfile": record.pidfile,
            "listeners": [{"fd": fd, "protocol": p.protocol, "target_port": p.target}
                          for fd, p in zip(fds, reservation.ports, strict=True)],
        }
        argv = [sys.executable, "-I", "-S", PROXY_SCRIPT, str(self.path(record.sandbox)),
                _json(spec)]
        try:
            with open(self.log_path(record.sandbox), "ab") as log:
                # Its own session, as the monitors: no terminal's signals reach it. (Measured
                # under autogroup scheduling on the busy VM: a new connection to a container
                # took 4-6 ms this way, 8-12 ms in the caller's session.)
                proc = subprocess.Popen(argv, pass_fds=[*fds, write_end], stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=log, start_new_session=True)
        finally:
            os.close(write_end)
        try:
            record.pid, record.started = proc.pid, _start_time(proc.pid)
            record.spawning = False
            self._save(record)
            _await_ready(read_end, proc, self.log_path(record.sandbox))
        except BaseException:
            self._stop(record, record.sandbox)
            raise
        finally:
            os.close(read_end)

    def _stop(self, record: ProxyRecord | None, sandbox_id: str) -> None:
        if record is None:
            return
        pids = [record.pid] if record.pid and self.alive(record) else []
        if record.spawning:
            pids += _pids_naming(str(self.path(sandbox_id)))
        for pid in dict.fromkeys(pids):
            _terminate(pid)


def _json(value: object) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _await_ready(fd: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise NetworkError(f"the port proxy did not start within {READY_TIMEOUT:g}s", hint=f"see {log}")
        chunk = os.read(fd, 64)
        if not chunk:
            proc.wait()
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise NetworkError(f"the port proxy failed to start: {tail[0] if tail else 'no output'}",
                               hint=f"see {log}")
        data += chunk


def _pids_naming(text: str) -> list[int]:
    """Processes whose command line contains `text` (a proxy spawned before it was recorded)."""
    needle = text.encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if needle in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid()]


def _terminate(pid: int, grace: float = 2.0) -> None:
    """SIGTERM, then SIGKILL after `grace`; returns once the process is gone (reaped if ours)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    killed = False
    while _start_time(pid) is not None and time.monotonic() < deadline + 5:
        if time.monotonic() > deadline and not killed:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.005)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
