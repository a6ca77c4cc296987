"""Container logs in Docker's json-file format: one JSON object per line.

    {"log": "hello\\n", "stream": "stdout", "time": "2024-05-01T12:00:00.123456789Z"}

The monitor writes them (`LineSplitter` + `LogWriter`, in jsonlog.py so that the monitor
stays lean); `read_log`/`follow_log` read them back for `ContainerStore.logs`.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from runtime.jsonlog import (
    MAX_LINE,
    LineSplitter,
    LogWriter,
    encode_line,
    rfc3339_nano,
    rotated_paths,
)

__all__ = ["MAX_LINE", "LineSplitter", "LogRecord", "LogWriter", "decode_record", "encode_record",
           "follow_log", "read_log", "rfc3339_nano"]

Stream = Literal["stdout", "stderr"]
FOLLOW_POLL = 0.05  # seconds between looks at a followed log that has no new data


@dataclass(frozen=True)
class LogRecord:
    time: str  # RFC 3339 with nanoseconds, UTC
    stream: Stream
    line: str  # one line, with its trailing newline if it had one


def encode_record(record: LogRecord) -> bytes:
    return encode_line(record.line, record.stream, record.time)


def decode_record(raw: bytes | str) -> LogRecord:
    data = json.loads(raw)
    stream = data.get("stream")
    if stream not in ("stdout", "stderr") or not isinstance(data.get("log"), str):
        raise ValueError(f"not a json-file log record: {raw!r}")
    return LogRecord(time=str(data.get("time", "")), stream=stream, line=data["log"])


def _read_complete(path: str, into: deque[LogRecord]) -> bytes:
    """Append the file's complete records to `into`; return its unfinished last line."""
    partial = b""
    try:
        with open(path, "rb") as f:
            for raw in f:
                if raw.endswith(b"\n"):
                    into.append(decode_record(raw))
                else:
                    partial = raw
    except FileNotFoundError:
        pass  # rotated away meanwhile
    return partial


def read_log(path: Path, tail: int | None = None) -> list[LogRecord]:
    """Every complete record in the log and its rotated files (the last `tail` if given)."""
    records: deque[LogRecord] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
    for name in [*rotated_paths(str(path)), str(path)]:
        _read_complete(name, records)
    return list(records)


def _open(path: Path) -> BinaryIO | None:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _replaced(f: BinaryIO, path: Path) -> bool:
    """The log was rotated: `path` is no longer the file `f` reads."""
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return True


def _inode(name: str) -> int | None:
    try:
        return os.stat(name).st_ino
    except FileNotFoundError:
        return None


def _open_next(f: BinaryIO, path: Path) -> BinaryIO | None:
    """The file the writer went on with after the one `f` reads (its rotated successor,
    even if further rotations happened meanwhile); None if it does not exist yet."""
    ours = os.fstat(f.fileno()).st_ino
    for _ in range(10):  # a rotation between looking and opening: look again
        chain = [*rotated_paths(str(path)), str(path)]
        inodes = [_inode(name) for name in chain]
        after = inodes.index(ours) + 1 if ours in inodes else 0  # ours dropped: the oldest left
        if after >= len(chain):
            return None
        successor = _open(Path(chain[after]))
        if successor is None:
            return None
        if os.fstat(successor.fileno()).st_ino == inodes[after]:
            return successor
        successor.close()
    return None


def _split(partial: bytes, chunk: bytes) -> tuple[list[LogRecord], bytes]:
    lines = (partial + chunk).split(b"\n")
    rest = lines.pop()
    return [decode_record(raw) for raw in lines if raw], rest


class _Reader:
    """The reading end of a followed log: one open file, moved on across rotations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO | None = None
        self.partial = b""

    def backlog(self, tail: int | None) -> list[LogRecord] | None:
        """The (last `tail`) records there already; None when there is no log at all."""
        records: deque[LogRecord] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
        for name in rotated_paths(str(self.path)):
            _read_complete(name, records)
        self.file = _open(self.path)
        if self.file is None:
            return list(records) if records else None
        for raw in self.file:
            if raw.endswith(b"\n"):
                records.append(decode_record(raw))
            else:
                self.partial = raw
        return list(records)

    def read(self) -> list[LogRecord] | None:
        """New records (maybe none, when only part of a line came); None at the end for now."""
        if self.file is None:
            self.file, self.partial = _open(self.path), b""
            if self.file is None:  # between a rotation's rename and the new file
                return None
        chunk = self.file.read(65536)
        if not chunk and _replaced(self.file, self.path):
            # The writer closes a file before rotating it: one more read drains it.
            chunk = self.file.read(65536)
            successor = None if chunk else _open_next(self.file, self.path)
            if successor is not None:
                self.file.close()
                self.file, self.partial = successor, b""
                return []
        if not chunk:
            return None
        records, self.partial = _split(self.partial, chunk)
        return records

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def follow_log(path: Path, running: Callable[[], bool], tail: int | None = None) -> Iterator[LogRecord]:
    """Yield the (last `tail`) records, then new ones as they come, until `running()` is
    false and the log is drained. Follows the log across rotations (records dropped by
    `max-file` before they were read are lost, as with Docker)."""
    reader = _Reader(path)
    try:
        backlog = reader.backlog(tail)
        if backlog is None:
            return
        yield from backlog
        finished = False
        while True:
            records = reader.read()
            if records is not None:
                yield from records
                continue
            if finished:
                return
            # At the end: if the container has exited, one more pass drains what it wrote last.
            if not running():
                finished = True
                continue
            time.sleep(FOLLOW_POLL)
    finally:
        reader.close()
