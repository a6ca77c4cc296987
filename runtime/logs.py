"""Container logs in Docker's json-file format: one JSON object per line.

    {"log": "hello\\n", "stream": "stdout", "time": "2024-05-01T12:00:00.123456789Z"}

The monitor writes them (`LineSplitter` + `LogWriter`); `read_log`/`follow_log` read
them back for `ContainerStore.logs`.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Stream = Literal["stdout", "stderr"]
MAX_LINE = 16 * 1024  # like Docker: longer lines are split into several records
FOLLOW_POLL = 0.05  # seconds between looks at a followed log that has no new data


@dataclass(frozen=True)
class LogRecord:
    time: str  # RFC 3339 with nanoseconds, UTC
    stream: Stream
    line: str  # one line, with its trailing newline if it had one


def rfc3339_nano(ns: int | None = None) -> str:
    """UTC time with nanoseconds, as Docker writes it: 2024-05-01T12:00:00.123456789Z."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def encode_record(record: LogRecord) -> bytes:
    return (json.dumps({"log": record.line, "stream": record.stream, "time": record.time}) + "\n").encode()


def decode_record(raw: bytes | str) -> LogRecord:
    data = json.loads(raw)
    stream = data.get("stream")
    if stream not in ("stdout", "stderr") or not isinstance(data.get("log"), str):
        raise ValueError(f"not a json-file log record: {raw!r}")
    return LogRecord(time=str(data.get("time", "")), stream=stream, line=data["log"])


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

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: Stream, lines: list[str]) -> None:
        if not lines:
            return
        now = rfc3339_nano()
        data = b"".join(encode_record(LogRecord(now, stream, line)) for line in lines)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def close(self) -> None:
        os.close(self._fd)


def read_log(path: Path, tail: int | None = None) -> list[LogRecord]:
    """Every complete record in the log (the last `tail` if given); [] if there is no log."""
    records: deque[LogRecord] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
    try:
        with open(path, "rb") as f:
            for raw in f:
                if raw.endswith(b"\n"):
                    records.append(decode_record(raw))
    except FileNotFoundError:
        return []
    return list(records)


def follow_log(path: Path, running: Callable[[], bool], tail: int | None = None) -> Iterator[LogRecord]:
    """Yield the (last `tail`) records, then new ones as they come, until `running()` is
    false and the log is drained."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        backlog: deque[LogRecord] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
        partial = b""
        for raw in f:  # what is there already; only the last `tail` are kept
            if raw.endswith(b"\n"):
                backlog.append(decode_record(raw))
            else:
                partial = raw
        yield from backlog
        finished = False
        while True:
            chunk = f.read(65536)
            if chunk:
                lines = (partial + chunk).split(b"\n")
                partial = lines.pop()
                for raw in lines:
                    if raw:
                        yield decode_record(raw)
                continue
            if finished:
                return
            # At EOF: if the container has exited, one more pass drains what it wrote last.
            if not running():
                finished = True
                continue
            time.sleep(FOLLOW_POLL)
