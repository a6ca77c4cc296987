"""Run a command inside a running container (`docker exec`).

The caller may have threads, so it never forks: `run_exec` starts a fresh helper,
`python -I -S ... runtime.exec SPEC STATUS_FD` (protocol.helper_argv), which inherits the caller's stdin, stdout
and stderr. The single-threaded helper:
  1. joins PID 1's cgroup (every hierarchy; on v1 through `tasks`, see cgroups/joined.py),
     so the command is limited like the container;
  2. opens all of PID 1's namespace files, checks PID 1 is still the same process (pid
     reuse), then setns()es into ipc, uts, net, cgroup (if the container has one), pid and
     mnt last (after mnt, host paths such as /proc/<pid>/ns mean something else);
  3. forks the command's process: only children enter a joined pid namespace. It
     resolves the user in the container's /etc/passwd and gets the container's
     confinement as runc exec gives it (security/process.py: no_new_privs, capabilities
     around the user change, seccomp; the program is read before step 2), then execs.
     A privileged exec gets every capability, the container's seccomp and no_new_privs;
  4. waits for it and exits with its exit code (128+signo when signalled).
A failure to enter is written to STATUS_FD (the caller raises it); a failure to exec is
printed on stderr with Docker's exit codes, 126 (cannot execute) and 127 (not found).
"""

from __future__ import annotations

import os
import sys

from runtime import init, jsonio, limits, protocol, signals, syscalls
from runtime.configview import read_config
from runtime.errors import ContainerError
from runtime.records import exit_code_from_status, process_start_time
from runtime.security import seccomp
from runtime.security.process import finalize, prepare

TYPE_CHECKING = False  # the helper's imports stay as lean as the monitor's (see monitor.py)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from runtime.configview import ConfigView
    from runtime.security.process import Prepared

ENTER_FAILED = 125
# ipc, uts, net, cgroup, pid, then mnt last (see the module docstring).
NAMESPACE_ORDER = ("ipc", "uts", "network", "cgroup", "pid", "mount")


class ExecSpec:
    """What the caller hands the helper, as JSON on its command line."""

    __slots__ = ("config_path", "pid", "pid_start", "join_files", "args", "env", "cwd", "user", "tty",
                 "privileged")

    def __init__(self, config_path: str, pid: int, pid_start: int, join_files: tuple[str, ...],
                 args: tuple[str, ...], env: tuple[str, ...], cwd: str, user: str | None,
                 tty: bool = False, privileged: bool = False) -> None:
        self.config_path = config_path
        self.pid = pid
        self.pid_start = pid_start
        self.join_files = join_files
        self.args = args
        self.env = env
        self.cwd = cwd
        self.user = user
        self.tty = tty  # stdin is a pty slave: the command gets it as its controlling terminal
        self.privileged = privileged

    def to_json(self) -> str:
        return jsonio.dumps({name: getattr(self, name) for name in self.__slots__})

    @classmethod
    def from_json(cls, text: str) -> ExecSpec:
        d = jsonio.loads(text)
        return cls(
            config_path=str(d["config_path"]), pid=int(d["pid"]), pid_start=int(d["pid_start"]),
            join_files=tuple(d["join_files"]), args=tuple(d["args"]), env=tuple(d["env"]),
            cwd=str(d["cwd"]), user=d["user"], tty=bool(d.get("tty", False)),
            privileged=bool(d.get("privileged", False)),
        )


def merge_env(base: Sequence[str], extra: Sequence[str]) -> list[str]:
    """The container's environment with `extra` entries overriding by name."""
    merged: dict[str, str] = {}
    for entry in (*base, *extra):
        merged[entry.split("=", 1)[0]] = entry
    return list(merged.values())


def run_exec(spec: ExecSpec) -> int:
    """Caller side: start the helper with our stdio (or a new pty relayed to it, with
    `spec.tty`), wait, return the command's exit code."""
    import subprocess  # caller side only: the helper itself must not pay for it

    status_r, status_w = os.pipe()
    master = slave = -1
    try:
        encoded = spec.to_json()
        if spec.tty:
            from runtime import terminal

            master, slave = terminal.open_pty()
        stdio = slave if slave >= 0 else None
        proc = subprocess.Popen(
            protocol.helper_argv("runtime.exec", encoded, str(status_w)),
            pass_fds=(status_w,), cwd="/", stdin=stdio, stdout=stdio, stderr=stdio,
        )
        os.close(status_w)
        status_w = -1
        if slave >= 0:
            os.close(slave)
            slave = -1
            terminal.relay(master, lambda: proc.poll() is not None)
        code = proc.wait()
        error = os.read(status_r, 65536).decode("utf-8", "replace").strip()
    finally:
        for fd in (status_r, status_w, master, slave):
            if fd >= 0:
                os.close(fd)
    if error:
        raise ContainerError(error)
    return code


def enter(spec: ExecSpec, config: ConfigView) -> None:
    """Steps 1-2, in the helper."""
    for path in spec.join_files:  # "0": this single-threaded helper moves itself in
        with open(path, "w") as f:
            f.write("0")
    wanted = {ns.type for ns in config.namespaces} | {"ipc", "uts", "network", "pid", "mount"}
    fds = []
    try:
        for ns_type in NAMESPACE_ORDER:
            if ns_type in wanted:
                path = f"/proc/{spec.pid}/ns/{syscalls.NAMESPACE_FILES[ns_type]}"
                fds.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), ns_type, path))
        if process_start_time(spec.pid) != spec.pid_start:
            raise ContainerError("the container exited while the command was being started")
        for fd, ns_type, path in fds:
            syscalls.setns(fd, syscalls.NAMESPACE_FLAGS[ns_type], path)
    finally:
        for fd, _, _ in fds:
            os.close(fd)


def run_command(spec: ExecSpec, config: ConfigView, confinement: Prepared) -> None:
    """Step 3, in the command's process (inside the container). Never returns normally."""
    if spec.tty:
        from runtime.terminal import (
            take_controlling_terminal,  # imported before entering: see main()
        )

        take_controlling_terminal()
    process = config.process
    user = init.process_user(process, spec.user or process.user_spec)
    try:
        os.chdir(spec.cwd)
    except OSError as e:
        raise init.ExecError(f"chdir to cwd ({spec.cwd!r}) set in config.json failed: {(e.strerror or '').lower()}", 126) from e
    limits.apply_rlimits(process.rlimits)  # as Docker, whose exec reuses the container's process spec
    finalize(confinement, lambda: init.drop_privileges(user))
    os.closerange(3, 1 << 16)
    init.execve(spec.args, init.with_home(spec.env, user.home))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = ExecSpec.from_json(args[0])
    status_fd = int(args[1])
    os.set_inheritable(status_fd, False)
    if spec.tty:  # after entering, the container's mount namespace no longer has our code
        import runtime.terminal  # noqa: F401
    try:
        config = read_config(spec.config_path)
        bpf_path = os.path.join(os.path.dirname(spec.config_path), seccomp.BPF_FILE)
        confinement = prepare(config.security, bpf_path, all_capabilities=spec.privileged)
        enter(spec, config)
    except (OSError, ValueError, ContainerError) as e:
        message = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        os.write(status_fd, f"cannot enter the container: {message}".encode())
        return ENTER_FAILED
    for sig in (signals.SIGINT, signals.SIGQUIT):  # the terminal sends these to the command too
        signals.signal(sig, signals.SIG_IGN)
    child = os.fork()
    if child == 0:
        try:
            run_command(spec, config, confinement)
        except init.ExecError as e:
            _die(str(e), e.code)
        except BaseException as e:  # noqa: BLE001 - the child must never return into main()
            _die(str(e), 126)
    for sig in (signals.SIGTERM, signals.SIGHUP):
        signals.signal(sig, lambda signo, _frame: os.kill(child, signo))
    _, status = os.waitpid(child, 0)
    return exit_code_from_status(status)


def _die(message: str, code: int) -> None:
    try:
        os.write(2, f"pycompose exec: {message}\n".encode())
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
