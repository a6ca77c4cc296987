"""The project: networks, volumes, and `Project`, the root every consumer works from."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from composer.models.base import External, Model, StringMap, _ip_address, _subnet
from composer.models.parts import Config, ModelDefinition, Secret
from composer.models.service import Service


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
