"""In a real container, a syscall newer than the seccomp profile fails with ENOSYS (runc's
stub), one the profile denies with EPERM, and one it allows runs.

busybox cannot make an arbitrary syscall, so the container gets the host's Python
(its install and the system libraries, bind-mounted read-only) and calls syscall(2)
through ctypes from inside, under the container's own filter.
"""

from __future__ import annotations

import errno
import json
import os
import sys

from runtime.security.profile import kernel_version
from tests.integration.stackkit import Stack

PYTHON = os.path.realpath(sys.executable)
PREFIX = os.path.realpath(sys.base_prefix)
SLEEPER = json.dumps(["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"])
# (number, arguments) → the errno the call ends with; each call fails fast on bad arguments.
PROBE = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
for nr, *args in [[int(a) for a in spec.split(",")] for spec in sys.argv[1:]]:
    ctypes.set_errno(0)
    libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    print(ctypes.get_errno())
"""
FCHMODAT2 = "452,-1,0,0,0"  # Linux 6.6: newer than the profile (its newest is futex_waitv, 449)
UNASSIGNED = "1000"  # no kernel has it
ACCT = "163,1"  # in the profile, denied without CAP_SYS_PACCT
FCHMOD = "91,-1,0"  # allowed: the kernel answers EBADF


def probe(s: Stack, service: str, *calls: str) -> list[int]:
    result = s.exec(service, PYTHON, "-I", "-c", PROBE, *calls)
    return [int(line) for line in result.stdout.split()]


def test_syscalls_newer_than_the_profile_get_enosys_in_a_container(stack: Stack) -> None:
    mounts = [f"{PREFIX}:{PREFIX}:ro", "/usr:/usr:ro", "/usr/lib:/lib:ro", "/usr/lib64:/lib64:ro"]
    service = {"image": "busybox", "command": json.loads(SLEEPER), "volumes": mounts}
    stack.write(json.dumps({"services": {
        "box": service, "open": {**service, "security_opt": ["seccomp=unconfined"]}}}))
    stack.run("up", "-d")
    assert probe(stack, "box", FCHMODAT2, UNASSIGNED, ACCT, FCHMOD) == [
        errno.ENOSYS, errno.ENOSYS, errno.EPERM, errno.EBADF]
    # Unconfined, the kernel itself answers.
    unconfined = probe(stack, "open", FCHMODAT2, UNASSIGNED, FCHMOD)
    assert unconfined[1:] == [errno.ENOSYS, errno.EBADF]
    if kernel_version(os.uname().release) >= (6, 6):
        assert unconfined[0] == errno.EFAULT  # it exists here (NULL path): the stub, not the kernel, said ENOSYS
