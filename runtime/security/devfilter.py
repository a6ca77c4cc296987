"""The devices cgroup on cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE).

cgroup v2 has no devices.allow file: the kernel asks a BPF program attached to the
cgroup, with the device's type, major, minor and the access wanted, and denies unless
it returns 1. Like runc's libcontainer/cgroups/devices/devicefilter, the program tests
the allow rules in order and denies when none matches; it is assembled here from the
same v1-syntax rules the v1 driver writes (runtime/security/devices.py), loaded with
bpf(BPF_PROG_LOAD) and attached with bpf(BPF_PROG_ATTACH, BPF_F_ALLOW_MULTI). An
attached program lives as long as the cgroup: nothing to clean up.
"""

from __future__ import annotations

import ctypes
import os
import struct

_SYS_BPF = {"x86_64": 321, "aarch64": 280}
_BPF_PROG_LOAD = 5
_BPF_PROG_ATTACH = 8
_BPF_PROG_TYPE_CGROUP_DEVICE = 15
_BPF_CGROUP_DEVICE = 6  # enum bpf_attach_type
_BPF_F_ALLOW_MULTI = 2
_TYPES = {"a": 0, "b": 1, "c": 2}  # BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
_ACCESS = {"m": 1, "r": 2, "w": 4}  # BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

# eBPF opcodes (linux/bpf.h, bpf_common.h)
_LDX_MEM_W = 0x61  # dst = *(u32 *)(src + off)
_ALU32_AND_K = 0x54
_ALU32_RSH_K = 0x74
_ALU32_MOV_K = 0xB4
_ALU32_MOV_X = 0xBC
_JMP_JNE_K = 0x55
_JMP_JNE_X = 0x5D
_EXIT = 0x95


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def parse_rule(rule: str) -> tuple[int, int | None, int | None, int]:
    """"c 1:3 rwm" → (type, major or None for *, minor or None, access bits)."""
    try:
        kind, numbers, access = rule.split()
        major, minor = numbers.split(":")
        return (_TYPES[kind], None if major == "*" else int(major), None if minor == "*" else int(minor),
                sum(_ACCESS[a] for a in set(access)))
    except (ValueError, KeyError):
        raise ValueError(f"invalid device rule {rule!r} (expected e.g. \"c 1:3 rwm\")") from None


def program(rules: tuple[str, ...] | list[str]) -> bytes:
    """The eBPF program allowing `rules` (first match allows), denying everything else."""
    # r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx)
    out = [_insn(_LDX_MEM_W, 2, 1, 0), _insn(_ALU32_AND_K, 2, imm=0xFFFF),
           _insn(_LDX_MEM_W, 3, 1, 0), _insn(_ALU32_RSH_K, 3, imm=16),
           _insn(_LDX_MEM_W, 4, 1, 4), _insn(_LDX_MEM_W, 5, 1, 8)]
    for rule in rules:
        kind, major, minor, access = parse_rule(rule)
        checks: list[list[bytes]] = []
        if kind:
            checks.append([_insn(_JMP_JNE_K, 2, imm=kind)])
        if access != 7:  # the access asked for must lie within the rule's
            checks.append([_insn(_ALU32_MOV_X, 1, 3), _insn(_ALU32_AND_K, 1, imm=access),
                           _insn(_JMP_JNE_X, 1, 3)])
        if major is not None:
            checks.append([_insn(_JMP_JNE_K, 4, imm=major)])
        if minor is not None:
            checks.append([_insn(_JMP_JNE_K, 5, imm=minor)])
        block = [i for check in checks for i in check] + [_insn(_ALU32_MOV_K, 0, imm=1), _insn(_EXIT)]
        # Each jump skips to the end of the block: the next rule.
        for index, insn in enumerate(block):
            if insn[0] in (_JMP_JNE_K, _JMP_JNE_X):
                block[index] = insn[:2] + struct.pack("<h", len(block) - index - 1) + insn[4:]
        out += block
        if not checks:  # matches everything: what follows is unreachable, which the verifier refuses
            return b"".join(out)
    out += [_insn(_ALU32_MOV_K, 0, imm=0), _insn(_EXIT)]
    return b"".join(out)


def _bpf(command: int, attr: bytes) -> int:
    nr = _SYS_BPF.get(os.uname().machine)
    if nr is None:
        raise OSError(38, f"bpf: unsupported architecture {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(attr, 128)
    ret = libc.syscall(ctypes.c_long(nr), ctypes.c_int(command), buffer, ctypes.c_uint(128))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf({command}): {os.strerror(err)}")
    return int(ret)


def attach(cgroup_dir: str, rules: tuple[str, ...] | list[str]) -> None:
    """Load the program for `rules` and attach it to the cgroup v2 directory."""
    code = program(rules)
    insns = ctypes.create_string_buffer(code, len(code))
    license_ = ctypes.create_string_buffer(b"Apache")

    def load(log: ctypes.Array[ctypes.c_char] | None) -> int:
        log_fields = (1, len(log), ctypes.addressof(log)) if log is not None else (0, 0, 0)
        return _bpf(_BPF_PROG_LOAD, struct.pack("<IIQQIIQ", _BPF_PROG_TYPE_CGROUP_DEVICE, len(code) // 8,
                                                ctypes.addressof(insns), ctypes.addressof(license_), *log_fields))

    try:
        prog_fd = load(None)
    except OSError as e:  # again with the verifier's log, to say why
        log = ctypes.create_string_buffer(1 << 16)
        try:
            os.close(load(log))
        except OSError:
            pass
        last = log.value.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise OSError(e.errno, f"loading the device filter: {e.strerror} {last[0]}".strip()) from None
    cgroup_fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _bpf(_BPF_PROG_ATTACH, struct.pack("<IIII", cgroup_fd, prog_fd, _BPF_CGROUP_DEVICE, _BPF_F_ALLOW_MULTI))
    finally:
        os.close(cgroup_fd)
        os.close(prog_fd)
