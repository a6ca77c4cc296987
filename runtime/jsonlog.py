"""The writing side of the json-file log, as the monitor runs it (reading is in logs.py).

One record per line, byte-for-byte what `json.dumps` writes for Docker's json-file format:
    {"log": "hello\\n", "stream": "stdout", "time": "2024-05-01T12:00:00.123456789Z"}
Kept apart from logs.py so the monitor imports neither `json` nor dataclasses (≈20 ms of
imports under `python -I -S`); strings are escaped by `_json`, the C code `json` uses.
"""

from __future__ import annotations

import os
import time
from _json import encode_basestring_ascii as _escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    Stream = Literal["stdout", "stderr"]

MAX_LINE = 16 * 1024  # like Docker: longer lines are split into several records


def rfc3339_nano(ns: int | None = None) -> str:
    """UTC time with nanoseconds, as Docker writes it: 2024-05-01T12:00:00.123456789Z."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def encode_line(line: str, stream: str, when: str) -> bytes:
    return f'{{"log": {_escape(line)}, "stream": {_escape(stream)}, "time": {_escape(when)}}}\n'.encode()


class LineSplitter:
    """Cuts a byte stream into lines; keeps the unfinished tail until more data or `flush`."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buf = b""
        self._max = max_line

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        lines: list[str] = []
        while True:
            cut = self._buf.find(b"\n", 0, self._max)
            if cut < 0:
                if len(self._buf) < self._max:
                    return lines
                cut = self._max - 1  # no newline within max_line: a partial record
            lines.append(self._buf[: cut + 1].decode("utf-8", "replace"))
            self._buf = self._buf[cut + 1:]

    def flush(self) -> list[str]:
        rest, self._buf = self._buf, b""
        return [rest.decode("utf-8", "replace")] if rest else []


class LogWriter:
    """Appends records to the container's json-file log (O_APPEND, one write per batch).

    With `max_size` the log rotates as Docker's json-file driver does (`max-size`,
    `max-file`): before a write that would take the file past `max_size`, `log` becomes
    `log.1` (`log.1` becomes `log.2`, ... the oldest beyond `max_files - 1` is dropped)
    and a new `log` begins. With `max_files == 1` the old records are simply dropped.
    Readers find the rotated files with `rotated_paths`.
    """

    def __init__(self, path: str, max_size: int | None = None, max_files: int = 1) -> None:
        self._path = path
        self._max_size = max_size if max_size is not None and max_size > 0 else None
        self._max_files = max(1, max_files)
        self._open()

    def _open(self) -> None:
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, stream: Stream, lines: list[str]) -> None:
        if not lines:
            return
        now = rfc3339_nano()
        if self._max_size is None:
            self._append(b"".join(encode_line(line, stream, now) for line in lines))
            return
        # Rotation is decided record by record (a batch may hold more than max_size).
        batch: list[bytes] = []
        pending = 0
        for line in lines:
            record = encode_line(line, stream, now)
            if self._size + pending > 0 and self._size + pending + len(record) > self._max_size:
                self._append(b"".join(batch))
                batch, pending = [], 0
                self._rotate()
            batch.append(record)
            pending += len(record)
        self._append(b"".join(batch))

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self._size += len(data)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self._max_files == 1:
            os.unlink(self._path)
        else:
            for n in range(self._max_files - 1, 1, -1):
                try:
                    os.replace(f"{self._path}.{n - 1}", f"{self._path}.{n}")
                except FileNotFoundError:
                    pass
            os.replace(self._path, f"{self._path}.1")
        self._open()

    def close(self) -> None:
        os.close(self._fd)


def rotated_paths(path: str) -> list[str]:
    """The rotated files of the log at `path`, oldest first (`log.3`, `log.2`, `log.1`)."""
    directory, base = os.path.split(path)
    numbers = []
    try:
        names = os.listdir(directory or ".")
    except FileNotFoundError:
        return []
    for name in names:
        suffix = name[len(base) + 1:] if name.startswith(base + ".") else ""
        if suffix.isdigit():
            numbers.append(int(suffix))
    return [f"{path}.{n}" for n in sorted(numbers, reverse=True)]
