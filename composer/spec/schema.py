"""JSON Schema of the stack-file format pycompose reads, generated from the models.

``python -m composer.spec.schema > schema/stack.schema.json`` regenerates the
committed file (a unit test fails when it is stale). The schema describes the input
forms the models accept (short syntax, sizes as strings, ...). Compose keys that
pycompose does not act on yet are listed too, so editors do not flag valid files;
they carry a description saying they are ignored. ``x-*`` extensions are allowed
where Compose allows them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import Field

from composer.models import Config, Model, ModelDefinition, Network, Secret, Service, Volume
from composer.spec.keys import NETWORK, SERVICE, TOP_KEYS, VOLUME, Shape

SCHEMA_ID = "https://pycompose.invalid/schema/stack.schema.json"
IGNORED = {
    "description": "Compose key pycompose does not support yet: accepted, ignored with a warning."
}
EXTENSIONS: dict[str, Any] = {"^x-": {}}
_PATHS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
TOP_LOADER_KEYS: dict[str, Any] = {
    "version": {"description": "Obsolete: accepted and ignored with a warning.", "type": "string"},
    "include": {
        "description": "Other stack files whose resources join this one.",
        "type": "array",
        "items": {"anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"path": _PATHS, "env_file": _PATHS,
                                              "project_directory": {"type": "string"}},
             "required": ["path"], "additionalProperties": False},
        ]},
    },
}
# Service keys the loader consumes before the model (see composer.spec.keys.LOADER_KEYS).
LOADER_KEYS: dict[str, Any] = {
    "env_file": {
        "description": "Files of KEY=VALUE lines added to environment (path, list, or {path, required}).",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"path": {"type": "string"}, "required": {"type": "boolean"}},
                 "required": ["path"], "additionalProperties": False},
            ]}},
        ],
    },
    "label_file": {"description": "Files of KEY=VALUE lines added to labels.", **_PATHS},
    "scale": {"description": "Number of replicas, the same as deploy.replicas.", "type": ["integer", "string"]},
    "extends": {
        "description": "Base this service on another one (in this file or in `file`).",
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"service": {"type": "string"}, "file": {"type": "string"}},
             "required": ["service"], "additionalProperties": False},
        ],
    },
}


class StackFile(Model):
    """A pycompose stack file (Compose-spec format)."""

    name: str | None = Field(default=None, description="Project name, unless given with -p.")
    services: dict[str, Service | None] = Field(default_factory=dict)
    networks: dict[str, Network | None] = Field(default_factory=dict)
    volumes: dict[str, Volume | None] = Field(default_factory=dict)
    secrets: dict[str, Secret] = Field(default_factory=dict)
    configs: dict[str, Config] = Field(default_factory=dict)
    models: dict[str, ModelDefinition] = Field(default_factory=dict)


def stack_schema() -> dict[str, Any]:
    schema = StackFile.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema["$defs"]
    for definition in defs.values():
        if "properties" in definition:
            definition["patternProperties"] = EXTENSIONS
    _open_up(schema, TOP_KEYS)
    schema["properties"].update(TOP_LOADER_KEYS)
    _open_up(defs["Network"], NETWORK.spec)
    _open_up(defs["Volume"], VOLUME.spec)
    _apply_shape(defs, "Service", SERVICE)
    _apply_shape(defs, "Ipam", NETWORK.maps["ipam"])
    _apply_shape(defs, "IpamConfig", NETWORK.maps["ipam"].items["config"])
    service = defs["Service"]["properties"]
    service.pop("max_retries", None)  # output-only: the N of on-failure:N
    service.update(LOADER_KEYS)
    service["restart"]["description"] = "no, always, on-failure[:N] or unless-stopped"
    service["volumes"]["items"] = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ServiceVolume"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "pycompose stack file",
        **schema,
    }


def _apply_shape(defs: dict[str, Any], name: str, shape: Shape) -> None:
    """Open *name* up to the spec keys of *shape*, then its children by model name."""
    _open_up(defs[name], shape.spec)
    children = {
        "deploy": "Deploy",
        "resources": "Resources",
        "limits": "ResourceLimits",
        "reservations": "ResourceReservations",
        "depends_on": "DependsOn",
        "networks": "ServiceNetwork",
        "volumes": "ServiceVolume",
        "healthcheck": "Healthcheck",
        "ports": "PortMapping",
    }
    for key, child in (*shape.maps.items(), *shape.each.items(), *shape.items.items()):
        if key in children and children[key] in defs:
            _apply_shape(defs, children[key], child)


def _open_up(definition: dict[str, Any], spec_keys: frozenset[str]) -> None:
    properties = definition.setdefault("properties", {})
    for key in sorted(spec_keys - set(properties)):
        properties[key] = dict(IGNORED)
    definition["patternProperties"] = EXTENSIONS


def main() -> None:
    json.dump(stack_schema(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
