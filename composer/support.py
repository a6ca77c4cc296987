"""Settings the stack may hold that pycompose reads but does not act on yet.

The loader warns about keys it drops; these are keys it keeps (they are part of the
model, for the issues that will implement them) whose effect is still missing. Each
gets one warning naming where it is, so nothing is ignored silently.
"""

from __future__ import annotations

from composer.models import Network, Project, Service
from composer.spec.netrules import MTU_OPTION


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
    if service.deploy is not None:
        reservations = service.deploy.resources.reservations
        if reservations.memory is not None or reservations.cpus is not None:
            warnings.append(f"{where}.deploy.resources.reservations: not supported yet, ignored")
        if service.deploy.replicas not in (None, 1):
            warnings.append(f"{where}.deploy.replicas: only 1 replica is supported yet, running 1")
    return warnings


def _network(where: str, network: Network) -> list[str]:
    """`driver` and the IPAM subnet, gateway and ip_range are checked by the loader."""
    warnings = []
    for option in sorted(network.driver_opts):
        if option != MTU_OPTION:
            warnings.append(f"{where}.driver_opts.{option}: not supported yet, ignored")
    if network.enable_ipv6:
        warnings.append(f"{where}.enable_ipv6: IPv6 is not supported yet, the network gets IPv4 only")
    if network.ipam is not None:
        if network.ipam.driver not in (None, "default"):
            warnings.append(f"{where}.ipam.driver: only the default IPAM driver is supported, using it")
        if network.ipam.options:
            warnings.append(f"{where}.ipam.options: not supported yet, ignored")
        for index, config in enumerate(network.ipam.config):
            if config.aux_addresses:
                warnings.append(f"{where}.ipam.config[{index}].aux_addresses: not supported yet, ignored")
    return warnings
