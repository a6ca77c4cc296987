"""Which containers of the zones are running, for the DNS server (see network/liveness.py).

An entry with a pidfile is served only while the run its pidfile names is alive: a pidfd
per live run tells the server the moment it ends, and a watch on each pidfile's directory
(on the server's inotify fd) the moment a new run begins.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import replace

from network import inotify, liveness
from network.dns.records import Zone

PIDFILE_EVENTS = inotify.IN_MOVED_TO | inotify.IN_CLOSE_WRITE | inotify.IN_DELETE | inotify.IN_MOVED_FROM


class Runs:
    def __init__(self, loop: asyncio.AbstractEventLoop, notify_fd: int, changed: Callable[[], None],
                 log: Callable[[str], None] = print) -> None:
        self._loop = loop
        self._log = log
        self._unwatched: set[str] = set()  # directories inotify refused (logged once)
        self._notify = notify_fd
        self._changed = changed  # called when a run ends
        self._pidfds: dict[str, int] = {}  # pidfile -> pidfd of its live run
        self._watches: dict[str, int] = {}  # directory -> watch descriptor
        self._names: dict[int, set[str]] = {}  # watch descriptor -> pidfile names in it

    def track(self, zones: Iterable[Zone]) -> list[Zone]:
        """Follow the pidfiles of these zones' entries; the zones with only the entries of
        running containers (and those without a pidfile) left."""
        zones = list(zones)
        wanted = {e.pidfile for z in zones for e in z.entries if e.pidfile}
        for pidfile in set(self._pidfds) - wanted:
            self._forget(pidfile)
        self._watch({os.path.dirname(p) for p in wanted}, wanted)
        self._open_runs(wanted)
        return self._running(zones)

    def revive(self, zones: Iterable[Zone]) -> list[Zone] | None:
        """Look again, now, at the pidfiles of the entries not served: the zones with the
        running entries when a run began since the last `track`, else None. A query for such a
        name can come before the pidfile's inotify event has been handled (right after `start`)."""
        zones = list(zones)
        wanted = {e.pidfile for z in zones for e in z.entries if e.pidfile}
        return self._running(zones) if self._open_runs(wanted) else None

    def _open_runs(self, pidfiles: set[str]) -> bool:
        """Follow the live runs of these pidfiles not followed yet; whether there was one."""
        found = False
        for pidfile in sorted(pidfiles - self._pidfds.keys()):
            fd = liveness.open_run(pidfile)
            if fd is not None:
                self._pidfds[pidfile] = fd
                self._loop.add_reader(fd, self._ended, pidfile)
                found = True
        return found

    def _running(self, zones: list[Zone]) -> list[Zone]:
        return [replace(z, entries=tuple(e for e in z.entries if not e.pidfile or e.pidfile in self._pidfds))
                for z in zones]

    def concerns(self, wd: int, name: str) -> bool:
        """Whether an inotify event is about one of the followed pidfiles."""
        return name in self._names.get(wd, ())

    def dropped(self, wd: int) -> bool:
        """The kernel dropped a watch (its directory was deleted): whether it was one of ours,
        forgotten now so that the next `track` watches the directory again if it is back."""
        directory = next((d for d, w in self._watches.items() if w == wd), None)
        if directory is None:
            return False
        del self._watches[directory]
        self._names.pop(wd, None)
        return True

    def close(self) -> None:
        for pidfile in list(self._pidfds):
            self._forget(pidfile)
        for wd in self._watches.values():
            inotify.remove_watch(self._notify, wd)
        self._watches.clear()
        self._names.clear()

    def _watch(self, directories: set[str], pidfiles: set[str]) -> None:
        for directory in set(self._watches) - directories:
            inotify.remove_watch(self._notify, self._watches.pop(directory))
        self._names = {}
        self._unwatched &= directories
        for directory in sorted(directories):
            try:
                wd = self._watches.get(directory) or inotify.add_watch(self._notify, directory, PIDFILE_EVENTS)
            except OSError as error:
                # ENOENT: a container removed meanwhile, not running. Otherwise (ENOSPC: the
                # host's watches used up; EACCES) its runs are still followed by their pidfds,
                # and a new run is seen when its name is asked for (revive) or at a reload.
                if error.errno != errno.ENOENT and directory not in self._unwatched:
                    self._log(f"cannot watch {directory} ({error.strerror}): its new runs are "
                              "seen at the next query or reload")
                self._unwatched.add(directory)
                continue
            self._unwatched.discard(directory)
            self._watches[directory] = wd
            self._names.setdefault(wd, set())
        for pidfile in pidfiles:
            watched = self._watches.get(os.path.dirname(pidfile))
            if watched is not None:
                self._names[watched].add(os.path.basename(pidfile))

    def _ended(self, pidfile: str) -> None:
        self._forget(pidfile)
        self._changed()

    def _forget(self, pidfile: str) -> None:
        fd = self._pidfds.pop(pidfile)
        self._loop.remove_reader(fd)
        os.close(fd)
