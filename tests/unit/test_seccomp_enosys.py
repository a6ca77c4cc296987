"""runc's ENOSYS stub: syscalls newer than the profile get ENOSYS, the rest what the profile says.

Decisions are read from the compiled program itself with a BPF interpreter (seccomp_sim),
so these tests check the bytes a container loads, without loading them.
"""

from __future__ import annotations

import errno

import pytest

from runtime import jsonio
from runtime.security import enosys
from runtime.security.caps import DEFAULT_CAPABILITIES
from runtime.security.profile import ACT_ALLOW, ACT_ERRNO, resolve
from runtime.security.seccomp import DEFAULT_PROFILE, compile_bpf
from tests.unit.seccomp_sim import run, seccomp_data

X86_64, I386, AARCH64, S390X = 0xC000003E, 0x40000003, 0xC00000B7, 0x80000016
X32_BIT = 0x40000000
EPERM, ENOSYS = ACT_ERRNO | errno.EPERM, ACT_ERRNO | errno.ENOSYS
FUTEX_WAITV = 449  # the newest syscall Docker's vendored profile names (x86_64 and i386 alike)


def default_program(capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES) -> bytes:
    resolved = resolve(jsonio.read_json(DEFAULT_PROFILE), "x86_64", capabilities, (6, 1))
    assert resolved is not None
    return compile_bpf(resolved)


def decide(program: bytes, nr: int, arch: int = X86_64) -> int:
    return run(program, seccomp_data(nr, arch))


def test_the_default_profile_answers_unknown_syscalls_with_enosys_on_x86_64() -> None:
    program = default_program()
    assert decide(program, 0) == ACT_ALLOW  # read
    assert decide(program, 163) == EPERM  # acct: known to the profile, denied
    assert decide(program, 435) == ENOSYS  # clone3: the profile's own rule
    assert decide(program, FUTEX_WAITV) == ACT_ALLOW
    for nr in (FUTEX_WAITV + 1, 453, 1000, 0xFFFFFFFF):
        assert decide(program, nr) == ENOSYS, nr


def test_each_sub_architecture_has_its_own_largest_number() -> None:
    program = default_program()
    assert decide(program, 3, I386) == ACT_ALLOW  # read on i386
    assert decide(program, 51, I386) == EPERM  # acct on i386
    assert decide(program, FUTEX_WAITV + 1, I386) == ENOSYS
    # x32 shares x86_64's AUDIT_ARCH; its numbers carry bit 30 and run up to its compat calls (547)
    assert decide(program, X32_BIT | 0, X86_64) == ACT_ALLOW
    assert decide(program, X32_BIT | 548, X86_64) == ENOSYS
    assert decide(program, 0, AARCH64) == 0  # an architecture the filter lacks: libseccomp kills


def test_without_the_stub_the_same_calls_get_eperm() -> None:
    resolved = resolve(jsonio.read_json(DEFAULT_PROFILE), "x86_64", DEFAULT_CAPABILITIES, (6, 1))
    assert resolved is not None
    patched = compile_bpf(resolved)
    stub = enosys.encode(enosys.stub(enosys.largest_syscalls(resolved)))
    assert patched.startswith(stub) and len(stub) > 0
    assert decide(patched[len(stub):], 1000) == EPERM  # libseccomp's program alone


def test_allowing_or_enosys_defaults_get_no_stub() -> None:
    for default in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"):
        profile = {"defaultAction": default, "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
        resolved = resolve(profile, "x86_64", (), (6, 1))
        assert resolved is not None and not enosys.needs_stub(resolved.default_action)
        assert decide(compile_bpf(resolved), 1000) == resolved.default_action
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": errno.ENOSYS,
               "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
    resolved = resolve(profile, "x86_64", (), (6, 1))
    assert resolved is not None and not enosys.needs_stub(resolved.default_action)


def test_the_largest_number_counts_every_rule_and_the_native_arch() -> None:
    # No architectures listed: the filter still has the native one, and so does the stub.
    profile = {"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["openat2", "no_such_call"], "action": "SCMP_ACT_KILL_PROCESS"}]}  # default action: skipped by libseccomp
    resolved = resolve(profile, "x86_64", (), (6, 1))
    assert resolved is not None
    assert enosys.largest_syscalls(resolved) == {X86_64: {X86_64: 437}}  # openat2
    program = compile_bpf(resolved)
    assert decide(program, 437) == 0x80000000 and decide(program, 438) == ENOSYS and decide(program, 2) == 0x80000000


def test_x86_64_alone_leaves_x32_numbers_to_the_filter() -> None:
    stub = enosys.encode(enosys.stub({X86_64: {X86_64: 10}}) + [(enosys.RET_K, 0, 0, 0x7FFF0001)])
    assert run(stub, seccomp_data(11, X86_64)) == ENOSYS
    assert run(stub, seccomp_data(10, X86_64)) == 0x7FFF0001  # fell through to the "filter"
    assert run(stub, seccomp_data(X32_BIT | 11, X86_64)) == 0x7FFF0001


def test_s390_multiplexed_unknown_calls_arrive_as_setup_and_get_enosys() -> None:
    stub = enosys.encode(enosys.stub({S390X: {S390X: 400}}) + [(enosys.RET_K, 0, 0, 0x7FFF0001)])
    assert [run(stub, seccomp_data(nr, S390X)) for nr in (0, 3, 400, 401)] == [ENOSYS, 0x7FFF0001, 0x7FFF0001, ENOSYS]
    assert run(stub, seccomp_data(0, X86_64)) == 0x7FFF0001  # another arch: the filter decides


def test_a_profile_naming_no_known_syscall_gets_no_stub() -> None:
    assert enosys.stub({}) == []
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["no_such_call"], "action": "SCMP_ACT_ALLOW"}]}
    resolved = resolve(profile, "x86_64", (), (6, 1))
    assert resolved is not None and enosys.largest_syscalls(resolved) == {}


@pytest.mark.parametrize("nr", [0, 39, 57, 231])  # read, getpid, fork, exit_group
def test_the_stub_changes_nothing_below_the_largest(nr: int) -> None:
    program = default_program()
    resolved = resolve(jsonio.read_json(DEFAULT_PROFILE), "x86_64", DEFAULT_CAPABILITIES, (6, 1))
    assert resolved is not None
    stub_len = 8 * len(enosys.stub(enosys.largest_syscalls(resolved)))
    assert decide(program, nr) == decide(program[stub_len:], nr)
