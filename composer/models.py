"""The typed, normalised project every consumer works from.

Models are frozen and reject unknown fields. Each field accepts the forms a stack
file may use (short syntax, sizes as ``"512m"``, durations as ``"1m30s"``) and stores
exactly one canonical form, so consumers never see short syntax. The loader
(`composer.spec`) does the work that needs context (interpolation, relative paths,
the shell environment, cross-references); these models check everything local to
a value.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from composer.spec.values import (
    InvalidValue,
    describe,
    list_or_dict,
    parse_cpus,
    parse_duration,
    parse_restart,
    parse_signal,
    parse_size,
    scalar_text,
    split_command,
)
from composer.spec.volumes import parse_volume


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _string_map(value: object) -> dict[str, str]:
    """Labels and options: list or map; numbers become strings, a bare key an empty one."""
    pairs = list_or_dict(value)
    out: dict[str, str] = {}
    for key, val in pairs.items():
        if isinstance(val, dict | list):
            raise InvalidValue(f"expected a string, got {describe(val)}", key=str(key))
        out[str(key)] = "" if val is None else scalar_text(val)
    return out


def _environment(value: object) -> dict[str, str | None]:
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


def _subnet(value: object) -> object:
    if isinstance(value, str):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise InvalidValue(
                f'invalid subnet "{value}"', "use CIDR notation: 10.1.0.0/16"
            ) from None
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


class DependsOn(Model):
    condition: Condition = "service_started"
    required: bool = True
    restart: bool = False


class ServiceNetwork(Model):
    aliases: tuple[str, ...] = ()
    ipv4_address: Annotated[str | None, BeforeValidator(_ip_address)] = None
    # Higher first: the order of the container's interfaces; the default route comes from
    # the first network that is not internal (ties: by network key, as Compose).
    priority: int = 0


class ServiceVolume(Model):
    type: Literal["bind", "volume", "tmpfs"]
    source: str | None = None
    target: str
    read_only: bool = False

    @model_validator(mode="before")
    @classmethod
    def _short_syntax(cls, data: Any) -> Any:
        # Relative bind sources are resolved by the loader, which knows the project dir.
        return parse_volume(data).mount if isinstance(data, str) else data

    @model_validator(mode="after")
    def _consistent(self) -> ServiceVolume:
        if not self.target.startswith("/"):
            raise InvalidValue(f'mount target "{self.target}" must be an absolute path')
        if self.type == "bind" and not self.source:
            raise InvalidValue("a bind mount needs a source")
        if self.type == "tmpfs" and self.source:
            raise InvalidValue("a tmpfs mount takes no source")
        return self


class ResourceLimits(Model):
    memory: Size | None = None
    cpus: Cpus | None = None
    pids: int | None = None


class ResourceReservations(Model):
    memory: Size | None = None
    cpus: Cpus | None = None


class Resources(Model):
    limits: ResourceLimits = Field(default_factory=ResourceLimits)
    reservations: ResourceReservations = Field(default_factory=ResourceReservations)


class Deploy(Model):
    replicas: Annotated[int, Field(ge=0)] | None = None
    resources: Resources = Field(default_factory=Resources)


class Service(Model):
    image: str | None = None
    command: Argv = None
    entrypoint: Argv = None
    environment: Environment = Field(default_factory=dict)
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    container_name: str | None = None
    depends_on: Annotated[
        dict[str, DependsOn],
        BeforeValidator(_name_list, json_schema_input_type=list[str] | dict[str, DependsOn]),
    ] = Field(default_factory=dict)
    mem_limit: Size | None = None
    cpus: Cpus | None = None
    pids_limit: int | None = None
    deploy: Deploy | None = None
    restart: Annotated[RestartPolicy, BeforeValidator(_same, json_schema_input_type=str)] = "no"
    # Not a stack-file key: the N of `restart: on-failure:N`.
    max_retries: int | None = None
    stop_signal: Signal | None = None
    stop_grace_period: Seconds | None = None
    labels: StringMap = Field(default_factory=dict)
    networks: Annotated[
        dict[str, ServiceNetwork | None],
        BeforeValidator(
            _name_list, json_schema_input_type=list[str] | dict[str, ServiceNetwork | None]
        ),
    ] = Field(default_factory=dict)
    volumes: tuple[ServiceVolume, ...] = ()
    profiles: tuple[str, ...] = ()
    # none | host | service:NAME | container:NAME (checked by composer.spec.netrules)
    network_mode: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_restart(cls, data: Any) -> Any:
        if isinstance(data, dict) and "restart" in data and "max_retries" not in data:
            try:
                policy, retries = parse_restart(data["restart"])
            except InvalidValue as exc:
                exc.key = "restart"
                raise
            data = {**data, "restart": policy, "max_retries": retries}
        return data


class IpamConfig(Model):
    subnet: Annotated[str | None, BeforeValidator(_subnet)] = None
    ip_range: Annotated[str | None, BeforeValidator(_subnet)] = None
    gateway: Annotated[str | None, BeforeValidator(_ip_address)] = None
    aux_addresses: dict[str, str] = Field(default_factory=dict)


class Ipam(Model):
    driver: str | None = None
    config: tuple[IpamConfig, ...] = ()
    options: dict[str, str] = Field(default_factory=dict)


class Network(Model):
    """``name`` is None unless the file gives one (or the network is external)."""

    name: str | None = None
    driver: str | None = None
    internal: bool = False
    labels: StringMap = Field(default_factory=dict)
    external: External = False
    driver_opts: StringMap = Field(default_factory=dict)
    ipam: Ipam | None = None
    enable_ipv6: bool = False


class Volume(Model):
    """``name`` is None unless the file gives one (or the volume is external)."""

    name: str | None = None
    driver: str | None = None
    labels: StringMap = Field(default_factory=dict)
    external: External = False


class Project(Model):
    name: str
    working_dir: str
    services: dict[str, Service] = Field(default_factory=dict)
    networks: dict[str, Network] = Field(default_factory=dict)
    volumes: dict[str, Volume] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # Every file the loader read (stack files, includes, extends), absolute; not
    # part of the config output. The CLI's no-op cache is keyed on their contents.
    sources: tuple[str, ...] = ()
