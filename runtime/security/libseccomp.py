"""A small ctypes binding to libseccomp (Debian's libseccomp2), enough to compile a filter.

Why ctypes and not Debian's `python3-seccomp`: that module is a C extension built for
Debian's /usr/bin/python3; the project runs on pyenv's Python (and in venvs), which cannot
import it, and PyPI has no wheel of it. libseccomp's C API is small and stable (these
calls exist since 2.x), so a dozen foreign functions do. Each raises OSError with the
negative errno libseccomp returns.
"""

from __future__ import annotations

import ctypes
import os

SONAME = "libseccomp.so.2"
ATTR_CTL_NNP = 3  # enum scmp_filter_attr: let the caller set no_new_privs, as runc does
ATTR_CTL_OPTIMIZE = 8  # 2 = a binary tree of syscalls instead of a linear list (libseccomp >= 2.5)
NR_SCMP_ERROR = -1  # what seccomp_syscall_resolve_name returns for an unknown name


class ArgCmp(ctypes.Structure):
    """struct scmp_arg_cmp."""

    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        try:
            loaded = ctypes.CDLL(SONAME, use_errno=True)
        except OSError as e:
            raise OSError(2, f"{SONAME} is not installed (Debian package libseccomp2): {e}") from None
        loaded.seccomp_init.restype = ctypes.c_void_p
        loaded.seccomp_init.argtypes = [ctypes.c_uint32]
        loaded.seccomp_release.argtypes = [ctypes.c_void_p]
        loaded.seccomp_arch_resolve_name.restype = ctypes.c_uint32
        loaded.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
        loaded.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        loaded.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        loaded.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
        loaded.seccomp_arch_native.restype = ctypes.c_uint32
        loaded.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                                  ctypes.POINTER(ArgCmp)]
        loaded.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        loaded.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        _lib = loaded
    return _lib


def _check(ret: int, what: str) -> int:
    if ret < 0:
        raise OSError(-ret, f"libseccomp {what}: {os.strerror(-ret)}")
    return ret


class Context:
    """A filter being built (scmp_filter_ctx); `close` releases it."""

    def __init__(self, default_action: int) -> None:
        self.lib = lib()
        self.ctx = self.lib.seccomp_init(ctypes.c_uint32(default_action))
        if not self.ctx:
            raise OSError(22, "libseccomp seccomp_init: invalid default action")

    def set_attr(self, attr: int, value: int) -> None:
        _check(self.lib.seccomp_attr_set(self.ctx, attr, value), f"seccomp_attr_set({attr})")

    def add_arch(self, name: str) -> None:
        """`name` as in SCMP_ARCH_X86_64; an arch already present (the native one) is fine."""
        ret = self.lib.seccomp_arch_add(self.ctx, arch_token(name))
        if ret != -17:  # EEXIST
            _check(ret, f"seccomp_arch_add({name})")

    def add_rule(self, action: int, syscall: int, args: tuple[tuple[int, int, int, int], ...] = ()) -> None:
        array = (ArgCmp * max(len(args), 1))(*(ArgCmp(i, op, a, b) for i, op, a, b in args))
        _check(self.lib.seccomp_rule_add_array(self.ctx, action, syscall, len(args), array), "seccomp_rule_add")

    def export_bpf(self) -> bytes:
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            _check(self.lib.seccomp_export_bpf(self.ctx, fd), "seccomp_export_bpf")
            size = os.lseek(fd, 0, os.SEEK_END)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self.ctx:
            self.lib.seccomp_release(self.ctx)
            self.ctx = None


def resolve_syscall(name: str) -> int:
    """The native syscall number, or a negative pseudo-number libseccomp maps per arch;
    NR_SCMP_ERROR when libseccomp does not know the name."""
    return int(lib().seccomp_syscall_resolve_name(name.encode()))


def arch_token(name: str) -> int:
    """libseccomp's number for an architecture named as in SCMP_ARCH_X86_64: the kernel's
    AUDIT_ARCH_ value, except for x32 (which the kernel reports as x86_64)."""
    token = int(lib().seccomp_arch_resolve_name(name.removeprefix("SCMP_ARCH_").lower().encode()))
    if token == 0:
        raise OSError(22, f"libseccomp: unknown architecture {name}")
    return token


def native_arch() -> int:
    """The token of the architecture libseccomp was built for (always in a new filter)."""
    return int(lib().seccomp_arch_native())


def resolve_syscall_arch(token: int, name: str) -> int:
    """`name`'s number on architecture `token` (x32 numbers carry the x32 bit); negative
    when the arch lacks it (a pseudo-number) or libseccomp does not know it."""
    return int(lib().seccomp_syscall_resolve_name_arch(token, name.encode()))
