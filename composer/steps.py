"""One reported step: progress before and after, and host errors turned into ApplyErrors."""

from __future__ import annotations

from collections.abc import Callable

from composer.errors import ApplyError, PycomposeError
from composer.events import Events
from network.errors import NetworkError
from runtime.errors import ContainerError

# What the layers below raise; composer reports them as ApplyError, in one line.
HOST_ERRORS = (ContainerError, NetworkError)


def run_step(events: Events, kind: str, name: str, statuses: tuple[str, str], work: Callable[[], object]) -> None:
    """Report `statuses[0]`, do the work, report `statuses[1]`; host errors become one-line ApplyErrors."""
    events.progress(kind, name, statuses[0])
    try:
        work()
    except HOST_ERRORS as error:
        events.progress(kind, name, "Error")
        text = str(error)  # runtime and network messages often name the container already
        raise ApplyError(text if name in text else f"{kind.lower()} {name}: {text}") from error
    except PycomposeError:
        events.progress(kind, name, "Error")
        raise
    events.progress(kind, name, statuses[1])
