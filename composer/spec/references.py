"""Cross-reference checks over validated services, with positions from the raw tree.

Every ``depends_on``, service network, named volume, secret, config and model must
name something the project defines, as must ``links``, ``volumes_from`` and
``ipc``/``pid`` ``service:`` modes; a service needs an image or a build; dependencies
must not form a cycle. Optional dependencies (``required: false``) on missing
services are dropped with a warning, as Docker Compose does. All dangling
references are reported together; the cycle check runs once there are none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from composer.errors import SpecError, spec_errors
from composer.graph import cycle_error, find_cycle, service_dependencies
from composer.models import Service
from composer.spec.source import PathPart, PosDict, locate, spec_error

_DEFINE = "define it under the top-level {}:"
_NONE: frozenset[str] = frozenset()


def check_references(
    root: PosDict,
    services: dict[str, Service],
    networks: set[str],
    volumes: set[str],
    builds: set[str],
    warnings: list[str],
    resources: Mapping[str, set[str]] | None = None,
) -> dict[str, Service]:
    """Raise on dangling references (all of them); return services with optional deps pruned.

    *resources*: the names of the top-level ``secrets``, ``configs`` and ``models``.
    """
    defined = {"networks": networks | {"default"}, "volumes": volumes, **(resources or {})}
    problems: list[SpecError] = []
    out: dict[str, Service] = {}
    for name, service in services.items():
        checker = _ServiceChecker(root, name, services, defined, problems)
        depends_on = checker.check(service, name in builds)
        out[name] = (
            service if depends_on is None else service.model_copy(update={"depends_on": depends_on})
        )
        warnings.extend(checker.warnings)
    if problems:
        raise spec_errors(problems)
    _check_cycles(root, out)
    return out


class _ServiceChecker:
    """The references of one service. (Each field of the service is read once: reading a
    model's attribute takes pydantic's __getattr__ hook, several times a local's cost.)"""

    def __init__(self, root: PosDict, name: str, services: Mapping[str, Service],
                 defined: Mapping[str, set[str]], problems: list[SpecError]) -> None:
        self.root, self.name, self.services, self.defined = root, name, services, defined
        self.problems = problems
        self.path: tuple[PathPart, ...] = ("services", name)
        self.warnings: list[str] = []

    def error(self, path: tuple[PathPart, ...], message: str, hint: str | None = None, *,
              key: bool = False) -> None:
        self.problems.append(spec_error(self.root, (*self.path, *path), message, hint, key=key))

    def check(self, service: Service, built: bool) -> dict[str, Any] | None:
        """Report dangling references; the service's depends_on without the optional
        dependencies on missing services, None when there are none."""
        if service.image is None and not built:
            self.error((), "service has neither `image` nor `build`", "add an image: to run", key=True)
        depends_on = self.dependencies(service.depends_on)
        for net in service.networks:
            self.named("networks", ("networks", net), net, key=True)
        for index, mount in enumerate(service.volumes):
            if mount.type == "volume":
                source = mount.source
                if source:
                    self.named("volumes", ("volumes", index), source)
        for section in ("secrets", "configs"):
            for index, grant in enumerate(getattr(service, section)):
                self.named(section, (section, index), grant.source)
        for model in service.models:
            self.named("models", ("models", model), model, key=True)
        self.service_refs(service)
        self.container_name(service)
        return depends_on

    def dependencies(self, depends_on: Mapping[str, Any]) -> dict[str, Any] | None:
        kept: dict[str, Any] | None = None
        for dep, spec in depends_on.items():
            if dep in self.services:
                continue
            if not spec.required:
                self.warnings.append(
                    f"services.{self.name}.depends_on.{dep}: service not found, ignored (required: false)")
                kept = kept if kept is not None else dict(depends_on)
                del kept[dep]
                continue
            self.error(("depends_on", dep), f'undefined service "{dep}"', key=True)
        return kept

    def named(self, section: str, path: tuple[PathPart, ...], name: str, *, key: bool = False) -> None:
        if name not in self.defined.get(section, _NONE):
            self.error(path, f'undefined {section[:-1]} "{name}"', _DEFINE.format(section), key=key)

    def service_refs(self, service: Service) -> None:
        """links (``service[:alias]``), volumes_from and ``service:`` ipc/pid modes."""
        refs: list[tuple[tuple[PathPart, ...], str]] = []
        for index, link in enumerate(service.links):
            refs.append((("links", index), link.partition(":")[0]))
        for index, source in enumerate(service.volumes_from):
            if not source.startswith("container:"):
                refs.append((("volumes_from", index), source.removeprefix("service:").partition(":")[0]))
        for key in ("ipc", "pid"):
            mode = getattr(service, key)
            if isinstance(mode, str) and mode.startswith("service:"):
                refs.append(((key,), mode.removeprefix("service:")))
        for path, ref in refs:
            if ref not in self.services:
                self.error(path, f'undefined service "{ref}"')

    def container_name(self, service: Service) -> None:
        if not service.container_name:
            return
        replicas = service.deploy.replicas if service.deploy else None
        if replicas is not None and replicas > 1:
            self.error(
                ("container_name",),
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
