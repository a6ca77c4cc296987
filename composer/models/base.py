"""What every model shares: the frozen `Model` (and `Extensible`, which drops ``x-*``
extension keys), the value checks of single fields, and the annotated types built from
them (sizes, durations, signals...)."""

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema

from composer.models import schemacache
from composer.spec.values import (
    InvalidValue,
    describe,
    list_or_dict,
    parse_cpus,
    parse_duration,
    parse_signal,
    parse_size,
    scalar_text,
    split_command,
)


class Model(BaseModel):
    # defer_build: a model's validator is built on first use, and a model used only inside
    # another (most of them, inside Service) never gets one of its own. Models built where
    # threads may run are built as the package is imported (composer/models/__init__.py).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /) -> CoreSchema:
        """pydantic's hook for a type's own core schema: the cached one when there is one
        (composer.models.schemacache), else what pydantic generates."""
        cached = schemacache.schema_of(cls) if source is cls else None
        return cached if cached is not None else handler(source)


class Extensible(Model):
    """A model of a mapping the loader's key check does not look into, so it drops ``x-*``
    keys itself. (composer.spec.keys drops them from the mappings it has shapes for: a
    service and its deploy, healthcheck, depends_on, networks, volumes and ports; the
    top-level networks and volumes.) Dropping them here is a Python call per instance,
    thousands in a large stack: only these models pay it."""

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        """``x-*`` keys are extensions, allowed in any mapping of the spec."""
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.startswith("x-"):
                    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
        return data


_STR = frozenset({str})
_STR_OR_NONE = frozenset({str, type(None)})


def _all_strings(mapping: dict[Any, Any], *, none_too: bool) -> bool:
    """Whether *mapping* has string keys and string (or, *none_too*, null) values.

    (The sets of their types: made in C, where a generator would run Python per entry.)"""
    return set(map(type, mapping)) <= _STR and set(map(type, mapping.values())) <= (
        _STR_OR_NONE if none_too else _STR)


def _string_map(value: object) -> dict[str, str]:
    """Labels and options: list or map; numbers become strings, a bare key an empty one."""
    if isinstance(value, dict) and _all_strings(value, none_too=False):
        return dict(value)  # the common case: nothing to convert
    pairs = list_or_dict(value)
    out: dict[str, str] = {}
    for key, val in pairs.items():
        if isinstance(val, dict | list):
            raise InvalidValue(f"expected a string, got {describe(val)}", key=str(key))
        out[str(key)] = "" if val is None else scalar_text(val)
    return out


def _environment(value: object) -> dict[str, str | None]:
    if isinstance(value, dict) and _all_strings(value, none_too=True):
        return dict(value)  # the common case: nothing to convert
    pairs = list_or_dict(value)
    out: dict[str, str | None] = {}
    for key, val in pairs.items():
        if isinstance(val, dict | list):
            raise InvalidValue(f"expected a string, got {describe(val)}", key=str(key))
        out[str(key)] = None if val is None else scalar_text(val)
    return out


def _name_list(value: object) -> Any:
    """``[a, b]`` → ``{a: None, b: None}`` (depends_on, networks)."""
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise InvalidValue("expected a list of names")
        return dict.fromkeys(value)
    return value


def _same(value: object) -> object:
    return value


def _ip_address(value: object) -> object:
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise InvalidValue(f'invalid IP address "{value}"') from None
    return value


def _interface_name(value: object) -> object:
    """What the kernel takes as an interface name (network.names checks the same)."""
    if isinstance(value, str) and (not 0 < len(value.encode()) < 16 or value in (".", "..")
                                   or any(c in "/:" or c.isspace() for c in value)):
        raise InvalidValue(f'invalid interface name "{value}"', "use 1-15 bytes without '/', ':' or spaces")
    return value


def _mac_address(value: object) -> object:
    """A unicast Ethernet address, normalized to lower case with ':' (network.names checks the same)."""
    if not isinstance(value, str):
        return value
    mac = value.lower().replace("-", ":")
    octets = mac.split(":")
    if len(octets) != 6 or not all(len(o) == 2 and all(c in "0123456789abcdef" for c in o) for o in octets):
        raise InvalidValue(f'invalid MAC address "{value}"', "use six hex bytes such as 02:42:ac:11:00:02")
    if int(octets[0], 16) & 1 or mac == "00:00:00:00:00:00":
        raise InvalidValue(f'MAC address "{value}" is not a unicast address', "the first byte must be even")
    return mac


def _subnet(value: object) -> object:
    if isinstance(value, str):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise InvalidValue(
                f'invalid subnet "{value}"', "use CIDR notation: 10.1.0.0/16"
            ) from None
    return value


def parse_extra_host(item: object) -> tuple[str, str]:
    """("db", "10.0.0.2") from "db:10.0.0.2" or "db=10.0.0.2"; IPv6 may be bracketed
    ("h:[::1]", "h=::1"). ("", "") when malformed."""
    if not isinstance(item, str):
        return "", ""
    host, sep, address = item.partition("=")
    if not sep:
        host, _, address = item.partition(":")
    address = address.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    return host.strip(), address



def _extra_hosts(value: object) -> object:
    """``{host: ip | [ip, ...]}`` or ``["host:ip", "host=ip"]``; each address is an IP or
    ``host-gateway`` (the container's gateway, i.e. this host)."""
    if isinstance(value, list | tuple):
        pairs: dict[str, list[str]] = {}
        for item in value:
            host, address = parse_extra_host(item)
            if not host or not address:
                raise InvalidValue(f"invalid extra host {item!r}", 'use "HOST:IP" or "HOST=IP"')
            pairs.setdefault(host, []).append(address)
        value = pairs
    if not isinstance(value, dict):
        return value
    out: dict[str, tuple[str, ...]] = {}
    for host, addresses in value.items():
        items = addresses if isinstance(addresses, list | tuple) else [addresses]
        for address in items:
            if address != "host-gateway":
                _ip_address(address if isinstance(address, str) else str(address))
        out[str(host)] = tuple(str(a) for a in items)
    return out


def _string_list(value: object) -> object:
    """``dns``, ``dns_search``: a string or a list of them."""
    return (value,) if isinstance(value, str) else value


def _ip_list(value: object) -> object:
    value = _string_list(value)
    if isinstance(value, list | tuple):
        for item in value:
            _ip_address(item)
    return value


Size = Annotated[int, BeforeValidator(parse_size, json_schema_input_type=int | str)]
Cpus = Annotated[float, BeforeValidator(parse_cpus, json_schema_input_type=float | str)]
Seconds = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=str)]
Signal = Annotated[str, BeforeValidator(parse_signal, json_schema_input_type=str | int)]
Argv = Annotated[
    tuple[str, ...] | None, BeforeValidator(split_command, json_schema_input_type=str | list[str])
]
StringMap = Annotated[
    dict[str, str],
    BeforeValidator(
        _string_map, json_schema_input_type=dict[str, str | float | bool | None] | list[str]
    ),
]
Environment = Annotated[
    dict[str, str | None],
    BeforeValidator(
        _environment, json_schema_input_type=dict[str, str | float | bool | None] | list[str]
    ),
]
External = Annotated[
    bool, BeforeValidator(_same, json_schema_input_type=bool | str | dict[str, str])
]
Condition = Literal["service_started", "service_healthy", "service_completed_successfully"]
RestartPolicy = Literal["no", "always", "on-failure", "unless-stopped"]


def _swap_size(value: object) -> int:
    """memswap_limit: a size, or -1 for unlimited swap (Docker's --memory-swap)."""
    if value == -1 or value == "-1":
        return -1
    return parse_size(value)


def _cpuset(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and not re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", value):
        raise InvalidValue(f'invalid cpuset "{value}"', "use CPU numbers and ranges such as 0-2,4")
    return value
