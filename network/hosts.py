"""Render and write a container's /etc/hosts."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path

from network.errors import InvalidNameError, StateError

_LOCALHOST = "127.0.0.1\tlocalhost"
_IPV6 = (
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
)
# Debian's convention for a hostname with no address of its own.
_HOSTNAME_FALLBACK = "127.0.1.1"


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "#" for c in name):
        raise InvalidNameError(f"invalid host name {name!r} for /etc/hosts")
    return name


def render_hosts(hostname: str, entries: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The text of /etc/hosts: localhost, IPv6 lines, then one "ip name..." line per entry.

    If `hostname` is not named by any entry it is mapped to 127.0.1.1 so it always resolves.
    """
    lines = [_LOCALHOST, *_IPV6]
    named: set[str] = set()
    for ip, names in entries:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError as exc:
            raise InvalidNameError(f"invalid address {ip!r} for /etc/hosts") from exc
        if not names:
            continue
        lines.append(f"{address}\t{' '.join(_check_name(n) for n in names)}")
        named.update(names)
    if hostname and _check_name(hostname) not in named:
        lines.append(f"{_HOSTNAME_FALLBACK}\t{hostname}")
    return "\n".join(lines) + "\n"


def write_hosts_file(
    path: Path, hostname: str, entries: Sequence[tuple[str, Sequence[str]]]
) -> None:
    """Write /etc/hosts for a container IN PLACE, keeping the inode.

    The file is bind-mounted into running containers; a bind mount pins the inode, so
    the usual temp-file + os.replace would never be seen inside. We overwrite from
    offset 0 and then truncate, so a reader never sees an empty file.
    """
    data = render_hosts(hostname, entries).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            offset = 0
            while offset < len(data):
                offset += os.pwrite(fd, view[offset:], offset)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
    except OSError as exc:
        raise StateError(f"cannot write hosts file {path}: {exc.strerror}") from exc
