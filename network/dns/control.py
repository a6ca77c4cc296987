"""Starting, finding and stopping the embedded DNS server of one run root.

    run_root/network/dns/
        zones/        one JSON file per network (see zones.py)
        server.pid    the server's pid; the server holds an flock on it while it lives
        server.json   {"pid", "listening": [gateways]}, rewritten after every reload
        server.log    the server's stderr
        start.lock    held while starting or stopping, so two `up`s never start two

Never forks: the server is spawned with sys.executable (isolated mode, no PYTHONPATH).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from network.errors import NetworkError
from network.state import flocked, read_json

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Isolated (-I: no PYTHONPATH, no user site) but with `site`, where dnslib lives; the
# directory holding `network` goes first, so the server runs the caller's own code.
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); __import__(sys.argv[2]); m = sys.modules[sys.argv[2]]; "
    "del sys.argv[1:3]; sys.exit(m.main())"
)
START_TIMEOUT = 30.0  # generous: a loaded or emulated machine (tests/vm) starts Python slowly
STOP_TIMEOUT = 5.0


class DnsServerError(NetworkError):
    """The embedded DNS server could not be started."""


@dataclass(frozen=True)
class Layout:
    directory: Path

    @property
    def zones(self) -> Path:
        return self.directory / "zones"

    @property
    def pidfile(self) -> Path:
        return self.directory / "server.pid"

    @property
    def status(self) -> Path:
        return self.directory / "server.json"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def start_lock(self) -> Path:
        return self.directory / "start.lock"


def server_pid(layout: Layout) -> int | None:
    """The running server's pid, or None: a server is running exactly while it holds the
    flock on its pidfile (a pid alone could be reused by another process)."""
    try:
        fd = os.open(layout.pidfile, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode().strip()
            return int(text) if text.isdigit() else None
        return None
    finally:
        os.close(fd)


def start_server(layout: Layout, upstreams: Sequence[str] = ()) -> subprocess.Popen[bytes] | None:
    """Spawn the server unless one runs, without waiting for it (its boot then overlaps
    other work); pass the result to `ensure_server` later. None: one was running."""
    layout.zones.mkdir(parents=True, exist_ok=True)
    with flocked(layout.start_lock):
        return _spawn(layout, upstreams) if server_pid(layout) is None else None


def ensure_server(layout: Layout, gateways: Iterable[str], upstreams: Sequence[str] = (),
                  spawned: subprocess.Popen[bytes] | None = None) -> int:
    """Start the server unless it runs (or `spawned` is booting); return once it listens
    on every one of `gateways`.

    `upstreams` (IP[:PORT]) replace the host's resolv.conf for a newly started server.
    """
    wanted = set(gateways)
    layout.zones.mkdir(parents=True, exist_ok=True)
    with flocked(layout.start_lock):
        pid = server_pid(layout)
        process = None
        if pid is None:
            booting = spawned is not None and spawned.poll() is None
            process = spawned if booting and spawned is not None else _spawn(layout, upstreams)
            pid = process.pid
        return _await_listening(layout, pid, wanted, process)


def _spawn(layout: Layout, upstreams: Sequence[str]) -> subprocess.Popen[bytes]:
    layout.status.unlink(missing_ok=True)
    argv = [sys.executable, "-I", "-c", _BOOT, _PACKAGE_ROOT, "network.dns.server", str(layout.directory)]
    for upstream in upstreams:
        argv += ["--upstream", upstream]
    with open(layout.log, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                close_fds=True, start_new_session=True, cwd="/")


def _await_listening(layout: Layout, pid: int, wanted: set[str],
                     process: subprocess.Popen[bytes] | None) -> int:
    """The pid of the server once it listens on `wanted`."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        status = read_json(layout.status)
        if status.get("pid") == pid and wanted <= set(status.get("listening", ())):
            return pid
        if process is not None and process.poll() is not None:
            other = server_pid(layout)
            if other is None:
                raise DnsServerError(f"the DNS server exited at start: {_tail(layout.log)}")
            pid, process = other, None  # it lost the pidfile lock to a server started meanwhile
        if time.monotonic() > deadline:
            missing = ", ".join(sorted(wanted - set(status.get("listening", ()))))
            raise DnsServerError(f"the DNS server does not listen on {missing or '?'} after {START_TIMEOUT:.0f}s: "
                                 f"{_tail(layout.log)}", hint=f"see {layout.log}")
        time.sleep(0.005)


def stop_server(layout: Layout) -> None:
    """Stop the server (SIGTERM, then SIGKILL) and remove its files; idempotent."""
    if not layout.directory.is_dir():
        return
    with flocked(layout.start_lock):
        pid = server_pid(layout)
        if pid is not None:
            _terminate(layout, pid)
        for path in (layout.pidfile, layout.status, layout.log):
            path.unlink(missing_ok=True)
        try:
            layout.zones.rmdir()
        except OSError:
            pass
    for path in (layout.start_lock, layout.directory / "zones.lock"):
        path.unlink(missing_ok=True)
    try:
        layout.directory.rmdir()
    except OSError:
        pass  # a zone appeared meanwhile: the next `up` uses the directory


def _terminate(layout: Layout, pid: int) -> None:
    for signum, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while server_pid(layout) is not None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        else:
            return


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


def parse_upstream(text: str) -> tuple[str, int]:
    """("10.0.0.2", 53) from "10.0.0.2", "10.0.0.2:5353", "[fd00::1]:53" or "fd00::1"."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        return host, int(port.lstrip(":") or 53)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, 53


def resolv_conf_upstreams(text: str) -> list[tuple[str, int]]:
    """The `nameserver` lines of a resolv.conf."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append((words[1].split("%")[0], 53))
    return found
