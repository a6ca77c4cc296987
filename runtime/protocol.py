"""The two tiny wire formats between the processes of one container.

1. child → monitor, on a CLOEXEC "sync" pipe, one JSON object per line:
   the intermediate child sends {"pid": N} (PID 1's host pid) and PID 1 sends
   {"error": "...", "exit_code": 127} if setup or exec fails. EOF with no error
   means PID 1 has exec'd: the pipe closed on exec.
2. monitor → `ContainerStore.start`, on the report pipe, one text line:
   "started pid N" or "error <message>". EOF without a line means the monitor died.
"""

from __future__ import annotations

import os
import sys

from runtime import jsonio, signals
from runtime.errors import ContainerError

# Helpers run as `python -I -S`: isolated, and without `site`, whose .pth files (editable
# installs, vendored CA bundles...) would cost ~5 MB of PSS and ~60 ms of start-up in
# every monitor. The helpers need only the standard library and `runtime`, so the
# directory holding `runtime` is put on sys.path explicitly. `__import__`, not importlib:
# the helpers' whole import closure is kept to cheap standard modules (see monitor.py).
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); __import__(sys.argv[2]); m = sys.modules[sys.argv[2]]; "
    "del sys.argv[1:3]; sys.exit(m.main())"
)
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def helper_argv(module: str, *args: str) -> list[str]:
    """The command line running `module`'s main() (runtime.forkserver, runtime.exec)."""
    return [sys.executable, "-I", "-S", "-c", _BOOT, _PACKAGE_ROOT, module, *args]


class SyncResult:
    """What the monitor learnt from the sync pipe once it reached EOF."""

    __slots__ = ("pid", "error", "exit_code")

    def __init__(self, pid: int | None, error: str | None, exit_code: int | None) -> None:
        self.pid = pid
        self.error = error
        self.exit_code = exit_code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyncResult) and (self.pid, self.error, self.exit_code) == (
            other.pid, other.error, other.exit_code)

    def __repr__(self) -> str:
        return f"SyncResult(pid={self.pid!r}, error={self.error!r}, exit_code={self.exit_code!r})"


def send_pid(fd: int, pid: int) -> None:
    write_all(fd, (jsonio.dumps({"pid": pid}) + "\n").encode())


def send_error(fd: int, message: str, exit_code: int) -> None:
    write_all(fd, (jsonio.dumps({"error": message, "exit_code": exit_code}) + "\n").encode())


def read_sync(fd: int, earlier: tuple[bytes, ...] = ()) -> SyncResult:
    """Read the sync pipe to EOF and fold its messages, after `earlier` ones already read
    (the first error wins)."""
    return _fold([*earlier, *_read_to_eof(fd).splitlines()])


def read_until_pid(fd: int) -> tuple[int | None, tuple[bytes, ...]]:
    """The messages up to and including the pid one (None: EOF came first, e.g. an error),
    read a byte at a time so nothing after it is consumed."""
    lines: list[bytes] = []
    line = bytearray()
    while byte := os.read(fd, 1):
        if byte != b"\n":
            line += byte
            continue
        lines.append(bytes(line))
        pid = _fold([bytes(line)]).pid
        if pid is not None:
            return pid, tuple(lines)
        line.clear()
    if line:
        lines.append(bytes(line))
    return None, tuple(lines)


def _fold(lines: list[bytes]) -> SyncResult:
    pid = error = code = None
    for raw in lines:
        line = raw.decode("utf-8", "replace")
        if not line.strip():
            continue
        try:
            msg = jsonio.loads(line)
        except ValueError:
            error = error or f"garbled message from the container's init: {line!r}"
            continue
        if "pid" in msg:
            pid = int(msg["pid"])
        if "error" in msg and error is None:
            error, code = str(msg["error"]), int(msg.get("exit_code", 1))
    return SyncResult(pid, error, code)


def report_started(fd: int, pid: int) -> None:
    write_all(fd, f"started pid {pid}\n".encode())


def report_error(fd: int, message: str) -> None:
    one_line = " ".join(message.split())
    write_all(fd, f"error {one_line}\n".encode())


def parse_report(data: bytes) -> tuple[int | None, str | None]:
    """(pid, None) on success, (None, message) on failure."""
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("started pid "):
        return int(text.split()[2]), None
    if text.startswith("error "):
        return None, text[len("error "):]
    if not text:
        return None, "the container monitor exited without reporting whether the container started"
    return None, f"unexpected report from the container monitor: {text!r}"


def read_report(fd: int) -> tuple[int | None, str | None]:
    return parse_report(_read_to_eof(fd))


def _read_to_eof(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def signal_number(name: str | int) -> int:
    """"SIGTERM", "TERM", "term" or "15" → 15; ContainerError for anything else."""
    text = str(name).strip().upper()
    if text.isdigit() and 0 < int(text) < signals.NSIG:
        return int(text)
    number = signals.by_name(text if text.startswith("SIG") else f"SIG{text}")
    if number is None:
        raise ContainerError(f"unknown signal {name!r}: use a name such as SIGTERM or a number")
    return number
