"""What most commands need of a stack, without its models: a `StackOutline`.

`up` on an unchanged stack, `down`, `ps`, `logs` and `exec` need the project name, the
services in start order with their dependencies, networks and stop grace periods, and
the names of the declared volumes: not pydantic, PyYAML or the loader (~400 ms of
imports). An outline is made from a loaded `Project` and kept by `composer.upcache`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composer.models import Project


@dataclass(frozen=True)
class OutlineService:
    name: str
    document: dict[str, Any]  # what its config hash is made of (composer.hashing)
    image: str | None
    depends_on: tuple[str, ...]
    networks: tuple[str, ...]  # full network names

    @property
    def stop_grace_period(self) -> float | None:
        value = self.document.get("stop_grace_period")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class StackOutline:
    project: str
    services: tuple[OutlineService, ...]  # in start order
    networks: tuple[tuple[str, str, bool], ...]  # (full name, key in the file, external)
    volumes: tuple[str, ...]  # full names of the volumes the stack declares (not external)
    warnings: tuple[str, ...]

    @property
    def order(self) -> list[str]:
        return [s.name for s in self.services]

    def service(self, name: str) -> OutlineService | None:
        return next((s for s in self.services if s.name == name), None)

    def to_document(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "services": [
                {"name": s.name, "document": s.document, "image": s.image,
                 "depends_on": list(s.depends_on), "networks": list(s.networks)}
                for s in self.services
            ],
            "networks": [list(n) for n in self.networks],
            "volumes": list(self.volumes),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> StackOutline:
        return cls(
            project=document["project"],
            services=tuple(
                OutlineService(s["name"], s["document"], s["image"], tuple(s["depends_on"]), tuple(s["networks"]))
                for s in document["services"]
            ),
            networks=tuple((n, k, bool(e)) for n, k, e in document["networks"]),
            volumes=tuple(document["volumes"]),
            warnings=tuple(document["warnings"]),
        )


def outline(project: Project, order: Sequence[str]) -> StackOutline:
    """The outline of a loaded project; `order` is its start order."""
    from composer.desired import network_name, volume_name
    from composer.hashing import service_document
    from composer.support import unsupported_settings

    return StackOutline(
        project=project.name,
        services=tuple(
            OutlineService(
                name=name,
                document=service_document(project.services[name]),
                image=project.services[name].image,
                depends_on=tuple(project.services[name].depends_on),
                networks=tuple(network_name(project, key) for key in project.services[name].networks),
            )
            for name in order
        ),
        networks=tuple(sorted({(network_name(project, key), key, bool(project.networks[key].external))
                               for s in project.services.values() for key in s.networks})),
        volumes=tuple(volume_name(project, key) for key, v in sorted(project.volumes.items()) if not v.external),
        warnings=(*project.warnings, *unsupported_settings(project)),
    )
