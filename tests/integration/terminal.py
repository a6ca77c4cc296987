"""Drive the CLI from a pseudo-terminal, as a user at a terminal would."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from tests.integration.stackkit import Stack


class TerminalSession:
    """The CLI with a pty of `rows`x`cols` as its stdin, stdout and stderr."""

    def __init__(self, stack: Stack, *args: str, rows: int = 30, cols: int = 100) -> None:
        self.master, slave = os.openpty()
        self.slave = slave
        self.resize(rows, cols, notify=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "composer", "-p", stack.project, *args],
            cwd=stack.directory, env=stack.roots.env(), stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
        )
        self.output = b""
        self.closed = False

    def write(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def resize(self, rows: int, cols: int, notify: bool = True) -> None:
        """Resize the CLI's terminal; SIGWINCH to it, as the kernel does to a terminal's
        foreground process group (the CLI is not the session's: it has no controlling tty)."""
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if notify:
            self.process.send_signal(signal.SIGWINCH)

    def expect(self, text: str, timeout: float = 60) -> str:
        """Read until `text` has appeared; all the output so far."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} never came; output: {self.output.decode(errors='replace')!r}")
        return self.output.decode(errors="replace")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Read to the end; (exit code, output)."""
        deadline = time.monotonic() + timeout
        if self.slave >= 0:
            os.close(self.slave)  # EIO on the master once the CLI and its children close it too
            self.slave = -1
        while self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(timeout=30), self.output.decode(errors="replace")

    def _read(self, left: float) -> bool:
        """One chunk of output; False at the end of it (or of the time)."""
        while left > 0 and not self.closed:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every holder of the slave closed it
                    chunk = b""
                if not chunk:
                    self.closed = True
                    return False
                self.output += chunk
                return True
            if self.process.poll() is not None:  # nothing left to read, and nobody to write more
                return False
            left -= 0.2
        return False

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
