"""The typed, normalised project every consumer works from.

Models are frozen and reject unknown fields. Each field accepts the forms a stack
file may use (short syntax, sizes as ``"512m"``, durations as ``"1m30s"``) and stores
exactly one canonical form, so consumers never see short syntax. The loader
(`composer.spec`) does the work that needs context (interpolation, relative paths,
the shell environment, cross-references); these models check everything local to
a value.

The models live in submodules (base: `Model` and the field types; parts: the smaller
models a service or project is made of; service; project); import them from here.
The submodules do without `from __future__ import annotations`: pydantic would compile
and evaluate every annotation string as it builds the classes (~12 ms of each CLI run),
so a type is defined before its first use. pydantic generates each model's core schema
once per code version: the schemas are cached between runs (`schemacache`).
"""

from __future__ import annotations

from composer.models import schemacache as _schemacache
from composer.models.base import (
    Argv,
    Condition,
    Cpus,
    Environment,
    External,
    Model,
    RestartPolicy,
    Seconds,
    Signal,
    Size,
    StringMap,
    parse_extra_host,
)
from composer.models.parts import (
    BindOptions,
    BlkioConfig,
    BlkioLimit,
    BlkioWeight,
    Build,
    Config,
    CredentialSpec,
    DependsOn,
    Develop,
    DeviceRequest,
    DiscreteResourceSpec,
    FileGrant,
    FileMode,
    GenericResource,
    GoDuration,
    Gpus,
    Hook,
    ImageOptions,
    Logging,
    Micros,
    ModelDefinition,
    Placement,
    Provider,
    RestartPolicyConfig,
    Secret,
    ServiceModel,
    StringList,
    TmpfsOptions,
    UpdateConfig,
    VolumeOptions,
    WatchRule,
    fold_scale,
)
from composer.models.project import (
    Ipam,
    IpamConfig,
    Network,
    Project,
    Volume,
)
from composer.models.service import (
    Deploy,
    DeviceMapping,
    Devices,
    GroupAdd,
    Healthcheck,
    PortMapping,
    ProcessSettings,
    ResourceLimits,
    ResourceReservations,
    Resources,
    Service,
    ServiceNetwork,
    ServiceVolume,
    Sysctls,
    TmpfsList,
    TmpfsMount,
    Ulimit,
    Ulimits,
)

__all__ = [
    "Argv",
    "BindOptions",
    "BlkioConfig",
    "BlkioLimit",
    "BlkioWeight",
    "Build",
    "Condition",
    "Config",
    "Cpus",
    "CredentialSpec",
    "DependsOn",
    "Deploy",
    "Develop",
    "DeviceMapping",
    "DeviceRequest",
    "Devices",
    "DiscreteResourceSpec",
    "Environment",
    "External",
    "FileGrant",
    "FileMode",
    "GenericResource",
    "GoDuration",
    "Gpus",
    "GroupAdd",
    "Healthcheck",
    "Hook",
    "ImageOptions",
    "Ipam",
    "IpamConfig",
    "Logging",
    "Micros",
    "Model",
    "ModelDefinition",
    "Network",
    "Placement",
    "PortMapping",
    "ProcessSettings",
    "Project",
    "Provider",
    "ResourceLimits",
    "ResourceReservations",
    "Resources",
    "RestartPolicy",
    "RestartPolicyConfig",
    "Seconds",
    "Secret",
    "Service",
    "ServiceModel",
    "ServiceNetwork",
    "ServiceVolume",
    "Signal",
    "Size",
    "StringList",
    "StringMap",
    "Sysctls",
    "TmpfsList",
    "TmpfsMount",
    "TmpfsOptions",
    "Ulimit",
    "Ulimits",
    "UpdateConfig",
    "Volume",
    "VolumeOptions",
    "WatchRule",
    "fold_scale",
    "parse_extra_host",
]


def _subclasses(model: type[Model]) -> list[type[Model]]:
    return [model] + [sub for direct in model.__subclasses__() for sub in _subclasses(direct)]


# Models built where threads may run (composer.translate, imagechanges) are built now:
# pydantic's first-use build is not thread-safe.
_schemacache.load(list(dict.fromkeys(_subclasses(Model))),
                  eager=(Healthcheck, Resources, ResourceLimits, ResourceReservations))
