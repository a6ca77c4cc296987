"""Service ``ports`` and ``expose`` entries: short syntax to the long form, validated.

Short syntax follows Docker (go-connections ``nat.ParsePortSpec``, which compose-go
uses): ``[[HOST_IP:][HOST_PORT[-END]]:]CONTAINER_PORT[-END][/PROTOCOL]``. A container
port range expands to one mapping per port; a host range against a single container
port stays a range, from which one free host port is taken when publishing. The long
form is the mapping the Compose spec documents (``target``, ``published``,
``host_ip``, ``protocol``, ``mode``, ``name``, ``app_protocol``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from composer.spec.values import InvalidValue, describe

PROTOCOLS = ("tcp", "udp")
SHORT_HINT = "use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. 127.0.0.1:8080:80/tcp"
RANGE_HINT = "a port is a number from 1 to 65535; a range is START-END"


def parse_port(value: object) -> list[dict[str, Any]]:
    """Long-form mappings for one ``ports`` entry (a mapping is returned as it is)."""
    if isinstance(value, Mapping):
        return [dict(value)]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(f"expected a port string or a mapping, got {describe(value)}", SHORT_HINT)
    text = str(value).strip()
    host_ip, host_port, container = _split(text)
    port_text, _, proto = container.partition("/")
    protocol = parse_protocol(proto or "tcp")
    if not port_text:
        raise InvalidValue(f'no container port in "{text}"', SHORT_HINT)
    start, end = _range(port_text, "container port")
    host: tuple[int, int] | None = None
    if host_port:
        host = _range(host_port, "host port", zero=True)
        if end - start != host[1] - host[0] and start != end:
            raise InvalidValue(
                f"invalid ranges for container and host ports: {port_text} and {host_port}",
                "a container port range needs a host range of the same length",
            )
    out = []
    for offset in range(end - start + 1):
        mapping: dict[str, Any] = {"mode": "ingress", "target": start + offset, "protocol": protocol}
        if host is not None and host != (0, 0):
            if start == end and host[0] != host[1]:
                mapping["published"] = f"{host[0]}-{host[1]}"
            else:
                mapping["published"] = str(host[0] + offset)
        if host_ip:
            mapping["host_ip"] = host_ip
        out.append(mapping)
    return out


def parse_protocol(value: object) -> str:
    text = value.lower() if isinstance(value, str) else value
    if text in PROTOCOLS:
        return str(text)
    if text == "sctp":
        raise InvalidValue('protocol "sctp" is not supported', "use tcp or udp")
    raise InvalidValue(f"invalid protocol {_show(value)}", "use tcp or udp")


def parse_target(value: object) -> int:
    """The container port of a long-form mapping (a number, or a string holding one)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise InvalidValue(f"invalid target port {_show(value)}", RANGE_HINT)
    return value


def parse_published(value: object) -> str | None:
    """The host port of a long-form mapping as ``"8080"`` or ``"8000-8010"``; 0 or "" is none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(f"invalid published port {_show(value)}", RANGE_HINT)
    text = str(value).strip()
    if text in ("", "0"):
        return None
    start, end = _range(text, "published port", zero=True)
    return str(start) if start == end else f"{start}-{end}"


def parse_host_ip(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            pass
    raise InvalidValue(f"invalid host IP address {_show(value)}")


def parse_expose(value: object) -> str:
    """One ``expose`` entry, checked: ``80``, ``80/udp`` or ``8000-8010/tcp``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(f"expected a port, got {describe(value)}", "use PORT[-END][/PROTOCOL]")
    text = str(value).strip()
    port_text, _, proto = text.partition("/")
    _range(port_text, "port")
    parse_protocol(proto or "tcp")
    return text


def expose_ports(entry: str) -> list[tuple[int, str]]:
    """(port, protocol) for each port of a checked ``expose`` entry."""
    port_text, _, proto = entry.partition("/")
    start, end = _range(port_text, "port")
    return [(port, (proto or "tcp").lower()) for port in range(start, end + 1)]


def _split(text: str) -> tuple[str, str, str]:
    """(host IP, host port, container part); an IPv6 host IP may be written in brackets."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or text[close + 1 : close + 2] != ":":
            raise InvalidValue(f'invalid port "{text}"', SHORT_HINT)
        host_ip = text[1:close]
        host_port, sep, container = text[close + 2 :].partition(":")
        if not sep:
            raise InvalidValue(f'invalid port "{text}"', SHORT_HINT)
        return parse_host_ip(host_ip) or "", host_port, container
    parts = text.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    host_ip = ":".join(parts[:-2])
    return parse_host_ip(host_ip) or "", parts[-2], parts[-1]


def _range(text: str, what: str, zero: bool = False) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    try:
        start = int(first)
        end = int(last) if sep else start
    except ValueError:
        raise InvalidValue(f'invalid {what} "{text}"', RANGE_HINT) from None
    lowest = 0 if zero and not sep else 1
    if not (lowest <= start <= 65535 and lowest <= end <= 65535) or end < start:
        raise InvalidValue(f'invalid {what} "{text}"', RANGE_HINT)
    return start, end


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else ("null" if value is None else str(value))
