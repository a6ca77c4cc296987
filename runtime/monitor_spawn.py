"""Spawning a container's monitor: forked by this process's fork server (runtime/forkserver.py).

The fork server is started on the first spawn and serves every later one; it is stopped
and reaped when this process exits (and exits by itself if this process dies). A spawn
only sends a request (thread-safe: `up` prepares many starts at once); the monitor, or
the server if it cannot fork one, answers on the report pipe.
"""

from __future__ import annotations

import atexit
import errno
import os
import socket
import subprocess
import threading

from runtime import jsonio, protocol
from runtime.errors import ContainerError

_SERVER_GONE = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ECONNREFUSED)


class ForkServer:
    """The caller's side of one fork server process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._exit_hook = False

    def spawn_monitor(self, data_root: str, run_root: str, container_id: str,
                      report_w: int, go_r: int, stdin: int) -> None:
        """Ask for a monitor for `container_id`; the server takes copies of the three fds."""
        request = jsonio.dumps([data_root, run_root, container_id]).encode()
        with self._lock:
            for attempt in (1, 2):
                sock = self._running()
                try:
                    socket.send_fds(sock, [request], [report_w, go_r, stdin])
                    return
                except OSError as e:
                    if e.errno not in _SERVER_GONE:  # e.g. EBADF: one of our own fds is bad
                        raise ContainerError(f"cannot pass the container monitor its files: {e.strerror or e}") from e
                    self._close_locked()  # the server died: start a new one, once
                    if attempt == 2:
                        raise ContainerError(f"cannot reach the monitor fork server: {e.strerror or e}") from e

    def close(self) -> None:
        """Stop the server (EOF on its socket); the monitors it forked live on."""
        with self._lock:
            self._close_locked()

    def _running(self) -> socket.socket:
        if self._sock is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self._proc = subprocess.Popen(
                    protocol.helper_argv("runtime.forkserver", str(theirs.fileno())),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True, pass_fds=(theirs.fileno(),), cwd="/",
                )
            except OSError as e:
                ours.close()
                raise ContainerError(f"cannot start the monitor fork server: {e.strerror or e}") from e
            except BaseException:
                ours.close()
                raise
            finally:
                theirs.close()
            self._sock = ours
            if not self._exit_hook:
                atexit.register(self.close)  # reaped before this process exits: nothing lingers
                self._exit_hook = True
        return self._sock

    def _close_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)  # it exits on EOF once its current request is served
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


_server = ForkServer()
_server_pid = os.getpid()


def fork_server() -> ForkServer:
    """This process's fork server (a child made by fork gets its own)."""
    global _server, _server_pid
    if _server_pid != os.getpid():
        _server, _server_pid = ForkServer(), os.getpid()
    return _server
