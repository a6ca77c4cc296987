"""Several containers' logs as one stream: `web-1  | line`, coloured per service like Compose."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from runtime.containers import LogRecord

# Compose's rotation of ANSI colours for service prefixes.
_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


@dataclass(frozen=True)
class LogSource:
    prefix: str  # "web-1"
    records: Callable[[], Iterator[LogRecord]]


class LogPrinter:
    def __init__(self, prefixes: list[str], colour: bool, timestamps: bool = False, prefix: bool = True) -> None:
        self.width = max((len(p) for p in prefixes), default=0)
        self.colours = {p: _COLOURS[i % len(_COLOURS)] for i, p in enumerate(sorted(prefixes))}
        self.colour = colour
        self.timestamps = timestamps
        self.prefix = prefix

    def format(self, prefix: str, record: LogRecord) -> str:
        text = record.line.rstrip("\n")
        if self.timestamps:
            text = f"{record.time} {text}"
        if not self.prefix:
            return text
        head = f"{prefix.ljust(self.width)}  | "
        if self.colour:
            head = f"\x1b[{self.colours.get(prefix, '0')}m{head}\x1b[0m"
        return head + text

    def banner(self, prefix: str, text: str) -> str:
        """Compose's own lines in the log stream, e.g. `web-1 exited with code 0`."""
        return f"\x1b[{self.colours.get(prefix, '0')}m{prefix} {text}\x1b[0m" if self.colour else f"{prefix} {text}"


def merged(sources: list[LogSource]) -> Iterator[tuple[str, LogRecord]]:
    """All records of finished logs, ordered by time."""
    collected = [(record, source.prefix) for source in sources for record in source.records()]
    collected.sort(key=lambda item: item[0].time)
    for record, prefix in collected:
        yield prefix, record


_INTERRUPT = LogRecord(time="", stream="stdout", line="")  # compared by identity


class Follower:
    """Follow several logs at once from threads; `next()` survives a KeyboardInterrupt.

    A plain generator would be closed by Ctrl-C; attached `up` has to keep printing
    while the stack stops (the containers' last words and their exit codes).
    `interrupt()` may be called from a signal handler: the queue is a SimpleQueue,
    whose put() is reentrant, and `next()` turns the marker into KeyboardInterrupt at
    a point of the caller's choosing rather than wherever the signal happened to land.
    """

    def __init__(self, sources: list[LogSource]) -> None:
        self._lines: queue.SimpleQueue[tuple[str, LogRecord | None]] = queue.SimpleQueue()
        self.remaining = len(sources)
        for source in sources:
            threading.Thread(target=self._pump, args=(source,), daemon=True).start()

    def _pump(self, source: LogSource) -> None:
        try:
            for record in source.records():
                self._lines.put((source.prefix, record))
        finally:
            self._lines.put((source.prefix, None))

    def interrupt(self) -> None:
        """Make the pending or next `next()` raise KeyboardInterrupt (signal-handler safe)."""
        self._lines.put(("", _INTERRUPT))

    def next(self) -> tuple[str, LogRecord | None]:
        """The next line, or (prefix, None) when that log ended; blocks."""
        item = self._lines.get()
        if item[1] is _INTERRUPT:
            raise KeyboardInterrupt
        if item[1] is None:
            self.remaining -= 1
        return item


def interleaved(sources: list[LogSource]) -> Iterator[tuple[str, LogRecord | None]]:
    """Follow several logs at once; yields (prefix, None) when one of them ends."""
    follower = Follower(sources)
    while follower.remaining:
        yield follower.next()
