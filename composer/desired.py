"""The desired state of a project: images resolved, config hashes computed, names scoped."""

from __future__ import annotations

from dataclasses import dataclass

from composer.errors import PlanError
from composer.hashing import config_hash
from composer.models import Project
from composer.naming import scoped_name
from composer.plan import DesiredNetwork, DesiredService
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
            depends_on=tuple(project.services[name].depends_on),
            networks=tuple(network_name(project, key) for key in project.services[name].networks),
            container_name=project.services[name].container_name,
        )
        for name in order
    )
    used = sorted({key for s in project.services.values() for key in s.networks})
    networks = tuple(
        DesiredNetwork(network_name(project, key), key, bool(project.networks[key].external)) for key in used
    )
    return Desired(services, networks, resolved)
