"""A pseudo-terminal as PID 1's stdin, stdout, stderr and controlling terminal
(`process.terminal`, e.g. `run` with a TTY): runc's console socket, conmon's relay.

The caller makes a socketpair and hands one end to `ContainerStore.start(console=)`;
the monitor gets it as its stdin (a terminal's PID 1 reads the pty instead). On it the
caller has already written the size of its terminal ("ROWS COLS\\n"; Docker's
ConsoleSize: the command sees the right size from its first instruction). The monitor
opens the pty, sets that size, sends the master back over the socket (SCM_RIGHTS) and
gives PID 1 the slave. It stays the only reader of the master: what it reads goes to the
log, as one stream ("stdout", as Docker logs a TTY's output), and to the caller over the
socket. The caller writes its keystrokes and window sizes to the master directly.

When the caller goes away the monitor drops the socket and keeps the master: the
container runs on and its output is still logged. A start without a console (a
restart, a detached run) gets a pty that only the log reads. The monitor side imports
only os, sys, fcntl, termios and _socket (see monitor.py on why it stays lean).
"""

from __future__ import annotations

import _socket
import fcntl
import os
import sys
import termios

TIOCSCTTY = 0x540E  # Linux <asm-generic/ioctls.h>
SEND_TIMEOUT = 5.0  # seconds a caller may leave its output unread before it is dropped


class Console:
    """The monitor's side for one run of PID 1: the pty's master, the caller's socket."""

    def __init__(self, master: int, slave: int, peer: _socket.socket | None) -> None:
        self.master = master
        self.slave = slave
        self.peer = peer

    @classmethod
    def open(cls, peer_fd: int = 0) -> Console:
        """A new pty; when `peer_fd` is the caller's socket, sized and handed to it.
        `peer_fd` is replaced by /dev/null either way (it is read once)."""
        master, slave = os.openpty()
        peer = _take_socket(peer_fd)
        if peer is not None:
            try:
                peer.settimeout(SEND_TIMEOUT)
                size = _read_line(peer).split()
                if len(size) == 2:
                    set_size(slave, int(size[0]), int(size[1]))
                fd_bytes = master.to_bytes(4, sys.byteorder)
                peer.sendmsg([b"\0"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fd_bytes)])
            except (OSError, ValueError):
                peer.close()  # the caller is gone already: the pty is the log's alone
                peer = None
        return cls(master, slave, peer)

    def forward(self, data: bytes) -> None:
        """What PID 1 wrote, to the caller while it listens."""
        if self.peer is None:
            return
        try:
            self.peer.sendall(data)
        except OSError:  # gone, or not reading: the container runs on without it
            self.close()

    def close(self) -> None:
        """Drop the caller (it sees EOF: PID 1 has exited, or it was too slow)."""
        if self.peer is not None:
            self.peer.close()
            self.peer = None


def take_terminal(slave: int) -> None:
    """In PID 1, a session leader: the pty's slave as fd 0 and controlling terminal."""
    os.dup2(slave, 0)
    fcntl.ioctl(0, TIOCSCTTY, 0)


def set_size(fd: int, rows: int, cols: int) -> None:
    """TIOCSWINSZ on either side of a pty."""
    packed = b"".join(n.to_bytes(2, sys.byteorder) for n in (rows, cols, 0, 0))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, packed)


def _take_socket(fd: int) -> _socket.socket | None:
    """The socket at `fd` (duplicated), `fd` itself then /dev/null; None if no socket."""
    copy = os.dup(fd)
    try:
        sock = _socket.socket(fileno=copy)
    except OSError:  # not a socket (ENOTSOCK)
        os.close(copy)
        return None
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, fd)
    os.close(null)
    if sock.family != _socket.AF_UNIX:
        sock.close()
        return None
    return sock


def _read_line(peer: _socket.socket, limit: int = 64) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = peer.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace")


# --- the caller's side -------------------------------------------------------------------------


def console_pair(rows: int, cols: int) -> tuple[_socket.socket, int]:
    """(our end, the end to pass as `start(console=)`), our terminal's size already sent."""
    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    ours.sendall(f"{rows} {cols}\n".encode())
    return ours, theirs.detach()


def receive_master(ours: _socket.socket) -> int | None:
    """The pty master the monitor sends once PID 1's terminal exists (None: it did not)."""
    space = _socket.CMSG_SPACE(4)
    _data, ancillary, _flags, _addr = ours.recvmsg(1, space, _socket.MSG_CMSG_CLOEXEC)
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(payload) >= 4:
            return int.from_bytes(payload[:4], sys.byteorder)
    return None
