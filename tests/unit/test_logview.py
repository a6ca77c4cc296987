"""The merged log stream of attached `up` and `logs -f`."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from composer.logview import Follower, LogPrinter, LogSource
from runtime.logs import LogRecord


def _source(prefix: str, lines: list[str], gate: threading.Event | None = None) -> LogSource:
    def records() -> Iterator[LogRecord]:
        for i, line in enumerate(lines):
            yield LogRecord(time=f"2026-01-01T00:00:0{i}.000000000Z", stream="stdout", line=line + "\n")
        if gate is not None:
            gate.wait(10)
    return LogSource(prefix, records)


def test_follower_ends_each_source_with_none() -> None:
    follower = Follower([_source("a-1", ["x", "y"]), _source("b-1", [])])
    seen = []
    while follower.remaining:
        seen.append(follower.next())
    assert [(p, r.line if r else None) for p, r in seen if p == "a-1"] == [("a-1", "x\n"), ("a-1", "y\n"), ("a-1", None)]
    assert ("b-1", None) in seen


def test_interrupt_raises_at_next_and_lines_keep_coming_after() -> None:
    gate = threading.Event()
    follower = Follower([_source("a-1", ["x"], gate)])
    assert follower.next()[1] is not None
    follower.interrupt()
    with pytest.raises(KeyboardInterrupt):
        follower.next()
    gate.set()
    assert follower.next() == ("a-1", None)
    assert follower.remaining == 0


def test_interrupt_from_a_real_signal_handler_wakes_a_blocked_next() -> None:
    gate = threading.Event()
    follower = Follower([_source("a-1", [], gate)])
    previous = signal.signal(signal.SIGINT, lambda *_: follower.interrupt())
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            follower.next()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
        gate.set()


def test_printer_pads_prefixes_and_colours_only_when_asked() -> None:
    record = LogRecord(time="t", stream="stdout", line="hello\n")
    plain = LogPrinter(["web-1", "db-100"], colour=False)
    assert plain.format("web-1", record) == "web-1   | hello"
    coloured = LogPrinter(["web-1"], colour=True)
    assert coloured.format("web-1", record).startswith("\x1b[")
    assert LogPrinter(["web-1"], colour=False, prefix=False).format("web-1", record) == "hello"
