"""Image references ("busybox", "localhost:5000/team/app:1.2") after Docker's grammar.

Unlike Docker we do not prefix "docker.io/library/": there is no registry, a name is local.
"""

from __future__ import annotations

import re

from runtime.errors import ImageError

DEFAULT_TAG = "latest"
MAX_NAME = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
ID_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")
MIN_ID_PREFIX = 4


def split_reference(reference: str) -> tuple[str, str]:
    """(name, tag) of a reference, tag defaulting to "latest"; ImageError when invalid."""
    if "@" in reference:
        raise ImageError(
            f"invalid image reference {reference!r}: digest references (name@sha256:...) need a "
            "registry; use a name, name:tag or an image id"
        )
    name, tag = reference, DEFAULT_TAG
    last = reference.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = reference.rsplit(":", 1)
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise ImageError(
            f"invalid image reference {reference!r}: a name is lowercase letters, digits and "
            "separators (. _ __ -) in /-separated parts, optionally after a host[:port]/ "
            "(like localhost:5000/team/app)"
        )
    if not _TAG.fullmatch(tag):
        raise ImageError(
            f"invalid tag {tag!r} in image reference {reference!r}: use up to 128 letters, digits, "
            "'_', '.' and '-', not starting with '.' or '-'"
        )
    return name, tag


def normalize_reference(reference: str) -> str:
    """ "busybox" -> "busybox:latest"; "localhost:5000/a/b" -> "localhost:5000/a/b:latest"."""
    name, tag = split_reference(reference)
    return f"{name}:{tag}"


def id_prefix(reference: str) -> str | None:
    """The hex of an image id or id prefix ("sha256:ab12..", "ab12"), or None if it is not one."""
    match = ID_PREFIX.fullmatch(reference)
    return match.group(1) if match else None
