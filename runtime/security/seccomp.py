"""Compile a resolved seccomp filter to BPF (libseccomp) and load it into this process.

Compiling happens before pivot_root (libseccomp and the default profile live on the
host); loading is one prctl in the container process, the last step before execve (or
before dropping capabilities when no_new_privs is off: see process.py). Like runc's
`InitSeccomp`: syscalls libseccomp does not know are skipped (the running kernel may
not have them either), rules whose action is the default one are skipped (libseccomp
refuses them), and a rule whose conditions repeat an argument index becomes one rule
per condition (libseccomp cannot AND two conditions on one argument).
"""

from __future__ import annotations

import ctypes
import os

TYPE_CHECKING = False  # loading a program runs in the lean monitor: compiling imports lazily
if TYPE_CHECKING:
    from typing import Any

    from runtime.security import libseccomp
    from runtime.security.profile import Filter, Rule

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def compile_bpf(resolved: Filter) -> bytes:
    """The classic-BPF program (struct sock_filter array) for `resolved`, with runc's
    ENOSYS stub for syscalls newer than the profile in front (see enosys.py)."""
    from runtime.security import enosys, libseccomp

    ctx = libseccomp.Context(resolved.default_action)
    try:
        ctx.set_attr(libseccomp.ATTR_CTL_NNP, 0)
        try:
            ctx.set_attr(libseccomp.ATTR_CTL_OPTIMIZE, 2)
        except OSError:
            pass  # libseccomp < 2.5: a linear filter, same decisions
        for arch in resolved.arches:
            ctx.add_arch(arch)
        for rule in resolved.rules:
            _add(ctx, rule, resolved.default_action)
        return enosys.patch(ctx.export_bpf(), resolved)
    finally:
        ctx.close()


def _add(ctx: libseccomp.Context, rule: Rule, default_action: int) -> None:
    from runtime.security import libseccomp

    if rule.action == default_action:
        return
    indexes = [arg[0] for arg in rule.args]
    groups = [(arg,) for arg in rule.args] if len(set(indexes)) < len(indexes) else [rule.args]
    for name in rule.names:
        number = libseccomp.resolve_syscall(name)
        if number == libseccomp.NR_SCMP_ERROR:
            continue
        for args in groups:
            ctx.add_rule(rule.action, number, args)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_bpf(program: bytes) -> None:
    """Install `program` as this process's seccomp filter (inherited across fork and exec)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(ctypes.c_int(_PR_SET_SECCOMP), ctypes.c_ulong(_SECCOMP_MODE_FILTER), ctypes.byref(prog),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"loading the seccomp filter: {os.strerror(err)}")


# --- which program a container gets --------------------------------------------------------

DEFAULT_PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "default.json")
BPF_FILE = "seccomp.bpf"  # in the container's data dir, next to config.json


def filter_for(seccomp: str | dict[str, Any], capabilities: tuple[str, ...]) -> Filter | None:
    """The container's filter on this host; None for "unconfined" (or an empty profile)."""
    from runtime.security.profile import ProfileError, kernel_version, resolve

    if seccomp == "unconfined":
        return None
    if seccomp == "default":
        from runtime import jsonio

        profile = jsonio.read_json(DEFAULT_PROFILE)
    elif isinstance(seccomp, dict):
        profile = seccomp
    else:
        raise ProfileError(f'seccomp must be "default", "unconfined" or a profile, not {seccomp!r}')
    uname = os.uname()
    return resolve(profile, uname.machine, capabilities, kernel_version(uname.release))


_cache_lock = None  # a threading.Lock, made on first use (apply creates containers in threads)


def cached_bpf(resolved: Filter, cache_dir: str) -> bytes:
    """`compile_bpf`, through a cache of programs by content: libseccomp takes tens of ms
    for Docker's profile (three x86 ABIs), and every container of a host mostly shares one.
    Thread-safe; other processes see a program whole or not at all (temp file, rename)."""
    global _cache_lock
    import hashlib
    import tempfile
    import threading

    from runtime import jsonio

    key = jsonio.dumps(["enosys-stub", os.uname().machine, os.uname().release, resolved.default_action, resolved.arches,
                        [[r.names, r.action, r.args] for r in resolved.rules]])
    path = os.path.join(cache_dir, hashlib.sha256(key.encode()).hexdigest() + ".bpf")
    if _cache_lock is None:
        _cache_lock = threading.Lock()
    with _cache_lock:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            pass
        program = compile_bpf(resolved)
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(program)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return program


def program_for(seccomp: str | dict[str, Any], capabilities: tuple[str, ...], bpf_path: str) -> bytes | None:
    """The program to load: the one compiled at create time, else compiled now (a container
    created before its config had a program). Runs before pivot_root/setns."""
    if seccomp == "unconfined":
        return None
    try:
        with open(bpf_path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        resolved = filter_for(seccomp, capabilities)
        return compile_bpf(resolved) if resolved is not None else None
