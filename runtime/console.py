"""A pseudo-terminal as PID 1's stdin, stdout, stderr and controlling terminal
(`process.terminal`, e.g. `run` with a TTY): runc's console socket, conmon's relay.

The caller makes a socketpair and hands one end to `ContainerStore.start(console=)`;
the monitor gets it as its stdin (a terminal's PID 1 reads the pty instead). On it the
caller has already written the size of its terminal ("ROWS COLS\\n"; Docker's
ConsoleSize: the command sees the right size from its first instruction).

PID 1 opens the pty in the container's own devpts once its root filesystem is ready
and it is in its cgroup (as runc does: `tty` names /dev/pts/0, the devices cgroup
applies), sizes it, makes the slave its stdio and controlling terminal and sends the
master to the monitor over a socketpair (SCM_RIGHTS) before it execs. The monitor sends
the master on to the caller and stays its only reader: what it reads goes to the log,
as one stream ("stdout", as Docker logs a TTY's output), and to the caller over the
socket. The caller writes its keystrokes and window sizes to the master directly.

When the caller goes away the monitor drops the socket and keeps the master: the
container runs on and its output is still logged. A start without a console (a
restart, a detached run) gets a pty that only the log reads. This module imports only
os, sys, fcntl, termios and _socket (see monitor.py on why the monitor stays lean).
"""

from __future__ import annotations

import _socket
import fcntl
import os
import sys
import termios

TIOCSCTTY = 0x540E  # Linux <asm-generic/ioctls.h>
TIOCGPTN = 0x80045430  # _IOR('T', 0x30, unsigned int): the pty's number
TIOCSPTLCK = 0x40045431  # _IOW('T', 0x31, int): (un)lock the slave, as unlockpt(3)
SEND_TIMEOUT = 5.0  # seconds a caller may leave its output unread before it is dropped


class Console:
    """The monitor's side for one run of PID 1: the caller's socket and the pty's master."""

    def __init__(self, peer: _socket.socket | None, size: str) -> None:
        self.peer = peer
        self.size = size  # "ROWS COLS", or "" when the caller gave none
        self.pid1: _socket.socket | None = None

    @classmethod
    def prepare(cls, peer_fd: int = 0) -> Console:
        """Take the caller's console socket at `peer_fd`, if it is one, and its size;
        `peer_fd` is replaced by /dev/null either way (it is read once)."""
        peer = _take_socket(peer_fd)
        size = ""
        if peer is not None:
            try:
                peer.settimeout(SEND_TIMEOUT)
                size = _read_line(peer).strip()
            except OSError:
                peer.close()
                peer = None
        return cls(peer, size)

    def pid1_end(self) -> int:
        """A new socketpair's end for PID 1 (`become_terminal`), the size already on it."""
        mine, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        mine.sendall(f"{self.size}\n".encode())
        self.pid1 = mine
        return theirs.detach()

    def receive(self) -> int | None:
        """After PID 1's exec: the master it sent, also sent on to the caller (None: no
        master came, PID 1 failed first)."""
        assert self.pid1 is not None
        try:
            master = receive_master(self.pid1)
        finally:
            self.pid1.close()
            self.pid1 = None
        if master is not None and self.peer is not None:
            try:
                _send_fd(self.peer, master)
            except OSError:  # the caller is gone already: the pty is the log's alone
                self.close()
        return master

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
        for sock in (self.peer, self.pid1):
            if sock is not None:
                sock.close()
        self.peer = self.pid1 = None


# --- PID 1's side ----------------------------------------------------------------------------


def become_terminal(monitor_fd: int, uid: int) -> None:
    """In PID 1, a session leader whose root is the container's: a pty of its devpts as
    stdin, stdout, stderr and controlling terminal, owned by the user it is about to
    become (runc's fixStdioPermissions); the master goes to the monitor."""
    slave = hand_over_pty(monitor_fd)
    os.fchown(slave, uid, -1)
    take_terminal(slave)
    for fd in (1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def hand_over_pty(monitor_fd: int, dev: str = "/dev") -> int:
    """A new pty of `dev`'s devpts, sized as the monitor says, its master sent to the
    monitor over `monitor_fd` (closed then); the slave."""
    monitor = _socket.socket(fileno=monitor_fd)
    try:
        size = _read_line(monitor).split()
        master = os.open(f"{dev}/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            fcntl.ioctl(master, TIOCSPTLCK, bytes(4))
            number = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, bytes(4)), sys.byteorder)
            slave = os.open(f"{dev}/pts/{number}", os.O_RDWR | os.O_NOCTTY)
            if len(size) == 2:
                set_size(slave, int(size[0]), int(size[1]))
            _send_fd(monitor, master)
        finally:
            os.close(master)
    finally:
        monitor.close()
    return slave


def take_terminal(slave: int) -> None:
    """In a session leader: the pty's slave as fd 0 and controlling terminal."""
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


def _read_line(sock: _socket.socket, limit: int = 64) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = sock.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace")


def _send_fd(sock: _socket.socket, fd: int) -> None:
    sock.sendmsg([b"\0"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])


# --- the caller's side -------------------------------------------------------------------------


def console_pair(rows: int, cols: int) -> tuple[_socket.socket, int]:
    """(our end, the end to pass as `start(console=)`), our terminal's size already sent."""
    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    ours.sendall(f"{rows} {cols}\n".encode())
    return ours, theirs.detach()


def receive_master(sock: _socket.socket) -> int | None:
    """The pty master sent over `sock` (None: the sender closed without one)."""
    space = _socket.CMSG_SPACE(4)
    try:
        _data, ancillary, _flags, _addr = sock.recvmsg(1, space, _socket.MSG_CMSG_CLOEXEC)
    except ConnectionResetError:  # closed with what we sent it unread
        return None
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(payload) >= 4:
            return int.from_bytes(payload[:4], sys.byteorder)
    return None
