"""The smaller models a service or project is made of: build, develop, deploy and its
resources, logging, volume options, secrets, configs, models, depends_on; with the types
of the Compose keys kept for fidelity."""

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, model_validator

from composer.models.base import (
    Argv,
    Condition,
    Environment,
    Extensible,
    External,
    Model,
    Size,
    StringMap,
)
from composer.spec.values import (
    InvalidValue,
    format_duration,
    parse_duration,
    parse_file_mode,
    parse_micros,
    scalar_text,
    string_or_list,
)

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


class BlkioLimit(Extensible):
    path: str
    rate: Size


class BlkioWeight(Extensible):
    path: str
    weight: Annotated[int, Field(ge=0, le=1000)]


class BlkioConfig(Extensible):
    weight: Annotated[int, Field(ge=0, le=1000)] | None = None
    weight_device: tuple[BlkioWeight, ...] = ()
    device_read_bps: tuple[BlkioLimit, ...] = ()
    device_read_iops: tuple[BlkioLimit, ...] = ()
    device_write_bps: tuple[BlkioLimit, ...] = ()
    device_write_iops: tuple[BlkioLimit, ...] = ()


class FileGrant(Extensible):
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


class Build(Extensible):
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


class CredentialSpec(Extensible):
    config: str | None = None
    file: str | None = None
    registry: str | None = None


class Hook(Extensible):
    """A command run in the container after start or before stop (post_start, pre_stop)."""

    command: Argv
    user: str | None = None
    privileged: bool = False
    working_dir: str | None = None
    environment: Environment = Field(default_factory=dict)


class WatchRule(Extensible):
    path: str
    action: Literal["rebuild", "sync", "restart", "sync+restart", "sync+exec"]
    target: str | None = None
    ignore: StringList = ()
    include: StringList = ()
    exec: Hook | None = None
    initial_sync: bool = False


class Develop(Extensible):
    watch: tuple[WatchRule, ...] = ()


class DeviceRequest(Extensible):
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


class Logging(Extensible):
    driver: str | None = None
    options: Annotated[dict[str, str | None], BeforeValidator(_nullable_strings)] = Field(
        default_factory=dict
    )


class ServiceModel(Extensible):
    endpoint_var: str | None = None
    model_var: str | None = None


class Provider(Extensible):
    type: str
    options: Annotated[
        dict[str, tuple[str, ...]],
        BeforeValidator(_options, json_schema_input_type=dict[str, str | float | bool | list[str]]),
    ] = Field(default_factory=dict)


# deploy: keys beyond replicas and resources (swarm-oriented).


class Placement(Extensible):
    constraints: tuple[str, ...] = ()
    preferences: tuple[dict[Literal["spread"], str], ...] = ()
    max_replicas_per_node: int | None = None


class RestartPolicyConfig(Extensible):
    condition: Literal["none", "on-failure", "any"] | None = None
    delay: GoDuration | None = None
    max_attempts: int | None = None
    window: GoDuration | None = None


class UpdateConfig(Extensible):
    parallelism: int | None = None
    delay: GoDuration | None = None
    failure_action: str | None = None
    monitor: GoDuration | None = None
    max_failure_ratio: float | None = None
    order: Literal["start-first", "stop-first"] | None = None


class DiscreteResourceSpec(Extensible):
    kind: str
    value: int | float


class GenericResource(Extensible):
    discrete_resource_spec: DiscreteResourceSpec


# mounts: the per-type options of a service volume.


class BindOptions(Extensible):
    propagation: Literal["private", "rprivate", "shared", "rshared", "slave", "rslave"] | None = None
    create_host_path: bool = True
    recursive: Literal["enabled", "disabled", "writable", "readonly"] | None = None
    selinux: Literal["z", "Z"] | None = None


class VolumeOptions(Extensible):
    labels: StringMap = Field(default_factory=dict)
    nocopy: bool = False
    subpath: str | None = None


class TmpfsOptions(Extensible):
    size: Size | None = None
    mode: FileMode | None = None


class ImageOptions(Extensible):
    subpath: str | None = None


# top level: secrets, configs, models.


class Secret(Extensible):
    """``file`` is absolute after loading."""

    name: str | None = None
    environment: str | None = None
    file: str | None = None
    external: External = False
    labels: StringMap = Field(default_factory=dict)
    driver: str | None = None
    driver_opts: StringMap = Field(default_factory=dict)
    template_driver: str | None = None


class Config(Extensible):
    """``file`` is absolute after loading."""

    name: str | None = None
    content: str | None = None
    environment: str | None = None
    file: str | None = None
    external: External = False
    labels: StringMap = Field(default_factory=dict)
    template_driver: str | None = None


class ModelDefinition(Extensible):
    """A top-level ``models:`` entry (an AI model served to services)."""

    name: str | None = None
    model: str
    context_size: int | None = None
    runtime_flags: tuple[str, ...] = ()


class DependsOn(Model):
    condition: Condition = "service_started"
    required: bool = True
    restart: bool = False
