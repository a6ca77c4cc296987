"""Attached `up` and `logs`: several containers' output in one prefixed, coloured stream."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from composer.engine import Engine
from composer.events import Events
from composer.logtime import record_time
from composer.logview import Follower, LogPrinter, LogSource, interleaved, merged
from composer.naming import LABEL_PROJECT, LABEL_SERVICE
from composer.observe import project_containers
from runtime.containers import ContainerState, LogRecord

if TYPE_CHECKING:
    from composer.operations import LoadedProject


def _prefix(state: ContainerState) -> str:
    """Compose prefixes lines with `<service>-<n>`, the container name without the project."""
    service = state.labels.get(LABEL_SERVICE, "")
    project = state.labels.get(LABEL_PROJECT, "")
    if state.name.startswith(f"{project}-{service}-"):
        return state.name.removeprefix(f"{project}-")
    return state.name  # a `container_name:` of the user's


def _sources(engine: Engine, states: list[ContainerState], follow: bool, tail: int | None,
             since: str | None = None, until: str | None = None) -> list[LogSource]:
    def reader(cid: str) -> Callable[[], Iterator[LogRecord]]:
        def records() -> Iterator[LogRecord]:
            for record in engine.containers.logs(cid, follow=follow, tail=tail):
                if (since is None or record.time >= since) and (until is None or record.time < until):
                    yield record
        return records
    return [LogSource(_prefix(s), reader(s.id)) for s in states]


def print_logs(engine: Engine, project: str, services: Sequence[str], *, follow: bool, tail: int | None,
               timestamps: bool, colour: bool, prefix: bool, since: str | None = None,
               until: str | None = None) -> None:
    """`since`/`until` are log-record times (composer.logtime): records in [since, until)."""
    states = project_containers(engine, project, services)
    printer = LogPrinter([_prefix(s) for s in states], colour, timestamps, prefix)
    sources = _sources(engine, states, follow, tail, since, until)
    if not follow:
        for name, record in merged(sources):
            print(printer.format(name, record), flush=False)
        sys.stdout.flush()
        return
    for name, maybe in interleaved(sources):
        if maybe is not None:
            print(printer.format(name, maybe), flush=True)


def attach_until_exit(engine: Engine, loaded: LoadedProject, services: Sequence[str], *, colour: bool,
                      timeout: float | None, since: str | None = None) -> int:
    """Follow the stack's output until every container has exited (0), or until Ctrl-C
    has stopped them (130); a second Ctrl-C stops waiting for them."""
    since = since or log_timestamp()
    states = project_containers(engine, loaded.project.name, services)
    printer = LogPrinter([_prefix(s) for s in states], colour)
    print(f"Attaching to {', '.join(_prefix(s) for s in states)}", flush=True)
    by_prefix = {_prefix(s): s for s in states}
    follower = Follower(_sources(engine, states, True, None, since))
    # Ctrl-C is taken only while waiting for the next line, never in the middle of printing one.
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: follower.interrupt())
    try:
        return _follow_until_exit(engine, loaded, services, follower, printer, by_prefix, timeout)
    finally:
        signal.signal(signal.SIGINT, previous)


def _follow_until_exit(engine: Engine, loaded: LoadedProject, services: Sequence[str], follower: Follower,
                       printer: LogPrinter, by_prefix: dict[str, ContainerState], timeout: float | None) -> int:
    from composer.operations import stop

    stopper: threading.Thread | None = None
    while follower.remaining:
        try:
            name, record = follower.next()
        except KeyboardInterrupt:
            if stopper is not None:
                return 130
            print("Gracefully stopping... (press Ctrl+C again to force)", file=sys.stderr, flush=True)
            stopper = threading.Thread(target=stop, args=(engine, loaded, Events(), services, timeout), daemon=True)
            stopper.start()
            continue
        if record is not None:
            print(printer.format(name, record), flush=True)
        else:
            final = engine.containers.state(by_prefix[name].id)
            print(printer.banner(name, f"exited with code {final.exit_code}"), flush=True)
    if stopper is None:
        return 0
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops waiting
    try:
        stopper.join()
    except KeyboardInterrupt:
        pass
    return 130


def log_timestamp() -> str:
    """Now, in the runtime's log-record time format (so the two compare as strings)."""
    return record_time(datetime.now(UTC))
