"""A service: healthcheck, networks, volumes, ports, process settings, resources, and
`Service` itself."""

import functools
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, model_validator

from composer.models.base import (
    Argv,
    Cpus,
    Environment,
    Extensible,
    Model,
    RestartPolicy,
    Seconds,
    Signal,
    Size,
    StringMap,
    _cpuset,
    _extra_hosts,
    _interface_name,
    _ip_address,
    _ip_list,
    _mac_address,
    _name_list,
    _same,
    _string_list,
    _swap_size,
)
from composer.models.parts import (
    BindOptions,
    BlkioConfig,
    Build,
    CredentialSpec,
    DependsOn,
    Develop,
    DeviceRequest,
    FileGrant,
    GenericResource,
    Gpus,
    Hook,
    ImageOptions,
    Logging,
    Micros,
    Placement,
    Provider,
    RestartPolicyConfig,
    ServiceModel,
    TmpfsOptions,
    UpdateConfig,
    VolumeOptions,
    fold_scale,
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
    parse_pull_policy,
    parse_restart,
    scalar_text,
)
from composer.spec.volumes import parse_volume


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
    def _disable_alone(self) -> Self:
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
    def _consistent(self) -> Self:
        # Each field read once: reading a model's attribute takes pydantic's __getattr__
        # hook, several times the cost of a local (three volumes a service, in every stack).
        kind, source, target = self.type, self.source, self.target
        if not target.startswith("/"):
            raise InvalidValue(f'mount target "{target}" must be an absolute path')
        if kind == "bind" and not source:
            raise InvalidValue("a bind mount needs a source")
        if kind == "tmpfs" and source:
            raise InvalidValue("a tmpfs mount takes no source")
        for option in ("bind", "volume", "tmpfs", "image"):
            if option != kind and getattr(self, option) is not None:
                raise InvalidValue(f"`{option}` options do not apply to a {kind} mount", key=option)
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


class Ulimit(Extensible):
    soft: int  # -1: unlimited
    hard: int


class TmpfsMount(Extensible):
    target: str
    options: tuple[str, ...] = ()  # validated flags and data options, e.g. ("size=64m", "noexec")


class DeviceMapping(Extensible):
    source: str
    target: str | None = None  # None: the same path as on the host
    permissions: Annotated[str, BeforeValidator(check_device_permissions)] = "rwm"


def _ulimit_json(limit: Ulimit) -> int | dict[str, int]:
    """As Compose writes it: one number when soft and hard agree."""
    return limit.soft if limit.soft == limit.hard else {"soft": limit.soft, "hard": limit.hard}


def _tmpfs_json(mounts: tuple[TmpfsMount, ...]) -> list[str]:
    """As written: ``/path[:options]``."""
    return [f"{m.target}:{','.join(m.options)}" if m.options else m.target for m in mounts]


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


# The defaults of the resource models: frozen, so one empty instance serves every service
# (a factory that is the model class validates an empty one again each time, a Python
# call into pydantic per service). A factory, not a default: the schema stays as it is.
# Made on first use, not at import: the models are built once their schemas are read from
# the cache (composer.models.schemacache), and functions, not lambdas, which the cache
# pickles by name.
@functools.cache
def _no_limits() -> ResourceLimits:
    return ResourceLimits()


@functools.cache
def _no_reservations() -> ResourceReservations:
    return ResourceReservations()


class Resources(Model):
    limits: ResourceLimits = Field(default_factory=_no_limits)
    reservations: ResourceReservations = Field(default_factory=_no_reservations)


@functools.cache
def _no_resources() -> Resources:
    return Resources()


class Deploy(Model):
    replicas: Annotated[int, Field(ge=0)] | None = None
    resources: Resources = Field(default_factory=_no_resources)
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
    def _fold(cls, data: Any) -> Any:
        """``scale: N`` into ``deploy.replicas``, ``restart: on-failure:N`` into ``restart``
        and ``max_retries`` (one validator: each is a Python call per service)."""
        data = fold_scale(data)
        if isinstance(data, dict) and "restart" in data and "max_retries" not in data:
            try:
                policy, retries = parse_restart(data["restart"])
            except InvalidValue as exc:
                exc.key = "restart"
                raise
            data = {**data, "restart": policy, "max_retries": retries}
        return data
