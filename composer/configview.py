"""What `pycompose config` prints, as `docker compose config` prints it.

Works on the config document (`project_to_dict`, or the raw merged tree with
``--no-interpolate``), so every listing behaves the same in both modes. Pure: image
ids for ``--hash`` come in as an argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from composer.errors import PycomposeError

if TYPE_CHECKING:
    from composer.models import Project

FORMATS = ("yaml", "json")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise PycomposeError(f'unknown --format "{fmt}"', hint="use yaml or json")


def render(document: Mapping[str, Any], fmt: str) -> str:
    """The document as YAML or JSON text, ending with a newline."""
    plain = to_plain(document)
    if fmt == "json":
        return json.dumps(plain, indent=2) + "\n"
    import yaml

    text: str = yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text


def to_plain(node: Any) -> Any:
    """Plain dicts and lists (the loader's position-carrying subclasses are not dumpable)."""
    if isinstance(node, Mapping):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [to_plain(item) for item in node]
    return node


def service_names(document: Mapping[str, Any]) -> list[str]:
    return list(document.get("services") or {})


def volume_names(document: Mapping[str, Any]) -> list[str]:
    return list(document.get("volumes") or {})


def network_names(document: Mapping[str, Any]) -> list[str]:
    return list(document.get("networks") or {})


def profile_names(document: Mapping[str, Any]) -> list[str]:
    """Every profile a service names, sorted and once each."""
    found = {
        str(profile)
        for service in (document.get("services") or {}).values()
        if isinstance(service, Mapping)
        for profile in service.get("profiles") or ()
    }
    return sorted(found)


def image_names(document: Mapping[str, Any]) -> list[str]:
    """Each service's image; without one, the name Compose gives a built image."""
    project = document.get("name")
    return [
        str(service.get("image") or f"{project}-{name}") if isinstance(service, Mapping) else f"{project}-{name}"
        for name, service in (document.get("services") or {}).items()
    ]


LISTINGS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "services": service_names,
    "volumes": volume_names,
    "networks": network_names,
    "profiles": profile_names,
    "images": image_names,
}


def hash_selection(project: Project, spec: str) -> list[str]:
    """The services of ``--hash``: ``*`` for all, else a comma-separated list."""
    if spec.strip() == "*":
        return sorted(project.services)
    wanted = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in project.services]
    if unknown or not wanted:
        raise PycomposeError(f'no such service: "{", ".join(unknown) or spec}"',
                             hint='name services of the stack, or "*" for all')
    return wanted


def hash_lines(project: Project, services: Sequence[str], image_ids: Mapping[str, str]) -> list[str]:
    """``service hash`` per line: the hash `up` records on the container and compares to
    decide on recreating it (the image's id is part of it: "" when the image is unknown)."""
    from composer.hashing import config_hash

    return [f"{name} {config_hash(project.services[name], image_ids.get(name, ''))}" for name in services]
