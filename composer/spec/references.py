"""Cross-reference checks over validated services, with positions from the raw tree.

Every ``depends_on``, service network and named volume must name something the
project defines; a service needs an image or a build; dependencies must not form a
cycle. Optional dependencies (``required: false``) on missing services are dropped
with a warning, as Docker Compose does.
"""

from __future__ import annotations

from typing import Any

from composer.graph import cycle_error, find_cycle, service_dependencies
from composer.models import Service
from composer.spec.source import PosDict, locate, spec_error


def check_references(
    root: PosDict,
    services: dict[str, Service],
    networks: set[str],
    volumes: set[str],
    builds: set[str],
    warnings: list[str],
) -> dict[str, Service]:
    """Raise on the first dangling reference; return services with optional deps pruned."""
    out: dict[str, Service] = {}
    for name, service in services.items():
        path = ("services", name)
        if service.image is None and name not in builds:
            raise spec_error(
                root,
                path,
                "service has neither `image` nor `build`",
                "add an image: to run",
                key=True,
            )
        depends_on = dict(service.depends_on)
        for dep, spec in service.depends_on.items():
            if dep in services:
                continue
            if not spec.required:
                warnings.append(
                    f"{_dotted(name, 'depends_on', dep)}: service not found, ignored (required: false)"
                )
                del depends_on[dep]
                continue
            raise spec_error(
                root, (*path, "depends_on", dep), f'undefined service "{dep}"', key=True
            )
        for net in service.networks:
            if net not in networks and net != "default":
                raise spec_error(
                    root,
                    (*path, "networks", net),
                    f'undefined network "{net}"',
                    "define it under the top-level networks:",
                    key=True,
                )
        for index, mount in enumerate(service.volumes):
            if mount.type == "volume" and mount.source and mount.source not in volumes:
                raise spec_error(
                    root,
                    (*path, "volumes", index),
                    f'undefined volume "{mount.source}"',
                    "define it under the top-level volumes:",
                )
        _check_container_name(root, name, service)
        out[name] = (
            service
            if depends_on == service.depends_on
            else service.model_copy(update={"depends_on": depends_on})
        )
    _check_cycles(root, out)
    return out


def _check_container_name(root: PosDict, name: str, service: Service) -> None:
    replicas = service.deploy.replicas if service.deploy else None
    if service.container_name and replicas is not None and replicas > 1:
        raise spec_error(
            root,
            ("services", name, "container_name"),
            f"container_name cannot be used with {replicas} replicas",
            "container names must be unique: remove container_name or use one replica",
        )


def _check_cycles(root: PosDict, services: dict[str, Service]) -> None:
    cycle = find_cycle({name: service_dependencies(svc) for name, svc in services.items()})
    if cycle is not None:
        implicit = cycle[1] not in services[cycle[0]].depends_on
        path = ("services", cycle[0], "network_mode") if implicit else ("services", cycle[0], "depends_on", cycle[1])
        where = locate(root, path, key=True)
        raise cycle_error(cycle, str(where) if where else None)


def _dotted(*parts: Any) -> str:
    return "services." + ".".join(str(p) for p in parts)
