"""Container logs in Docker's json-file format: one JSON object per line.

    {"log": "hello\\n", "stream": "stdout", "time": "2024-05-01T12:00:00.123456789Z"}

The monitor writes them (`LineSplitter` + `LogWriter`, in jsonlog.py so that the monitor
stays lean); `read_log`/`follow_log` read them back for `ContainerStore.logs`.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runtime.jsonlog import MAX_LINE, LineSplitter, LogWriter, encode_line, rfc3339_nano

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
