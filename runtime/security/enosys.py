"""ENOSYS, not the profile's EPERM, for syscalls newer than the profile (runc's patchbpf).

A default-deny profile answers every syscall it does not list with its default errno
(EPERM for Docker's). For a syscall the profile's authors never heard of — one added
to the kernel after the profile was written — that is the wrong answer: glibc and musl
fall back to an older call on ENOSYS ("this kernel lacks it") but report EPERM to the
program. runc therefore prepends a stub to libseccomp's program
(libcontainer/seccomp/patchbpf/enosys_linux.go): per architecture of the filter, a
syscall number above the largest one any rule of the profile names returns ENOSYS;
everything else runs the filter as compiled. Same rules here:

- no stub when the default action lets calls through (allow, log, trace) or already
  answers ENOSYS;
- the largest number is taken over every resolved rule, whatever its action, counting
  only the names libseccomp knows on that architecture;
- x86_64 and x32 share one AUDIT_ARCH value: the x32 bit (1 << 30) of the number tells
  which maximum applies; on s390/s390x, syscall 0 (setup) is how the kernel multiplexes
  numbers it does not know, so it returns ENOSYS too.

Unlike runc, the native architecture counts even when the profile lists none
(libseccomp always adds it to the filter, so the profile does cover it).

Like runc's, the maximum is a heuristic: a hole in the table below it (a syscall added
out of order) still gets the default errno.
"""

from __future__ import annotations

import errno
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.security.profile import Filter

AUDIT_ARCH_X86_64 = 0xC000003E
SCMP_ARCH_X32 = 0x4000003E  # libseccomp's own token: the kernel says AUDIT_ARCH_X86_64
AUDIT_ARCH_S390 = 0x00000016
AUDIT_ARCH_S390X = 0x80000016
X32_SYSCALL_BIT = 0x40000000
RET_ENOSYS = 0x00050000 | errno.ENOSYS  # SCMP_ACT_ERRNO(ENOSYS)
_PASS_THROUGH = (0x7FFF0000, 0x7FFC0000)  # ACT_ALLOW, ACT_LOG; ACT_TRACE is masked below
_ACT_TRACE = 0x7FF00000

# classic BPF opcodes (linux/bpf_common.h) and struct seccomp_data offsets
LD_W_ABS = 0x20
JMP_JA = 0x05
JMP_JEQ_K = 0x15
JMP_JGT_K = 0x25
JMP_JSET_K = 0x45
RET_K = 0x06
OFFSET_NR = 0
OFFSET_ARCH = 4

Insn = tuple[int, int, int, int]  # struct sock_filter: code, jt, jf, k
_Draft = tuple[int, "int | str", "int | str", "int | str"]  # jumps still naming labels
_FILTER = "filter"  # the label of libseccomp's program, right after the stub
_ENOSYS = "enosys"


def largest_syscalls(resolved: Filter) -> dict[int, dict[int, int]]:
    """{AUDIT_ARCH: {libseccomp arch token: largest syscall number the rules name}}."""
    from runtime.security import libseccomp

    tokens = [libseccomp.native_arch(), *(libseccomp.arch_token(a) for a in resolved.arches)]
    names = {name for rule in resolved.rules for name in rule.names}
    out: dict[int, dict[int, int]] = {}
    for token in dict.fromkeys(tokens):
        numbers = [libseccomp.resolve_syscall_arch(token, name) for name in names]
        largest = max((n for n in numbers if n >= 0), default=-1)
        if largest >= 0:
            audit = AUDIT_ARCH_X86_64 if token == SCMP_ARCH_X32 else token
            out.setdefault(audit, {})[token] = largest
    return out


def needs_stub(default_action: int) -> bool:
    """runc's generatePatch: only a default action that refuses calls gets the stub."""
    return (default_action not in _PASS_THROUGH and default_action & 0xFFFF0000 != _ACT_TRACE
            and default_action != RET_ENOSYS)


def stub(largest: dict[int, dict[int, int]]) -> list[Insn]:
    """The instructions to run before libseccomp's program (which follows them directly)."""
    if not largest:
        return []
    draft: list[_Draft | str] = [(LD_W_ABS, 0, 0, OFFSET_ARCH)]
    draft += [(JMP_JEQ_K, f"arch{audit:x}", 0, audit) for audit in largest]
    draft.append((JMP_JA, 0, 0, _FILTER))
    for audit, by_token in largest.items():
        draft += [f"arch{audit:x}", (LD_W_ABS, 0, 0, OFFSET_NR)]
        draft += _arch_checks(audit, by_token)
    draft += [_ENOSYS, (RET_K, 0, 0, RET_ENOSYS), _FILTER]
    return _assemble(draft)


def _arch_checks(audit: int, by_token: dict[int, int]) -> list[_Draft | str]:
    """Jump to ENOSYS when the number (in A) is above this architecture's largest."""
    out: list[_Draft | str] = []
    if audit in (AUDIT_ARCH_S390, AUDIT_ARCH_S390X):
        out.append((JMP_JEQ_K, _ENOSYS, 0, 0))
    if audit != AUDIT_ARCH_X86_64:
        return [*out, (JMP_JGT_K, _ENOSYS, _FILTER, max(by_token.values()))]
    x64, x32 = by_token.get(AUDIT_ARCH_X86_64), by_token.get(SCMP_ARCH_X32)
    out.append((JMP_JSET_K, "x32" if x32 is not None else _FILTER, "x64" if x64 is not None else _FILTER,
                X32_SYSCALL_BIT))
    if x64 is not None:
        out += ["x64", (JMP_JGT_K, _ENOSYS, _FILTER, x64)]
    if x32 is not None:
        out += ["x32", (JMP_JGT_K, _ENOSYS, _FILTER, x32)]
    return out


def _assemble(draft: list[_Draft | str]) -> list[Insn]:
    """Resolve label operands to relative jumps (classic BPF jumps only forward)."""
    labels: dict[str, int] = {}
    count = 0
    for item in draft:
        if isinstance(item, str):
            labels[item] = count
        else:
            count += 1
    out: list[Insn] = []
    for item in draft:
        if isinstance(item, str):
            continue
        code, jt, jf, k = item
        pc = len(out)
        resolved = [labels[v] - pc - 1 if isinstance(v, str) else v for v in (jt, jf, k)]
        if not all(0 <= v <= 255 for v in resolved[:2]) or resolved[2] < 0:
            raise ValueError(f"seccomp ENOSYS stub: jump out of range at instruction {pc}")
        out.append((code, resolved[0], resolved[1], resolved[2]))
    return out


def encode(insns: list[Insn]) -> bytes:
    """struct sock_filter[] in host byte order (as seccomp_export_bpf writes it)."""
    return b"".join(struct.pack("=HBBI", *insn) for insn in insns)


def patch(program: bytes, resolved: Filter) -> bytes:
    """libseccomp's `program` for `resolved`, with runc's ENOSYS stub in front if it needs one."""
    if not needs_stub(resolved.default_action):
        return program
    return encode(stub(largest_syscalls(resolved))) + program
