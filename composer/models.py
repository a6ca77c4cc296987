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
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from composer.spec.ports import (
    parse_expose,
    parse_host_ip,
    parse_port,
    parse_protocol,
    parse_published,
    parse_target,
)
from composer.spec.process_values import (
    check_device_permissions,
    parse_device,
    parse_group_add,
    parse_sysctls,
    parse_tmpfs,
    parse_ulimit,
)
from composer.spec.values import (
    InvalidValue,
    describe,
    format_duration,
    list_or_dict,
    parse_cpus,
    parse_duration,
    parse_file_mode,
    parse_micros,
    parse_pull_policy,
    parse_restart,
    parse_signal,
    parse_size,
    scalar_text,
    split_command,
    string_or_list,
)
from composer.spec.volumes import parse_volume


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        """``x-*`` keys are extensions, allowed in any mapping of the spec."""
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.startswith("x-"):
                    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
        return data


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


# --- Compose keys kept for fidelity -------------------------------------------------
# Typed as the Compose spec shapes them (short syntax normalised to the long form);
# composer.support warns about each one pycompose does not act on yet. Defined before
# the models that use them: a forward reference would make pydantic build those twice.

GoDuration = Annotated[
    float,
    BeforeValidator(parse_duration, json_schema_input_type=str),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
# Microseconds: an integer, or a duration string.
Micros = Annotated[int, BeforeValidator(parse_micros, json_schema_input_type=int | str)]
FileMode = Annotated[int, BeforeValidator(parse_file_mode, json_schema_input_type=int | str)]
StringList = Annotated[
    tuple[str, ...], BeforeValidator(string_or_list, json_schema_input_type=str | list[str])
]


def _grant(value: object) -> object:
    """``- name`` → ``{source: name}`` (service secrets and configs)."""
    return {"source": value} if isinstance(value, str) else value


def _build(value: object) -> object:
    """``build: ./dir`` → ``{context: ./dir}``."""
    return {"context": value} if isinstance(value, str) else value


def _gpus(value: object) -> object:
    """``gpus: all`` → one request for every GPU (``count: -1``), as Compose stores it."""
    if value == "all":
        return [{"count": -1}]
    if isinstance(value, str):
        raise InvalidValue(f'invalid gpus "{value}"', 'use "all" or a list of device requests')
    return value


def _host_entries(value: object) -> object:
    """``[host:ip]``, ``[host=ip]`` or ``{host: ip | [ip]}`` → ``("host=ip", ...)``."""
    if isinstance(value, dict):
        return [f"{host}={ip}" for host, ips in value.items()
                for ip in (ips if isinstance(ips, list) else [ips])]
    if isinstance(value, list):
        return [item.replace(":", "=", 1) if isinstance(item, str) and "=" not in item else item
                for item in value]
    return value


def _count(value: object) -> object:
    return -1 if value == "all" else value


def _options(value: object) -> object:
    """Provider options: each value a string or a list of them."""
    if not isinstance(value, dict):
        return value
    return {
        str(key): tuple(scalar_text(v) for v in item) if isinstance(item, list) else (scalar_text(item),)
        for key, item in value.items()
    }


def _nullable_strings(value: object) -> object:
    """Logging/driver options: numbers become strings, null stays null."""
    if not isinstance(value, dict):
        return value
    return {str(k): None if v is None else scalar_text(v) if not isinstance(v, dict | list) else v
            for k, v in value.items()}


def fold_scale(data: Any) -> Any:
    """``scale: N`` is ``deploy.replicas: N``; both with different values is an error."""
    if not isinstance(data, dict) or data.get("scale") is None:
        return data
    scale = data["scale"]
    if isinstance(scale, str) and scale.isdigit():
        scale = int(scale)
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 0:
        raise InvalidValue(f"invalid scale {scale!r}", "use a number of replicas", key="scale")
    deploy = data.get("deploy") or {}
    if not isinstance(deploy, dict):
        return data
    replicas = deploy.get("replicas")
    if replicas is not None and replicas != scale:
        raise InvalidValue(f"scale {scale} and deploy.replicas {replicas} differ", "set only one of them",
                           key="scale")
    out = {key: value for key, value in data.items() if key != "scale"}
    out["deploy"] = {**deploy, "replicas": scale}
    return out


class BlkioLimit(Model):
    path: str
    rate: Size


class BlkioWeight(Model):
    path: str
    weight: Annotated[int, Field(ge=0, le=1000)]


class BlkioConfig(Model):
    weight: Annotated[int, Field(ge=0, le=1000)] | None = None
    weight_device: tuple[BlkioWeight, ...] = ()
    device_read_bps: tuple[BlkioLimit, ...] = ()
    device_read_iops: tuple[BlkioLimit, ...] = ()
    device_write_bps: tuple[BlkioLimit, ...] = ()
    device_write_iops: tuple[BlkioLimit, ...] = ()


class FileGrant(Model):
    """A service's use of a top-level secret or config."""

    source: str
    target: str | None = None
    uid: str | None = None
    gid: str | None = None
    mode: FileMode | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_syntax(cls, data: Any) -> Any:
        return _grant(data)


class Build(Model):
    """``context`` is absolute after loading unless it is a URL."""

    context: str | None = None
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    entitlements: tuple[str, ...] = ()
    args: Environment = Field(default_factory=dict)
    ssh: Environment = Field(default_factory=dict)
    labels: StringMap = Field(default_factory=dict)
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    no_cache: bool = False
    additional_contexts: StringMap = Field(default_factory=dict)
    network: str | None = None
    provenance: bool | str | None = None
    sbom: bool | str | None = None
    pull: bool = False
    target: str | None = None
    shm_size: Size | None = None
    extra_hosts: Annotated[
        tuple[str, ...],
        BeforeValidator(_host_entries, json_schema_input_type=list[str] | dict[str, str | list[str]]),
    ] = ()
    isolation: str | None = None
    privileged: bool = False
    secrets: tuple[FileGrant, ...] = ()
    tags: tuple[str, ...] = ()
    ulimits: dict[str, int | dict[str, int]] = Field(default_factory=dict)
    platforms: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _short_syntax(cls, data: Any) -> Any:
        return _build(data)


class CredentialSpec(Model):
    config: str | None = None
    file: str | None = None
    registry: str | None = None


class Hook(Model):
    """A command run in the container after start or before stop (post_start, pre_stop)."""

    command: Argv
    user: str | None = None
    privileged: bool = False
    working_dir: str | None = None
    environment: Environment = Field(default_factory=dict)


class WatchRule(Model):
    path: str
    action: Literal["rebuild", "sync", "restart", "sync+restart", "sync+exec"]
    target: str | None = None
    ignore: StringList = ()
    include: StringList = ()
    exec: Hook | None = None
    initial_sync: bool = False


class Develop(Model):
    watch: tuple[WatchRule, ...] = ()


class DeviceRequest(Model):
    """A GPU or other device request (``gpus``, ``deploy.resources.reservations.devices``);
    ``count: -1`` means all."""

    capabilities: tuple[str, ...] = ()
    count: Annotated[int | None, BeforeValidator(_count, json_schema_input_type=int | str)] = None
    device_ids: tuple[str, ...] = ()
    driver: str | None = None
    options: StringMap = Field(default_factory=dict)


Gpus = Annotated[
    tuple[DeviceRequest, ...],
    BeforeValidator(_gpus, json_schema_input_type=Literal["all"] | list[DeviceRequest]),
]


class Logging(Model):
    driver: str | None = None
    options: Annotated[dict[str, str | None], BeforeValidator(_nullable_strings)] = Field(
        default_factory=dict
    )


class ServiceModel(Model):
    endpoint_var: str | None = None
    model_var: str | None = None


class Provider(Model):
    type: str
    options: Annotated[
        dict[str, tuple[str, ...]],
        BeforeValidator(_options, json_schema_input_type=dict[str, str | float | bool | list[str]]),
    ] = Field(default_factory=dict)


# deploy: keys beyond replicas and resources (swarm-oriented).


class Placement(Model):
    constraints: tuple[str, ...] = ()
    preferences: tuple[dict[Literal["spread"], str], ...] = ()
    max_replicas_per_node: int | None = None


class RestartPolicyConfig(Model):
    condition: Literal["none", "on-failure", "any"] | None = None
    delay: GoDuration | None = None
    max_attempts: int | None = None
    window: GoDuration | None = None


class UpdateConfig(Model):
    parallelism: int | None = None
    delay: GoDuration | None = None
    failure_action: str | None = None
    monitor: GoDuration | None = None
    max_failure_ratio: float | None = None
    order: Literal["start-first", "stop-first"] | None = None


class DiscreteResourceSpec(Model):
    kind: str
    value: int | float


class GenericResource(Model):
    discrete_resource_spec: DiscreteResourceSpec


# mounts: the per-type options of a service volume.


class BindOptions(Model):
    propagation: Literal["private", "rprivate", "shared", "rshared", "slave", "rslave"] | None = None
    create_host_path: bool = True
    recursive: Literal["enabled", "disabled", "writable", "readonly"] | None = None
    selinux: Literal["z", "Z"] | None = None


class VolumeOptions(Model):
    labels: StringMap = Field(default_factory=dict)
    nocopy: bool = False
    subpath: str | None = None


class TmpfsOptions(Model):
    size: Size | None = None
    mode: FileMode | None = None


class ImageOptions(Model):
    subpath: str | None = None


# top level: secrets, configs, models.


class Secret(Model):
    """``file`` is absolute after loading."""

    name: str | None = None
    environment: str | None = None
    file: str | None = None
    external: External = False
    labels: StringMap = Field(default_factory=dict)
    driver: str | None = None
    driver_opts: StringMap = Field(default_factory=dict)
    template_driver: str | None = None


class Config(Model):
    """``file`` is absolute after loading."""

    name: str | None = None
    content: str | None = None
    environment: str | None = None
    file: str | None = None
    external: External = False
    labels: StringMap = Field(default_factory=dict)
    template_driver: str | None = None


class ModelDefinition(Model):
    """A top-level ``models:`` entry (an AI model served to services)."""

    name: str | None = None
    model: str
    context_size: int | None = None
    runtime_flags: tuple[str, ...] = ()


class DependsOn(Model):
    condition: Condition = "service_started"
    required: bool = True
    restart: bool = False


def _healthcheck_test(value: object) -> object:
    """A string is CMD-SHELL (as Compose); a list must start with NONE, CMD or CMD-SHELL."""
    if isinstance(value, str):
        return ("CMD-SHELL", value)
    if not isinstance(value, list | tuple):
        raise InvalidValue(f"expected a string or a list of strings, got {describe(value)}")
    if not value:
        return None  # Docker: an empty test inherits the image's
    if any(isinstance(item, dict | list | tuple) or item is None for item in value):
        raise InvalidValue("expected a list of strings")
    kind, *args = (scalar_text(item) for item in value)
    if kind == "NONE" and args:
        raise InvalidValue("NONE takes no arguments")
    if kind in ("CMD", "CMD-SHELL") and not args:
        raise InvalidValue(f"{kind} needs a command")
    if kind not in ("NONE", "CMD", "CMD-SHELL"):
        raise InvalidValue(f'unknown test type "{kind}"', 'start the list with "CMD", "CMD-SHELL" or "NONE"')
    return (kind, *args)


class Healthcheck(Model):
    """`healthcheck:` with `test` normalised to Docker's form (("CMD-SHELL", "cmd"), ...)."""

    test: Annotated[
        tuple[str, ...] | None,
        BeforeValidator(_healthcheck_test, json_schema_input_type=str | list[str]),
    ] = None
    interval: Seconds | None = None
    timeout: Seconds | None = None
    start_period: Seconds | None = None
    start_interval: Seconds | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    disable: bool = False

    @model_validator(mode="after")
    def _disable_alone(self) -> Healthcheck:
        if self.disable and self.test is not None and self.test != ("NONE",):
            raise InvalidValue("`disable: true` cannot be combined with a test", key="disable")
        return self


class ServiceNetwork(Model):
    aliases: tuple[str, ...] = ()
    ipv4_address: Annotated[str | None, BeforeValidator(_ip_address)] = None
    # Higher first: the order of the container's interfaces (ties: by network key, as Compose).
    priority: int = 0
    # The default route comes from the network that is not internal with the highest
    # gw_priority (ties: the first in the order above).
    gw_priority: int = 0
    interface_name: Annotated[str | None, BeforeValidator(_interface_name)] = None  # else ethN
    mac_address: Annotated[str | None, BeforeValidator(_mac_address)] = None


class ServiceVolume(Model):
    type: Literal["bind", "volume", "tmpfs", "image", "npipe", "cluster"]
    source: str | None = None
    target: str
    read_only: bool = False
    consistency: str | None = None
    bind: BindOptions | None = None
    volume: VolumeOptions | None = None
    tmpfs: TmpfsOptions | None = None
    image: ImageOptions | None = None

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
        for option in ("bind", "volume", "tmpfs", "image"):
            if getattr(self, option) is not None and self.type != option:
                raise InvalidValue(f"`{option}` options do not apply to a {self.type} mount", key=option)
        return self


class PortMapping(Model):
    """One published (or, without `published`, ephemerally published) container port.

    `published` is ``"8080"`` or a range ``"8000-8010"`` to take one free port from.
    `mode`, `name` and `app_protocol` are descriptive outside a swarm, as in Compose.
    """

    target: Annotated[int, BeforeValidator(parse_target, json_schema_input_type=int | str)]
    published: Annotated[
        str | None, BeforeValidator(parse_published, json_schema_input_type=str | int | None)
    ] = None
    host_ip: Annotated[str | None, BeforeValidator(parse_host_ip)] = None
    protocol: Annotated[
        Literal["tcp", "udp"], BeforeValidator(parse_protocol, json_schema_input_type=str)
    ] = "tcp"
    mode: Literal["ingress", "host"] = "ingress"
    name: str | None = None
    app_protocol: str | None = None

    @property
    def published_range(self) -> tuple[int, int] | None:
        if self.published is None:
            return None
        first, _, last = self.published.partition("-")
        return int(first), int(last or first)


def _ports(value: object) -> object:
    """Short entries expand (a range gives one mapping per port); exact duplicates go."""
    if not isinstance(value, list | tuple):
        return value
    return [m for item in value for m in (parse_port(item) if not isinstance(item, PortMapping) else [item])]


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


# --- process settings: read_only, tmpfs, shm_size, group_add, ulimits, sysctls, init, devices ---


def _ulimit_json(limit: Ulimit) -> int | dict[str, int]:
    """As Compose writes it: one number when soft and hard agree."""
    return limit.soft if limit.soft == limit.hard else {"soft": limit.soft, "hard": limit.hard}


def _tmpfs_json(mounts: tuple[TmpfsMount, ...]) -> list[str]:
    """As written: ``/path[:options]``."""
    return [f"{m.target}:{','.join(m.options)}" if m.options else m.target for m in mounts]


class Ulimit(Model):
    soft: int  # -1: unlimited
    hard: int


class TmpfsMount(Model):
    target: str
    options: tuple[str, ...] = ()  # validated flags and data options, e.g. ("size=64m", "noexec")


class DeviceMapping(Model):
    source: str
    target: str | None = None  # None: the same path as on the host
    permissions: Annotated[str, BeforeValidator(check_device_permissions)] = "rwm"


def _ulimits(value: object) -> object:
    if not isinstance(value, dict):
        return value
    out = {}
    for name, limit in value.items():
        try:
            out[name] = parse_ulimit(limit, str(name))
        except InvalidValue as exc:
            exc.key = str(name)
            raise
    return out


Ulimits = Annotated[
    dict[str, Annotated[Ulimit, PlainSerializer(_ulimit_json, when_used="json")]],
    BeforeValidator(_ulimits, json_schema_input_type=dict[str, int | str | Ulimit]),
]
TmpfsList = Annotated[
    tuple[TmpfsMount, ...],
    BeforeValidator(parse_tmpfs, json_schema_input_type=str | list[str]),
    PlainSerializer(_tmpfs_json, when_used="json"),
]
Devices = tuple[
    Annotated[DeviceMapping, BeforeValidator(parse_device, json_schema_input_type=str | DeviceMapping)], ...
]
Sysctls = Annotated[
    dict[str, str],
    BeforeValidator(parse_sysctls, json_schema_input_type=dict[str, str | float | bool] | list[str]),
]
GroupAdd = Annotated[
    tuple[str, ...], BeforeValidator(parse_group_add, json_schema_input_type=list[str | int])
]


class ProcessSettings(Model):
    """The service keys of the process block (a mixin of Service, kept together for merges)."""

    read_only: bool = False
    tmpfs: TmpfsList = ()
    shm_size: Size | None = None
    group_add: GroupAdd = ()
    ulimits: Ulimits = Field(default_factory=dict)
    sysctls: Sysctls = Field(default_factory=dict)
    init: bool | None = None
    devices: Devices = ()


class ResourceLimits(Model):
    memory: Size | None = None
    cpus: Cpus | None = None
    pids: int | None = None


class ResourceReservations(Model):
    memory: Size | None = None
    cpus: Cpus | None = None
    devices: tuple[DeviceRequest, ...] = ()
    generic_resources: tuple[GenericResource, ...] = ()


class Resources(Model):
    limits: ResourceLimits = Field(default_factory=ResourceLimits)
    reservations: ResourceReservations = Field(default_factory=ResourceReservations)


class Deploy(Model):
    replicas: Annotated[int, Field(ge=0)] | None = None
    resources: Resources = Field(default_factory=Resources)
    mode: Literal["replicated", "global", "replicated-job", "global-job"] | None = None
    endpoint_mode: Literal["vip", "dnsrr"] | None = None
    labels: StringMap = Field(default_factory=dict)
    placement: Placement | None = None
    restart_policy: RestartPolicyConfig | None = None
    rollback_config: UpdateConfig | None = None
    update_config: UpdateConfig | None = None


class Service(ProcessSettings):
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
    # cgroup settings beyond the limits (docker run's --memory-reservation, --memory-swap, ...)
    mem_reservation: Size | None = None
    memswap_limit: Annotated[int, BeforeValidator(_swap_size, json_schema_input_type=int | str)] | None = None
    cpu_shares: Annotated[int, Field(ge=0)] | None = None
    cpuset: Annotated[str, BeforeValidator(_cpuset, json_schema_input_type=str)] | None = None
    cpu_period: Annotated[int, Field(ge=0)] | None = None  # microseconds
    cpu_quota: Annotated[int, Field(ge=-1)] | None = None  # microseconds per period, -1 unlimited
    oom_kill_disable: bool | None = None
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
    # Name resolution: /etc/hosts additions and the container's resolv.conf.
    extra_hosts: Annotated[
        dict[str, tuple[str, ...]],
        BeforeValidator(_extra_hosts, json_schema_input_type=dict[str, str | list[str]] | list[str]),
    ] = Field(default_factory=dict)
    dns: Annotated[tuple[str, ...], BeforeValidator(_ip_list, json_schema_input_type=str | list[str])] = ()
    dns_search: Annotated[
        tuple[str, ...], BeforeValidator(_string_list, json_schema_input_type=str | list[str])
    ] = ()
    dns_opt: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None
    ports: Annotated[
        tuple[PortMapping, ...],
        BeforeValidator(_ports, json_schema_input_type=list[str | int | PortMapping]),
        AfterValidator(_distinct),
    ] = ()
    expose: Annotated[
        tuple[Annotated[str, BeforeValidator(parse_expose, json_schema_input_type=str | int)], ...],
        AfterValidator(_distinct),
    ] = ()
    # Isolation (composer/security.py turns these into the runtime's Security).
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    security_opt: tuple[str, ...] = ()
    # Every other Compose service key, typed; the ones pycompose does not act on are
    # reported by composer.support. `scale` is folded into deploy.replicas.
    annotations: StringMap = Field(default_factory=dict)
    attach: bool = True
    blkio_config: BlkioConfig | None = None
    build: Build | None = None
    cgroup: Literal["host", "private"] | None = None
    cgroup_parent: str | None = None
    configs: tuple[FileGrant, ...] = ()
    cpu_count: Annotated[int, Field(ge=0)] | None = None
    cpu_percent: Annotated[int, Field(ge=0, le=100)] | None = None
    cpu_rt_period: Micros | None = None
    cpu_rt_runtime: Micros | None = None
    credential_spec: CredentialSpec | None = None
    develop: Develop | None = None
    device_cgroup_rules: tuple[str, ...] = ()
    domainname: str | None = None
    external_links: tuple[str, ...] = ()
    gpus: Gpus = ()
    ipc: str | None = None
    isolation: str | None = None
    links: tuple[str, ...] = ()
    logging: Logging | None = None
    mac_address: Annotated[str | None, BeforeValidator(_mac_address)] = None  # on its first network
    mem_swappiness: Annotated[int, Field(ge=0, le=100)] | None = None
    models: Annotated[
        dict[str, ServiceModel | None],
        BeforeValidator(_name_list, json_schema_input_type=list[str] | dict[str, ServiceModel | None]),
    ] = Field(default_factory=dict)
    oom_score_adj: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    pid: str | None = None
    platform: str | None = None
    post_start: tuple[Hook, ...] = ()
    pre_start: tuple[Hook, ...] = ()
    pre_stop: tuple[Hook, ...] = ()
    provider: Provider | None = None
    pull_policy: Annotated[str | None, BeforeValidator(parse_pull_policy)] = None
    pull_refresh_after: str | None = None
    runtime: str | None = None
    secrets: tuple[FileGrant, ...] = ()
    stdin_open: bool = False
    storage_opt: StringMap = Field(default_factory=dict)
    tty: bool = False
    use_api_socket: bool = False
    userns_mode: str | None = None
    uts: str | None = None
    volumes_from: tuple[str, ...] = ()
    # none | host | service:NAME | container:NAME (checked by composer.spec.netrules)
    network_mode: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scale_is_replicas(cls, data: Any) -> Any:
        return fold_scale(data)

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
    driver_opts: StringMap = Field(default_factory=dict)


class Project(Model):
    name: str
    working_dir: str
    services: dict[str, Service] = Field(default_factory=dict)
    networks: dict[str, Network] = Field(default_factory=dict)
    volumes: dict[str, Volume] = Field(default_factory=dict)
    secrets: dict[str, Secret] = Field(default_factory=dict)
    configs: dict[str, Config] = Field(default_factory=dict)
    models: dict[str, ModelDefinition] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # Every file the loader read (stack files, includes, extends), absolute; not
    # part of the config output. The CLI's no-op cache is keyed on their contents.
    sources: tuple[str, ...] = ()
