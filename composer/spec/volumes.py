"""Service volume entries: short syntax (``./src:/dst:ro``) to the long form.

The long form is the mapping the Compose spec documents (``type``, ``source``,
``target``, ``read_only``, ...). Relative and ``~`` bind sources are made absolute
when the caller knows the base directory and the home directory.
"""

from __future__ import annotations

import posixpath
from typing import Any, NamedTuple

from composer.spec.values import InvalidValue, describe

_ACCESS = {"ro": True, "rw": False}
# Short-syntax options and where the long form keeps them (mount type, key, option, value).
_OPTIONS: dict[str, tuple[str, str, str, object]] = {
    "z": ("bind", "bind", "selinux", "z"),
    "Z": ("bind", "bind", "selinux", "Z"),
    "nocopy": ("volume", "volume", "nocopy", True),
    **{p: ("bind", "bind", "propagation", p)
       for p in ("shared", "slave", "private", "rshared", "rslave", "rprivate")},
    **{c: ("", "consistency", "", c) for c in ("consistent", "cached", "delegated")},
}
SHORT_HINT = "use [SOURCE:]TARGET[:ro|rw]"


class ParsedVolume(NamedTuple):
    """A volume entry in the long form, and the short-syntax options that do not apply."""

    mount: dict[str, Any]
    ignored_options: tuple[str, ...] = ()


def is_path(source: str) -> bool:
    """A bind source is a path; anything else names a volume."""
    return source.startswith(("/", ".", "~"))


def parse_volume(
    value: object, base_dir: str | None = None, home: str | None = None
) -> ParsedVolume:
    """Parse one ``volumes:`` entry (string or mapping) into the long form."""
    if isinstance(value, str):
        return _parse_short(value, base_dir, home)
    if isinstance(value, dict):
        mount = dict(value)
        if mount.get("type") == "bind" and isinstance(mount.get("source"), str):
            mount["source"] = resolve_path(mount["source"], base_dir, home)
        return ParsedVolume(mount)
    raise InvalidValue(f"expected a string or a mapping, got {describe(value)}", SHORT_HINT)


def _parse_short(text: str, base_dir: str | None, home: str | None) -> ParsedVolume:
    parts = text.split(":")
    if not text or len(parts) > 3 or not all(parts):
        raise InvalidValue(f'invalid volume "{text}"', SHORT_HINT)
    if len(parts) == 1:
        return ParsedVolume({"type": "volume", "target": parts[0]})
    source, target = parts[0], parts[1]
    mount: dict[str, Any]
    if is_path(source):
        # As Compose: the short syntax creates a missing host directory (legacy -v behaviour).
        mount = {"type": "bind", "source": resolve_path(source, base_dir, home), "target": target,
                 "bind": {"create_host_path": True}}
    else:
        mount = {"type": "volume", "source": source, "target": target}
    ignored: list[str] = []
    for option in parts[2].split(",") if len(parts) == 3 else ():
        if option in _ACCESS:
            if _ACCESS[option]:
                mount["read_only"] = True
            continue
        if option not in _OPTIONS:
            raise InvalidValue(f'invalid volume option "{option}" in "{text}"', SHORT_HINT)
        kind, key, sub, value = _OPTIONS[option]
        if kind and kind != mount["type"]:
            ignored.append(option)  # e.g. nocopy on a bind mount: meaningless, as in Compose
        elif sub:
            mount.setdefault(key, {})[sub] = value
        else:
            mount[key] = value
    return ParsedVolume(mount, tuple(ignored))


def resolve_path(path: str, base_dir: str | None, home: str | None) -> str:
    """``~/x`` against *home*, ``./x`` against *base_dir*; unchanged when either is unknown."""
    if path.startswith("~") and (path == "~" or path.startswith("~/")):
        if home is None:
            return path
        path = home + path[1:]
    if path.startswith("/"):  # posixpath.isabs, without its two calls
        return posixpath.normpath(path)
    if base_dir is None:
        return path
    joined = base_dir + path[1:]
    if path.startswith("./") and base_dir.startswith("/") and _is_normal(joined):
        return joined  # both already normal: what normpath(join()) gives, without its cost
    return posixpath.normpath(posixpath.join(base_dir, path))


def _is_normal(path: str) -> bool:
    """No `.` or `..` component (nor a name starting with a dot), no empty one, no trailing slash:
    unchanged by normpath. An absolute base and a `./`-path joined are normal when both
    are (the base directory of an included or extended `../lib/x.yaml` is `/p/../lib`,
    which is not), and only then: where they meet is `/` followed by the path's rest."""
    return "/." not in path and "//" not in path and path[-1] != "/"
