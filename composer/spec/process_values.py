"""Short syntax of the process settings: ``ulimits``, ``tmpfs``, ``devices``, ``group_add``.

Each parser takes the value as written (after interpolation) and returns the one
canonical form the models store, raising `InvalidValue` with Docker's wording where
Docker has one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from composer.spec.values import InvalidValue, describe, list_or_dict, scalar_text

# --- ulimits ------------------------------------------------------------------------

# Docker's names (go-units ulimit.go); the runtime maps them to RLIMIT_* numbers.
ULIMIT_NAMES = frozenset(
    "as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack".split()
)
ULIMIT_HINT = "use a number (soft = hard) or {soft: N, hard: N}"


def _limit(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidValue(f"invalid ulimit {name}: {scalar_text(value)}", ULIMIT_HINT)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        number = int(value)
    else:
        raise InvalidValue(f"invalid ulimit {name}: expected a number, got {describe(value)}", ULIMIT_HINT)
    if number < -1:
        raise InvalidValue(f"invalid ulimit {name}: {number} (use -1 for unlimited)")
    return number


def parse_ulimit(value: object, name: str) -> dict[str, int]:
    """``{soft, hard}`` from ``1024`` or ``{soft: 1024, hard: 2048}``; -1 means unlimited."""
    if name not in ULIMIT_NAMES:
        raise InvalidValue(f"invalid ulimit type: {name}", "one of " + ", ".join(sorted(ULIMIT_NAMES)))
    if isinstance(value, Mapping):
        # x-* extensions are allowed here too (the spec's patternProperties).
        unknown = [key for key in value if key not in ("soft", "hard") and not str(key).startswith("x-")]
        if unknown or "soft" not in value or "hard" not in value:
            raise InvalidValue(f"invalid ulimit {name}: needs exactly soft and hard", ULIMIT_HINT)
        soft, hard = _limit(value["soft"], name), _limit(value["hard"], name)
    else:
        soft = hard = _limit(value, name)
    if hard != -1 and (soft == -1 or soft > hard):
        raise InvalidValue(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return {"soft": soft, "hard": hard}


# --- tmpfs ---------------------------------------------------------------------------

# What moby's MergeTmpfsOptions accepts: these flags (those our mounts understand) and
# these key=value data options; anything else is "Invalid tmpfs option".
TMPFS_FLAGS = frozenset("ro rw exec noexec suid nosuid dev nodev noatime".split())
TMPFS_DATA = frozenset("size mode uid gid nr_inodes nr_blocks mpol".split())
_NUMERIC_DATA = {"uid": r"\d+", "gid": r"\d+", "mode": r"[0-7]{1,4}",
                 "size": r"\d+[kKmMgG%]?", "nr_inodes": r"\d+[kKmMgG]?", "nr_blocks": r"\d+[kKmMgG]?"}


def tmpfs_options(options: list[str], entry: str) -> tuple[str, ...]:
    for option in options:
        key, sep, value = option.partition("=")
        if not sep and option in TMPFS_FLAGS:
            continue
        if not sep or key not in TMPFS_DATA:
            raise InvalidValue(f'invalid tmpfs option "{option}" in "{entry}"',
                               "use flags (ro, noexec...) or size=, mode=, uid=, gid=")
        pattern = _NUMERIC_DATA.get(key)
        if pattern and not re.fullmatch(pattern, value):
            raise InvalidValue(f'invalid tmpfs option "{option}" in "{entry}"',
                               "size=64m, mode=1777 (octal), uid=1000, gid=1000")
    return tuple(options)


def parse_tmpfs(value: object) -> list[dict[str, Any]]:
    """``/run`` or ``[/run, "/tmp:size=64m,mode=1777"]`` → ``[{target, options}]``."""
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        raise InvalidValue(f"expected a path or a list of paths, got {describe(value)}")
    out = []
    for entry in entries:
        if isinstance(entry, Mapping):  # already canonical (a merged or re-validated model)
            out.append(dict(entry))
            continue
        if not isinstance(entry, str) or not entry:
            raise InvalidValue(f"expected a tmpfs path such as /run, got {describe(entry)}")
        target, _, options = entry.partition(":")
        if not target.startswith("/"):
            raise InvalidValue(f'tmpfs target "{target}" must be an absolute path')
        out.append({"target": target, "options": tmpfs_options(options.split(",") if options else [], entry)})
    return out


# --- devices -------------------------------------------------------------------------

DEVICE_HINT = "use HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]] such as /dev/fuse or /dev/sda:/dev/xvda:rwm"


def _permissions(text: str, entry: str | None) -> str:
    if not text or not set(text) <= set("rwm") or len(set(text)) != len(text):
        where = f' in "{entry}"' if entry else ""
        raise InvalidValue(f'invalid device permissions "{text}"{where}', "use a combination of r, w and m")
    return text


def parse_device(value: object) -> object:
    """``/dev/sda[:/dev/xvda[:rwm]]`` → ``{source, target, permissions}``; mappings pass on."""
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    if not value or len(parts) > 3 or not all(parts):
        raise InvalidValue(f'invalid device "{value}"', DEVICE_HINT)
    source = parts[0]
    target, permissions = source, "rwm"
    if len(parts) == 2:  # Docker: a second field of only r/w/m letters is the permissions
        if re.fullmatch(r"[rwm]+", parts[1]):
            permissions = parts[1]
        else:
            target = parts[1]
    elif len(parts) == 3:
        target, permissions = parts[1], parts[2]
    for path in (source, target):
        if not path.startswith("/"):
            raise InvalidValue(f'invalid device "{value}": "{path}" is not an absolute path', DEVICE_HINT)
    return {"source": source, "target": target, "permissions": _permissions(permissions, value)}


def check_device_permissions(text: object) -> object:
    return _permissions(text, None) if isinstance(text, str) else text


# --- sysctls -------------------------------------------------------------------------


def parse_sysctls(value: object) -> dict[str, str]:
    """``[net.core.somaxconn=1024]`` or a mapping → ``{name: value}``; every name needs a value."""
    out = {}
    for key, val in list_or_dict(value).items():
        if val is None or isinstance(val, dict | list):
            raise InvalidValue(f"sysctl {key} needs a value", "use name=value or name: value", key=str(key))
        out[str(key)] = scalar_text(val)
    return out


# --- group_add -----------------------------------------------------------------------


def parse_group_add(value: object) -> object:
    """Group names or gids, as strings: names are resolved in the container's /etc/group."""
    if not isinstance(value, list | tuple):
        return value
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int) or item == "":
            raise InvalidValue(f"expected a group name or id, got {describe(item)}")
        if isinstance(item, int) and item < 0:
            raise InvalidValue(f"invalid group id {item}")
        out.append(str(item))
    return tuple(out)
