"""Docker's seccomp profile format: parse it, and resolve it for one container (pure).

The JSON format is moby's `profiles/seccomp` (`Seccomp`, `Syscall`, `Filter`): a default
action, `archMap` (or `architectures`), and rules with `names`, `action`, `errnoRet`,
`args`, and `includes`/`excludes` conditions on architecture, capabilities and minimum
kernel. `resolve` does what moby's `setupSeccomp` (profiles/seccomp/seccomp_linux.go)
does before handing runc an OCI seccomp section: keep the sub-architectures of the
native one, and drop the rules whose conditions do not hold — capability conditions
are checked against the container's final (bounding) capability set. Encoding actions
and operators as libseccomp numbers here keeps the binding module a thin wrapper.
"""

from __future__ import annotations

from runtime.security.caps import CAPABILITIES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# libseccomp's action values (seccomp.h); ERRNO and TRACE carry a 16-bit value.
ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000
ACTIONS = {
    "SCMP_ACT_KILL": ACT_KILL_THREAD, "SCMP_ACT_KILL_THREAD": ACT_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": ACT_KILL_PROCESS, "SCMP_ACT_TRAP": ACT_TRAP, "SCMP_ACT_ERRNO": ACT_ERRNO,
    "SCMP_ACT_TRACE": ACT_TRACE, "SCMP_ACT_LOG": ACT_LOG, "SCMP_ACT_ALLOW": ACT_ALLOW,
}
OPERATORS = {
    "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7,
}
EPERM = 1
# Docker's native architecture names (moby goToNative) by `uname -m`, and their SCMP_ARCH_.
NATIVE_ARCH = {"x86_64": "amd64", "i686": "x86", "i386": "x86", "aarch64": "arm64", "armv7l": "arm",
               "ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x", "riscv64": "riscv64",
               "mips64": "mips64"}
SCMP_ARCH = {"amd64": "SCMP_ARCH_X86_64", "x86": "SCMP_ARCH_X86", "arm64": "SCMP_ARCH_AARCH64",
             "arm": "SCMP_ARCH_ARM", "ppc64le": "SCMP_ARCH_PPC64LE", "ppc64": "SCMP_ARCH_PPC64",
             "s390x": "SCMP_ARCH_S390X", "riscv64": "SCMP_ARCH_RISCV64", "mips64": "SCMP_ARCH_MIPS64"}


class ProfileError(ValueError):
    """The profile is not valid Docker seccomp JSON; the message says where."""


class Rule:
    """One resolved rule: syscall names, a libseccomp action, and argument conditions
    (index, operator, value, value_two), ANDed (as OCI/runc read `args`)."""

    __slots__ = ("names", "action", "args")

    def __init__(self, names: tuple[str, ...], action: int, args: tuple[tuple[int, int, int, int], ...] = ()) -> None:
        self.names = names
        self.action = action
        self.args = args

    def __repr__(self) -> str:
        return f"Rule({self.names!r}, {self.action:#x}, {self.args!r})"


class Filter:
    """A profile resolved for one container: what the libseccomp binding compiles."""

    __slots__ = ("default_action", "arches", "rules")

    def __init__(self, default_action: int, arches: tuple[str, ...], rules: tuple[Rule, ...]) -> None:
        self.default_action = default_action
        self.arches = arches
        self.rules = rules


def native_arch(machine: str) -> str:
    return NATIVE_ARCH.get(machine, machine)


def kernel_version(release: str) -> tuple[int, int]:
    """(major, minor) of a release like "6.1.0-18-amd64" or a profile's minKernel "4.8"."""
    parts = release.split("-", 1)[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ProfileError(f'invalid kernel version "{release}"') from None


def _action(name: Any, errno: Any, default_errno: int, where: str) -> int:
    if name == "SCMP_ACT_NOTIFY":
        raise ProfileError(f"{where}: SCMP_ACT_NOTIFY needs a seccomp agent, which pycompose does not run")
    if name not in ACTIONS:
        raise ProfileError(f'{where}: unknown action "{name}"')
    base = ACTIONS[name]
    if base in (ACT_ERRNO, ACT_TRACE):
        value = default_errno if errno is None else errno
        if not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            raise ProfileError(f"{where}: errnoRet must be a number from 0 to 65535")
        return base | value
    return base


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{where}: expected a list of strings")
    return value


def _args(raw: Any, where: str) -> tuple[tuple[int, int, int, int], ...]:
    out = []
    for i, arg in enumerate(raw or []):
        here = f"{where}.args[{i}]"
        if not isinstance(arg, dict):
            raise ProfileError(f"{here}: expected an object")
        index, op = arg.get("index"), arg.get("op")
        value, value_two = arg.get("value", 0), arg.get("valueTwo", 0)
        if not isinstance(index, int) or not 0 <= index <= 5:
            raise ProfileError(f"{here}.index: must be 0 to 5 (a syscall has at most 6 arguments)")
        if op not in OPERATORS:
            raise ProfileError(f'{here}.op: unknown operator "{op}"')
        if not isinstance(value, int) or not isinstance(value_two, int) or value < 0 or value_two < 0:
            raise ProfileError(f"{here}: value and valueTwo must be unsigned numbers")
        out.append((index, OPERATORS[op], value, value_two))
    return tuple(out)


def validate(profile: Any) -> None:
    """Raise ProfileError unless `profile` is a well-formed Docker seccomp profile."""
    if not isinstance(profile, dict):
        raise ProfileError("a seccomp profile must be a JSON object")
    # With every capability and without any, every rule and condition is read at least once.
    resolve(profile, "x86_64", CAPABILITIES, (99, 0))
    resolve(profile, "x86_64", (), (0, 0))


def resolve(profile: dict[str, Any], machine: str, capabilities: tuple[str, ...] | list[str],
            kernel: tuple[int, int]) -> Filter | None:
    """The filter for a container on this host (moby setupSeccomp); None when the profile
    has neither a default action nor rules (Docker then runs without seccomp)."""
    if not isinstance(profile, dict):
        raise ProfileError("a seccomp profile must be a JSON object")
    default_name = profile.get("defaultAction", "")
    syscalls = profile.get("syscalls") or []
    for key in ("flags", "listenerPath"):  # seccomp(2) filter flags, a notify agent's socket
        if profile.get(key):
            raise ProfileError(f"{key}: not supported by pycompose (remove it from the profile)")
    if not default_name and not syscalls:
        return None
    if not isinstance(syscalls, list):
        raise ProfileError("syscalls: expected a list")
    default_errno = profile.get("defaultErrnoRet")
    default_errno = EPERM if default_errno is None else default_errno
    default = _action(default_name, default_errno, EPERM, "defaultAction")
    arch = native_arch(machine)
    arches = _arches(profile, arch)
    rules = []
    for i, call in enumerate(syscalls):
        where = f"syscalls[{i}]"
        if not isinstance(call, dict):
            raise ProfileError(f"{where}: expected an object")
        names = _names(call, where)
        action = _action(call.get("action"), call.get("errnoRet"), EPERM, f"{where}.action")
        args = _args(call.get("args"), where)
        if applies(call, arch, capabilities, kernel, where):
            rules.append(Rule(tuple(names), action, args))
    return Filter(default, arches, tuple(rules))


def _names(call: dict[str, Any], where: str) -> list[str]:
    name, names = call.get("name"), _strings(call.get("names"), f"{where}.names")
    if name and names:
        raise ProfileError(f"{where}: 'name' and 'names' were both given, use either 'name' or 'names'")
    if name is not None and not isinstance(name, str):
        raise ProfileError(f"{where}.name: expected a string")
    return [name] if name else names


def _arches(profile: dict[str, Any], arch: str) -> tuple[str, ...]:
    listed = _strings(profile.get("architectures"), "architectures")
    arch_map = profile.get("archMap") or []
    if listed and arch_map:
        raise ProfileError("'architectures' and 'archMap' were both given, use either 'architectures' or 'archMap'")
    if not isinstance(arch_map, list):
        raise ProfileError("archMap: expected a list")
    out = list(listed)
    for i, entry in enumerate(arch_map):
        if not isinstance(entry, dict) or not isinstance(entry.get("architecture"), str):
            raise ProfileError(f"archMap[{i}]: expected an object with an architecture")
        subs = _strings(entry.get("subArchitectures"), f"archMap[{i}].subArchitectures")
        if entry["architecture"] == SCMP_ARCH.get(arch):
            out += [entry["architecture"], *subs]
    return tuple(dict.fromkeys(out))


def applies(call: dict[str, Any], arch: str, capabilities: tuple[str, ...] | list[str],
            kernel: tuple[int, int], where: str = "rule") -> bool:
    """moby's includes/excludes: a rule is kept when no exclusion and every inclusion holds."""
    excludes, includes = call.get("excludes") or {}, call.get("includes") or {}
    if not isinstance(excludes, dict) or not isinstance(includes, dict):
        raise ProfileError(f"{where}: includes and excludes must be objects")
    if arch in _strings(excludes.get("arches"), f"{where}.excludes.arches"):
        return False
    if any(c in capabilities for c in _strings(excludes.get("caps"), f"{where}.excludes.caps")):
        return False
    if excludes.get("minKernel") and kernel >= _min_kernel(excludes["minKernel"], where):
        return False
    arches = _strings(includes.get("arches"), f"{where}.includes.arches")
    if arches and arch not in arches:
        return False
    if not all(c in capabilities for c in _strings(includes.get("caps"), f"{where}.includes.caps")):
        return False
    return not (includes.get("minKernel") and kernel < _min_kernel(includes["minKernel"], where))


def _min_kernel(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, str):
        raise ProfileError(f"{where}: minKernel must be a string like \"4.8\"")
    return kernel_version(value)
