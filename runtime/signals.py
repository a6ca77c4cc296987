"""Signal numbers and functions for the helper processes, without `import signal`.

`signal.py` is a thin layer over the C module `_signal` whose only addition is wrapping
numbers and handlers in IntEnums: importing it pulls in enum, functools and collections,
≈7 ms per process under `python -I -S` (measured with -X importtime). The monitor and
the exec helper use `_signal` directly through this module; type checkers, which have no
stub for `_signal`, see the same names in `signal`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _source
    from signal import (
        NSIG,
        SIG_DFL,
        SIG_IGN,
        SIG_SETMASK,
        SIGCHLD,
        SIGHUP,
        SIGINT,
        SIGKILL,
        SIGPIPE,
        SIGQUIT,
        SIGTERM,
        SIGUSR1,
        SIGXFSZ,
        pthread_sigmask,
        set_wakeup_fd,
        signal,
    )
else:
    import _signal as _source
    from _signal import (
        NSIG,
        SIG_DFL,
        SIG_IGN,
        SIG_SETMASK,
        SIGCHLD,
        SIGHUP,
        SIGINT,
        SIGKILL,
        SIGPIPE,
        SIGQUIT,
        SIGTERM,
        SIGUSR1,
        SIGXFSZ,
        pthread_sigmask,
        set_wakeup_fd,
        signal,
    )

__all__ = [
    "NSIG", "SIGCHLD", "SIGHUP", "SIGINT", "SIGKILL", "SIGPIPE", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGXFSZ",
    "SIG_DFL", "SIG_IGN", "SIG_SETMASK", "by_name", "pthread_sigmask", "set_wakeup_fd", "signal",
]


def by_name(name: str) -> int | None:
    """The number of "SIGTERM"-style names, as `signal.Signals[name]` (so not SIG_DFL...)."""
    if not name.startswith("SIG") or name.startswith("SIG_"):
        return None
    number = getattr(_source, name, None)
    return number if isinstance(number, int) else None
