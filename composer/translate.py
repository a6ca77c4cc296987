"""Service + image → the runtime's OCI-shaped ContainerConfig (pure).

This is the only place where Compose semantics meet the runtime: entrypoint/command
resolution against the image, environment, resources and mounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from composer.errors import PlanError
from composer.logconfig import log_config
from composer.models import Service
from composer.process_settings import (
    TMPFS_DEFAULTS,
    container_settings,
    process_settings,
    settings_mounts,
    tmpfs_volume_options,
)
from composer.security import device_rules, service_security
from runtime.config import (
    ContainerConfig,
    Healthcheck,
    Mount,
    Namespace,
    Process,
    Resources,
    Root,
    User,
)
from runtime.images import ImageConfig

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CPU_PERIOD = 100_000


@dataclass(frozen=True)
class ContainerPlacement:
    """Where a new container lives on the host: decided by apply, passed in here."""

    container_id: str
    name: str
    layer_dirs: tuple[str, ...]
    netns_path: str | None
    etc_dir: str  # holds the hosts, hostname and resolv.conf files bind-mounted into the container
    volume_paths: Mapping[str, str]  # named volume (key in the stack file) -> host directory
    labels: Mapping[str, str]
    project_dir: str = "."  # what a relative seccomp profile path is relative to
    host_network: bool = False  # `network_mode: host`: no network namespace of its own


def container_config(
    service_name: str, service: Service, image: ImageConfig, placement: ContainerPlacement
) -> ContainerConfig:
    hostname = service.hostname or placement.container_id[:12]
    return ContainerConfig(
        id=placement.container_id,
        name=placement.name,
        process=_process(service_name, service, image, hostname),
        root=Root(layers=placement.layer_dirs, readonly=service.read_only),
        hostname=hostname,
        mounts=_etc_mounts(placement.etc_dir, service.read_only)
        + _volume_mounts(service_name, service, placement.volume_paths) + settings_mounts(service),
        namespaces=(
            Namespace("pid"),
            Namespace("mount"),
            Namespace("uts"),
            Namespace("ipc"),
            *(() if placement.host_network else (Namespace("network", placement.netns_path),)),
        ),
        resources=replace(resources(service_name, service), device_rules=device_rules(service)),
        stop_signal=service.stop_signal or "SIGTERM",
        stop_timeout=service.stop_grace_period if service.stop_grace_period is not None else 10.0,
        restart=service.restart,
        restart_max_retries=service.max_retries,
        labels=dict(placement.labels),
        **container_settings(service),
        log=log_config(service_name, service),
        healthcheck=healthcheck(service, image.healthcheck),
        security=service_security(service_name, service, placement.project_dir),
    )


def healthcheck(service: Service, inherited: Healthcheck | None = None) -> Healthcheck | None:
    """Docker's HealthConfig from the service over the image's (moby's merge): no service
    check takes the image's whole; a partial one takes each field it leaves unset (0) from
    the image; `disable: true` is test NONE. No test from either: nothing to run."""
    check = service.healthcheck
    if check is None:
        return inherited
    if check.disable:
        return Healthcheck(test=("NONE",))
    base = inherited or Healthcheck(test=())
    test = check.test or base.test
    if not test:
        return None
    return Healthcheck(test=test, interval=check.interval or base.interval, timeout=check.timeout or base.timeout,
                       start_period=check.start_period or base.start_period,
                       start_interval=check.start_interval or base.start_interval,
                       retries=check.retries or base.retries)


def process_args(service_name: str, service: Service, image: ImageConfig) -> tuple[str, ...]:
    """Docker's rule: a service `entrypoint` replaces the image's and drops the image's CMD."""
    if service.entrypoint is not None:
        entrypoint = service.entrypoint
        command = service.command or ()
    else:
        entrypoint = image.entrypoint or ()
        command = service.command if service.command is not None else (image.cmd or ())
    args = tuple(entrypoint) + tuple(command)
    if not args:
        raise PlanError(
            f'service "{service_name}" has no command: neither the service nor its image gives one',
            hint="set `command:` in the stack file",
        )
    return args


def _process(service_name: str, service: Service, image: ImageConfig, hostname: str) -> Process:
    env: dict[str, str] = {"PATH": DEFAULT_PATH}
    for entry in image.env:
        key, _, value = entry.partition("=")
        env[key] = value
    env["HOSTNAME"] = hostname
    for key, setting in service.environment.items():
        if setting is not None:
            env[key] = setting
    user_spec = service.user or image.user or None
    return Process(
        args=process_args(service_name, service, image),
        env=tuple(f"{k}={v}" for k, v in env.items()),
        cwd=service.working_dir or image.working_dir or "/",
        user=_numeric_user(user_spec),
        user_spec=user_spec,
        **process_settings(service),
    )


def _numeric_user(spec: str | None) -> User:
    """uid[:gid] when numeric; names are resolved inside the container by the runtime."""
    if not spec:
        return User()
    uid, _, gid = spec.partition(":")
    if uid.isdigit() and (not gid or gid.isdigit()):
        return User(int(uid), int(gid) if gid else 0)
    return User()


def resources(service_name: str, service: Service) -> Resources:
    """The service's cgroup settings, with Docker's defaults and conflicts
    (daemon verifyPlatformContainerResources, compose-go's deploy mapping)."""
    deploy = service.deploy.resources if service.deploy else None
    limits = deploy.limits if deploy else None
    memory = _one_of(service_name, "mem_limit", service.mem_limit, limits.memory if limits else None)
    cpus = _one_of(service_name, "cpus", service.cpus, limits.cpus if limits else None)
    pids = _one_of(service_name, "pids_limit", service.pids_limit, limits.pids if limits else None)
    reservation = _one_of(service_name, "mem_reservation", service.mem_reservation,
                          deploy.reservations.memory if deploy else None, "reservations")
    if cpus and (service.cpu_quota or service.cpu_period):
        raise PlanError(f"services.{service_name}: cpus and cpu_quota/cpu_period cannot both be set "
                        "(as Docker: conflicting options)", hint="use either cpus or cpu_quota with cpu_period")
    quota = round(cpus * CPU_PERIOD) if cpus else service.cpu_quota
    return Resources(
        memory_limit=memory,
        cpu_quota=None if quota in (None, 0, -1) else quota,
        cpu_period=service.cpu_period or CPU_PERIOD,
        pids_limit=pids,
        memory_swap=_memory_swap(service_name, memory, service.memswap_limit),
        memory_reservation=reservation or None,
        cpu_shares=service.cpu_shares or None,  # 0 means the default, as `docker run --cpu-shares 0`
        cpuset_cpus=service.cpuset or None,
        oom_kill_disable=bool(service.oom_kill_disable),
    )


def _memory_swap(service_name: str, memory: int | None, memswap: int | None) -> int | None:
    """Docker: memory + swap; unset (or 0) with a memory limit means twice the memory, -1 unlimited."""
    if memswap in (None, 0):
        return None if memory is None else 2 * memory
    if memory is None:
        raise PlanError(f"services.{service_name}: memswap_limit needs mem_limit",
                        hint="set mem_limit too (Docker: memory swap limit needs a memory limit)")
    if memswap != -1 and memswap < memory:
        raise PlanError(f"services.{service_name}: memswap_limit ({memswap}) is less than mem_limit ({memory})",
                        hint="memswap_limit counts memory plus swap: set it to at least mem_limit")
    return memswap


def _one_of(service_name: str, key: str, direct: float | int | None, deploy: float | int | None,
            section: str = "limits") -> Any:
    """Compose refuses distinct values in `key` and `deploy.resources.limits` (compose-go does too)."""
    if direct is not None and deploy is not None and direct != deploy:
        raise PlanError(
            f"services.{service_name}: {key} and deploy.resources.{section} disagree ({direct} vs {deploy})",
            hint="set only one of them",
        )
    return direct if direct is not None else deploy


def _etc_mounts(etc_dir: str, read_only: bool = False) -> tuple[Mount, ...]:
    """hosts, hostname, resolv.conf: read-only with a read-only root, as Docker mounts them."""
    return tuple(
        Mount(f"/etc/{name}", "bind", f"{etc_dir}/{name}", ("rbind", "ro" if read_only else "rw"))
        for name in ("hosts", "hostname", "resolv.conf")
    )


def _volume_mounts(service_name: str, service: Service, volume_paths: Mapping[str, str]) -> tuple[Mount, ...]:
    mounts = []
    for index, volume in enumerate(service.volumes):
        mode = "ro" if volume.read_only else "rw"
        where = f"services.{service_name}.volumes[{index}]"
        if volume.type == "bind":
            create = volume.bind is not None and volume.bind.create_host_path
            mounts.append(Mount(volume.target, "bind", str(volume.source), ("rbind", mode), create_source=create))
        elif volume.type == "volume":
            if not volume.source:
                raise PlanError(f"{where}: anonymous volumes are not supported yet", hint="give the volume a name")
            mounts.append(Mount(volume.target, "bind", volume_paths[volume.source], ("rbind", mode)))
        elif volume.type == "tmpfs":
            mounts.append(Mount(volume.target, "tmpfs", "tmpfs", (*TMPFS_DEFAULTS, mode, *tmpfs_volume_options(volume))))
        else:
            raise PlanError(f"{where}: volume type {volume.type!r} is not supported yet")
    return tuple(mounts)
