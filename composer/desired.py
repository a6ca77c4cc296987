"""The desired state of a project: images resolved, config hashes computed, names scoped."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple

from composer.errors import PlanError
from composer.graph import netns_owner, service_dependencies
from composer.hashing import config_hash
from composer.models import Network, Project
from composer.naming import LABEL_CONFIG_HASH, LABEL_NETWORK, LABEL_PROJECT, scoped_name
from composer.plan import DesiredNetwork, DesiredService
from composer.spec.netrules import configured_subnet, network_mtu
from network import Endpoint, NetworkSpec
from runtime.images import Image, ImageStore


@dataclass(frozen=True)
class Desired:
    services: tuple[DesiredService, ...]  # in start order
    networks: tuple[DesiredNetwork, ...]
    images: dict[str, Image]  # service name -> image


def network_name(project: Project, key: str) -> str:
    network = project.networks.get(key)
    if network is not None and network.name:
        return network.name
    return scoped_name(project.name, key)


def volume_name(project: Project, key: str) -> str:
    volume = project.volumes.get(key)
    if volume is not None and volume.name:
        return volume.name
    return scoped_name(project.name, key)


def network_keys(project: Project, service: str) -> list[str]:
    """The service's network keys in attach order: priority first (higher wins), then key,
    as Compose orders them. The first network that is not internal gives the default route."""
    networks = project.services[service].networks

    def rank(key: str) -> tuple[int, str]:
        settings = networks[key]
        return (-(settings.priority if settings else 0), key)

    return sorted(networks, key=rank)


class Wiring(NamedTuple):
    """One network of a service as the network layer is asked to attach it."""

    network: str  # its full name
    address: str | None = None  # the requested ipv4_address
    endpoint: Endpoint = Endpoint()  # interface_name, mac_address, gw_priority


def service_networks(project: Project, service: str) -> list[Wiring]:
    """The service's networks in attach order. A service-level `mac_address` is the MAC on
    the first of them (the highest `priority`), as Compose applies it."""
    spec = project.services[service]
    wirings = []
    for index, key in enumerate(network_keys(project, service)):
        settings = spec.networks[key]
        mac = settings.mac_address if settings else None
        endpoint = Endpoint(settings.interface_name if settings else None,
                            mac or (spec.mac_address if index == 0 else None),
                            settings.gw_priority if settings else 0)
        wirings.append(Wiring(network_name(project, key), settings.ipv4_address if settings else None, endpoint))
    return wirings


def static_addresses(project: Project) -> dict[str, tuple[str, ...]]:
    """network -> the `ipv4_address`es the project's services ask for on it: kept out of
    dynamic allocation, so a container created first cannot take one (containers are
    created in parallel)."""
    found: dict[str, list[str]] = {}
    for name in project.services:
        for network, address, _ in service_networks(project, name):
            if address:
                found.setdefault(network, []).append(address)
    return {network: tuple(sorted(addresses)) for network, addresses in found.items()}


def network_hash(network: Network) -> str:
    """What forces a network to be recreated (Compose keeps it as the network's config-hash)."""
    document = network.model_dump(mode="json", exclude={"external"})
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def network_spec(project: Project, key: str) -> NetworkSpec:
    """What the network layer is asked to make for the network `key` of the file."""
    network = project.networks[key]
    labels = {
        **network.labels,
        LABEL_PROJECT: project.name,
        LABEL_NETWORK: key,
        LABEL_CONFIG_HASH: network_hash(network),
    }
    config = network.ipam.config[0] if network.ipam and network.ipam.config else None
    subnet = configured_subnet(network)
    return NetworkSpec(
        name=network_name(project, key),
        labels=labels,
        internal=network.internal,
        subnet=str(subnet) if subnet else None,
        gateway=config.gateway if config else None,
        ip_range=config.ip_range if config else None,
        mtu=network_mtu(network),
    )


def desired_state(project: Project, order: list[str], images: ImageStore) -> Desired:
    """Fails before anything is created when a service's image is not in the store."""
    resolved: dict[str, Image] = {}
    for name in order:
        service = project.services[name]
        if not service.image:
            raise PlanError(f'service "{name}" has no image', hint="building images is not supported yet")
        image = images.find(service.image)
        if image is None:
            raise PlanError(
                f'service "{name}": image "{service.image}" is not in the image store',
                hint=f"make it with `pycompose image import ROOTFS.tar {service.image}`",
            )
        resolved[name] = image
    services = tuple(
        DesiredService(
            name=name,
            config_hash=config_hash(project.services[name], resolved[name].id),
            depends_on=tuple(service_dependencies(project.services[name])),
            networks=tuple(network_name(project, key) for key in network_keys(project, name)),
            container_name=project.services[name].container_name,
            netns_owner=netns_owner(project.services[name]),
        )
        for name in order
    )
    used = sorted({key for s in project.services.values() for key in s.networks})
    networks = tuple(
        DesiredNetwork(network_name(project, key), key, bool(project.networks[key].external),
                       network_hash(project.networks[key]))
        for key in used
    )
    return Desired(services, networks, resolved)
