"""Settings the stack may hold that pycompose reads but does not act on yet.

The loader warns about keys it drops; these are keys it keeps (they are part of the
model, for the issues that will implement them) whose effect is still missing. Each
gets one warning naming where it is, so nothing is ignored silently.
"""

from __future__ import annotations

from pydantic import BaseModel

from composer.logconfig import logging_warnings
from composer.models import Deploy, Network, Project, Service, ServiceVolume
from composer.security import security_warnings
from composer.spec.netrules import MTU_OPTION

# Modelled keys with no effect yet (composer.models keeps them for `config` and hashing).
INERT_SERVICE_KEYS = (
    "annotations attach blkio_config build cgroup cgroup_parent configs cpu_count cpu_percent "
    "cpu_rt_period cpu_rt_runtime credential_spec develop device_cgroup_rules domainname "
    "external_links gpus ipc isolation links mem_swappiness models "
    "oom_score_adj pid platform post_start pre_start pre_stop provider pull_policy "
    "pull_refresh_after runtime secrets stdin_open storage_opt use_api_socket userns_mode "
    "uts volumes_from"
).split()
INERT_DEPLOY_KEYS = "mode endpoint_mode labels placement restart_policy rollback_config update_config".split()
INERT_MOUNT_KEYS = "consistency volume image".split()
INERT_BIND_KEYS = "propagation recursive selinux".split()  # create_host_path is acted on


def unsupported_settings(project: Project) -> list[str]:
    warnings = []
    for name, service in sorted(project.services.items()):
        warnings.extend(_service(f"services.{name}", service))
        warnings.extend(_name_resolution(f"services.{name}", service))
        warnings.extend(security_warnings(name, service))
    for key, network in sorted(project.networks.items()):
        warnings.extend(_network(f"networks.{key}", network))
    for key, volume in sorted(project.volumes.items()):
        if volume.driver not in (None, "local"):
            warnings.append(f"volumes.{key}.driver: only local volumes are supported, using local")
        if volume.driver_opts:
            warnings.append(f"volumes.{key}.driver_opts: not supported yet, ignored")
    for section in ("secrets", "configs", "models"):
        if getattr(project, section):
            warnings.append(f"{section}: not supported yet, ignored")
    return warnings


def _set_fields(model: BaseModel, keys: list[str]) -> list[str]:
    """Those of *keys* whose value in *model* differs from the default."""
    fields = type(model).model_fields
    return [key for key in keys
            if getattr(model, key) != fields[key].get_default(call_default_factory=True)]


def _kept_settings(where: str, service: Service) -> list[str]:
    """Service keys kept in the model that nothing acts on yet."""
    warnings = [f"{where}.{key}: not supported yet, ignored" for key in _set_fields(service, INERT_SERVICE_KEYS)]
    warnings.extend(logging_warnings(where, service))
    if service.deploy is not None:
        warnings.extend(_deploy(f"{where}.deploy", service.deploy))
    for index, mount in enumerate(service.volumes):
        warnings.extend(_mount(f"{where}.volumes[{index}]", mount))
    return warnings


def _deploy(where: str, deploy: Deploy) -> list[str]:
    warnings = [f"{where}.{key}: not supported yet, ignored" for key in _set_fields(deploy, INERT_DEPLOY_KEYS)]
    reservations = deploy.resources.reservations
    for key in _set_fields(reservations, ["devices", "generic_resources"]):
        warnings.append(f"{where}.resources.reservations.{key}: not supported yet, ignored")
    return warnings


def _mount(where: str, mount: ServiceVolume) -> list[str]:
    if mount.type not in ("bind", "volume", "tmpfs"):
        return [f"{where}: {mount.type} mounts are not supported yet, ignored"]
    warnings = [f"{where}.{key}: not supported yet, ignored" for key in _set_fields(mount, INERT_MOUNT_KEYS)]
    if mount.bind is not None:
        warnings += [f"{where}.bind.{key}: not supported yet, ignored" for key in _set_fields(mount.bind, INERT_BIND_KEYS)]
    return warnings


def _name_resolution(where: str, service: Service) -> list[str]:
    """With `network_mode: host`, `service:` or `container:` the container uses the host's,
    or the other container's, hosts and resolv.conf files: its own settings have no effect."""
    mode = service.network_mode or ""
    if mode != "host" and not mode.startswith(("service:", "container:")):
        return []
    keys = [key for key in ("extra_hosts", "dns", "dns_search", "dns_opt") if getattr(service, key)]
    return [f"{where}.{key}: ignored with network_mode {mode} (its hosts and resolv.conf are "
            f"{'the host' if mode == 'host' else mode.split(':', 1)[1]}'s)" for key in keys]


def _service(where: str, service: Service) -> list[str]:
    warnings = []
    for dependency, spec in sorted(service.depends_on.items()):
        if spec.restart:
            warnings.append(f"{where}.depends_on.{dependency}.restart: not supported yet, ignored")
    if service.deploy is not None:
        if service.deploy.resources.reservations.cpus is not None:
            # A scheduling guarantee for Swarm; docker compose sets nothing for it either.
            warnings.append(f"{where}.deploy.resources.reservations.cpus: a CPU reservation is only "
                            "a scheduling hint for Swarm, ignored (as docker compose)")
        if service.deploy.replicas not in (None, 1):
            warnings.append(f"{where}.deploy.replicas: only 1 replica is supported yet, running 1")
    if service.ports and service.network_mode is not None:
        warnings.append(f"{where}.ports: published ports are discarded with network_mode "
                        f"{service.network_mode} (as Docker)")
    warnings.extend(_kept_settings(where, service))
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
