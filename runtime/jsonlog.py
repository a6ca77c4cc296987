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
    """Appends records to the container's json-file log (O_APPEND, one write per batch)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: Stream, lines: list[str]) -> None:
        if not lines:
            return
        now = rfc3339_nano()
        data = b"".join(encode_line(line, stream, now) for line in lines)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def close(self) -> None:
        os.close(self._fd)
