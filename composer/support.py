"""Settings the stack may hold that pycompose reads but does not act on yet.

The loader warns about keys it drops; these are keys it keeps (they are part of the
model, for the issues that will implement them) whose effect is still missing. Each
gets one warning naming where it is, so nothing is ignored silently.
"""

from __future__ import annotations

from composer.models import Network, Project, Service


def unsupported_settings(project: Project) -> list[str]:
    warnings = []
    for name, service in sorted(project.services.items()):
        warnings.extend(_service(f"services.{name}", service))
    for key, network in sorted(project.networks.items()):
        warnings.extend(_network(f"networks.{key}", network))
    for key, volume in sorted(project.volumes.items()):
        if volume.driver not in (None, "local"):
            warnings.append(f"volumes.{key}.driver: only local volumes are supported, using local")
    return warnings


def _service(where: str, service: Service) -> list[str]:
    warnings = []
    for dependency, spec in sorted(service.depends_on.items()):
        if spec.condition == "service_healthy":
            warnings.append(f"{where}.depends_on.{dependency}: condition service_healthy is not supported "
                            "yet (no healthchecks); waiting for service_started instead")
        if spec.restart:
            warnings.append(f"{where}.depends_on.{dependency}.restart: not supported yet, ignored")
    for network, settings in sorted(service.networks.items()):
        if settings is not None and settings.ipv4_address:
            warnings.append(f"{where}.networks.{network}.ipv4_address: not supported yet, "
                            "an address is allocated instead")
    if service.deploy is not None:
        reservations = service.deploy.resources.reservations
        if reservations.memory is not None or reservations.cpus is not None:
            warnings.append(f"{where}.deploy.resources.reservations: not supported yet, ignored")
        if service.deploy.replicas not in (None, 1):
            warnings.append(f"{where}.deploy.replicas: only 1 replica is supported yet, running 1")
    warnings.extend(_devices(where, service))
    return warnings


def _devices(where: str, service: Service) -> list[str]:
    """Device permissions belong to a devices cgroup, which containers here do not join."""
    return [f"{where}.devices[{i}]: permissions \"{d.permissions}\" are not enforced (no devices cgroup), "
            "the device is fully accessible" for i, d in enumerate(service.devices) if set(d.permissions) != set("rwm")]


def _network(where: str, network: Network) -> list[str]:
    warnings = []
    if network.internal:
        warnings.append(f"{where}.internal: not enforced yet")
    if network.driver not in (None, "bridge"):
        warnings.append(f"{where}.driver: only bridge is supported, using bridge")
    if network.ipam is not None or network.driver_opts:
        warnings.append(f"{where}: ipam and driver_opts are not supported yet, ignored")
    return warnings
