"""A service's cap_add, cap_drop, privileged and security_opt → the runtime's `Security`.

Docker's rules: `security_opt` entries are parsed as dockerd's parseSecurityOpt does
(`no-new-privileges[:bool]`, `key=value`, the deprecated `key:value`); compose reads a
`seccomp=FILE` profile relative to the project directory and sends its content
(compose `parseSecurityOpts`), and handles `systempaths=unconfined` (no masked or
read-only paths) itself. `privileged` means every capability, no seccomp (moby
WithSeccomp), no masked or read-only paths, the host's devices. AppArmor and SELinux
options (`apparmor=`, `label=`) are Docker's but have no meaning here: they get a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from composer.errors import PlanError
from composer.models import Project, Service
from runtime.config import Security
from runtime.security.caps import ALL, CAP_NUMBERS, UnknownCapability, tweak
from runtime.security.devices import ALLOW_ALL, DEFAULT_DEVICE_RULES
from runtime.security.profile import ProfileError, validate

_TRUE = ("1", "t", "T", "TRUE", "true", "True")  # Go's strconv.ParseBool
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_IGNORED = ("apparmor", "label")  # Docker knows them; no LSM is driven here
_HINT = "use no-new-privileges, seccomp=unconfined, seccomp=FILE or systempaths=unconfined"


@dataclass(frozen=True)
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str | None = None  # None: Docker's default profile; "unconfined"; else a file path
    systempaths_unconfined: bool = False
    ignored: tuple[str, ...] = ()  # entries Docker knows that pycompose cannot act on


def parse_security_opt(service_name: str, options: tuple[str, ...]) -> SecurityOptions:
    """Docker's parsing of `security_opt`; an entry Docker rejects is a PlanError here too."""
    where = f"services.{service_name}.security_opt"
    nnp, seccomp, systempaths = False, None, False
    ignored = []
    for option in options:
        if option == "no-new-privileges":
            nnp = True
            continue
        if option == "disable":  # label=disable's short form
            ignored.append(option)
            continue
        separator = "=" if "=" in option else ":" if ":" in option else None
        if separator is None:
            raise PlanError(f'invalid security option "{option}"', where=where, hint=_HINT)
        key, _, value = option.partition(separator)
        if key == "no-new-privileges" and value in _TRUE + _FALSE:
            nnp = value in _TRUE
        elif key == "seccomp" and value:
            seccomp = value
        elif key == "systempaths" and value == "unconfined":
            systempaths = True
        elif key in _IGNORED:
            ignored.append(option)
        else:
            raise PlanError(f'invalid security option "{option}"', where=where, hint=_HINT)
    return SecurityOptions(nnp, seccomp, systempaths, tuple(ignored))


def security_warnings(service_name: str, service: Service) -> list[str]:
    """One warning per security_opt entry that is accepted but not acted on."""
    try:
        options = parse_security_opt(service_name, service.security_opt)
    except PlanError:
        return []  # reported as an error by check_security
    return [f"services.{service_name}.security_opt: {entry.partition('=')[0].partition(':')[0]} "
            f'("{entry}") is not supported (no AppArmor or SELinux here), ignored' for entry in options.ignored]


def read_profile(service_name: str, path: str, project_dir: str) -> dict[str, Any]:
    """The seccomp profile file, relative to the project directory, parsed and checked."""
    where = f"services.{service_name}.security_opt"
    full = Path(project_dir, path)
    try:
        profile = json.loads(full.read_text())
    except OSError as e:
        raise PlanError(f"cannot read seccomp profile {full}: {e.strerror or e}", where=where) from None
    except ValueError as e:
        raise PlanError(f"seccomp profile {full} is not valid JSON: {e}", where=where) from None
    try:
        validate(profile)
    except ProfileError as e:
        raise PlanError(f"seccomp profile {full}: {e}", where=where) from None
    return dict(profile)


def capabilities(service_name: str, service: Service) -> tuple[str, ...]:
    try:
        return tweak(service.cap_add, service.cap_drop, service.privileged)
    except UnknownCapability as e:
        key = "cap_add" if any(_unknown(c) for c in service.cap_add) else "cap_drop"
        raise PlanError(str(e), where=f"services.{service_name}.{key}") from None


def _unknown(name: str) -> bool:
    upper = name.upper()
    return upper != ALL and (upper if upper.startswith("CAP_") else "CAP_" + upper) not in CAP_NUMBERS


def service_security(service_name: str, service: Service, project_dir: str) -> Security:
    """The runtime `Security` for the service; PlanError naming the key for bad settings."""
    options = parse_security_opt(service_name, service.security_opt)
    caps = capabilities(service_name, service)
    seccomp: str | dict[str, Any] = "default"
    if service.privileged or options.seccomp == "unconfined":
        seccomp = "unconfined"
    elif options.seccomp is not None:
        seccomp = read_profile(service_name, options.seccomp, project_dir)
    confined_paths = not service.privileged and not options.systempaths_unconfined
    return Security(
        capabilities=caps,
        no_new_privileges=options.no_new_privileges,
        seccomp=seccomp,
        masked_paths=Security().masked_paths if confined_paths else (),
        readonly_paths=Security().readonly_paths if confined_paths else (),
        privileged=service.privileged,
    )


def device_rules(service: Service) -> tuple[str, ...]:
    """The devices cgroup allow list: every device for a privileged container, as Docker."""
    return ALLOW_ALL if service.privileged else DEFAULT_DEVICE_RULES


def check_security(project: Project, services: list[str] | tuple[str, ...]) -> None:
    """Every service's security settings, checked (profiles read) before anything is created."""
    for name in services:
        service_security(name, project.services[name], project.working_dir)
