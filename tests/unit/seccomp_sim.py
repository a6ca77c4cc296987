"""A classic-BPF interpreter over struct seccomp_data, to ask a compiled filter what it
decides for a syscall without loading it (the subset of opcodes seccomp allows)."""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF


def seccomp_data(nr: int, arch: int, args: tuple[int, ...] = ()) -> bytes:
    """struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]."""
    padded = (*args, *(0,) * (6 - len(args)))
    return struct.pack("=iIQ6Q", nr if nr < 2**31 else nr - 2**32, arch, 0, *padded)


def _alu(op: int, a: int, operand: int) -> int:
    results = {0x00: a + operand, 0x10: a - operand, 0x20: a * operand, 0x40: a | operand, 0x50: a & operand,
               0x60: a << operand, 0x70: a >> operand, 0x80: -a, 0xA0: a ^ operand}
    if op in (0x30, 0x90):
        results[op] = a // operand if op == 0x30 else a % operand
    return results[op] & _MASK


def _jump(op: int, a: int, operand: int) -> bool:
    return {0x10: a == operand, 0x20: a > operand, 0x30: a >= operand, 0x40: bool(a & operand)}[op]


def run(program: bytes, data: bytes) -> int:
    """The SECCOMP_RET_ value `program` returns for `data`."""
    insns = [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    a = x = pc = 0
    mem = [0] * 16
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        cls, op = code & 0x07, code & 0xF0
        operand = x if code & 0x08 else k
        if cls == 0x00:  # LD: W ABS, IMM or MEM
            mode = code & 0xE0
            a = struct.unpack_from("=I", data, k)[0] if mode == 0x20 else mem[k] if mode == 0x60 else k
        elif cls == 0x01:  # LDX
            x = mem[k] if code & 0xE0 == 0x60 else k
        elif cls in (0x02, 0x03):  # ST, STX
            mem[k] = a if cls == 0x02 else x
        elif cls == 0x04:
            a = _alu(op, a, operand)
        elif cls == 0x05:
            pc += k if op == 0x00 else jt if _jump(op, a, operand) else jf
        elif cls == 0x06:
            return a if code & 0x18 == 0x10 else k
        else:  # MISC: TAX / TXA
            x, a = (a, a) if op == 0x00 else (x, x)
