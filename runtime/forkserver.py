"""The fork server: a pre-booted interpreter that forks container monitors.

Booting a Python interpreter and importing the monitor's modules costs about 25 ms, half
of a container start. So the first start in a process spawns this helper once
(`protocol.helper_argv`: `python -I -S`, the monitor's modules imported), and every start
then asks it for a monitor: it forks one in about a millisecond. Monitors it forks share
its pages copy-on-write, so they also cost less memory than exec'd ones.

- Safe to fork: this process is single-threaded and does nothing else (DESIGN rule 3).
- It lives exactly as long as its caller: it exits when the caller's end of the socket
  closes (the caller exited or called `close`). Monitors never depend on it: each is its
  child in a session of its own, reaped here when it exits (SIGCHLD) and reparented to
  init, like an exec'd monitor, once this process is gone.
- Request, one SOCK_SEQPACKET datagram: JSON [data_root, run_root, container_id], and as
  SCM_RIGHTS the report pipe's write end, the go pipe's read end and PID 1's stdin. No
  reply: the monitor reports on the report pipe; a request it cannot serve is answered
  there with an error (or EOF, if it has no report pipe to write to).

Lean like the monitor: `_socket` and `array` rather than `socket` (enum, selectors), since
every monitor it forks inherits its modules.
"""

from __future__ import annotations

import _socket
import array
import os
import sys

from runtime import jsonio, monitor, protocol, signals

_FDS_PER_REQUEST = 3


def main(argv: list[str] | None = None) -> int:
    """argv: the fd of this end of the socket pair."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runtime.forkserver SOCKET_FD", file=sys.stderr)
        return 2
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, int(args[0]))
    monitor.set_comm("pcforkserver")
    signals.signal(signals.SIGCHLD, _reap_monitors)
    while True:
        data, ancdata, _, _ = sock.recvmsg(4096, _socket.CMSG_SPACE(_FDS_PER_REQUEST * 4))
        if not data:
            return 0  # the caller is gone
        fds = _received_fds(ancdata)
        try:
            _fork_monitor(sock, data, fds)
        finally:
            for fd in fds:
                os.close(fd)


def _reap_monitors(_signo: int, _frame: object) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _received_fds(ancdata: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, payload in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return list(fds)


def _fork_monitor(sock: _socket.socket, data: bytes, fds: list[int]) -> None:
    if len(fds) != _FDS_PER_REQUEST:
        return  # no report pipe to answer on: the caller reads EOF
    report_w, go_r, stdin = fds
    try:
        data_root, run_root, container_id = jsonio.loads(data.decode())
        pid = os.fork()
    except (ValueError, TypeError, OSError) as e:  # TypeError: JSON of another shape
        protocol.report_error(report_w, f"the monitor fork server could not fork a monitor: {e}")
        return
    if pid == 0:
        code = 1
        try:
            signals.signal(signals.SIGCHLD, signals.SIG_DFL)
            sock.close()
            _become_detached(stdin)
            code = monitor.main([data_root, run_root, container_id, str(report_w), str(go_r)])
        except BaseException:  # noqa: BLE001,S110 - the monitor reports on its report fd
            pass
        finally:
            os._exit(code)


def _become_detached(stdin: int) -> None:
    """What `subprocess.Popen(start_new_session=True, cwd="/")` gave an exec'd monitor."""
    os.setsid()
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(stdin, 0)
    os.dup2(null, 1)
    os.dup2(null, 2)
    for fd in {null, stdin} - {0, 1, 2}:
        os.close(fd)
