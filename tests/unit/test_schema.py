"""schema/stack.schema.json is generated from the models and must be current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.spec import keys
from composer.spec.schema import stack_schema

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "data" / "reference"  # a copy of ../shared/reference


def test_committed_schema_is_current() -> None:
    committed = json.loads((REPO / "schema" / "stack.schema.json").read_text())
    assert committed == json.loads(json.dumps(stack_schema())), (
        "schema/stack.schema.json is stale: run "
        "`python -m composer.spec.schema > schema/stack.schema.json`"
    )


def test_schema_accepts_short_syntax_and_ignored_keys() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    stack = {
        "name": "demo",
        "services": {
            "web": {
                "image": "nginx",
                "command": "nginx -g 'daemon off;'",
                "environment": ["A=1"],
                "depends_on": ["db"],
                "mem_limit": "512m",
                "volumes": ["./a:/a:ro", {"type": "tmpfs", "target": "/t"}],
                "ports": ["80:80"],
                "x-note": 1,
            },
            "db": {"image": "postgres", "restart": "on-failure:3"},
        },
        "networks": {"front": None},
        "x-common": {},
    }
    jsonschema.Draft202012Validator(stack_schema()).validate(stack)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(stack_schema()).validate(
            {"services": {"web": {"restrat": "always"}}}
        )


def test_key_lists_match_the_official_schema() -> None:
    spec = json.loads((REFERENCE / "compose-spec.json").read_text())
    go = json.loads((REFERENCE / "compose-spec.compose-go.json").read_text())
    defs = spec["definitions"]
    service = defs["service"]["properties"]

    def props(node: dict[str, object]) -> frozenset[str]:
        return frozenset(node["properties"])  # type: ignore[arg-type]

    # compose-go (what Docker Compose validates with) adds `pre_start`.
    assert keys.SERVICE_KEYS == props(defs["service"]) | props(go["$defs"]["service"])
    assert keys.TOP_KEYS == props(spec)
    assert keys.DEPLOY_KEYS == props(defs["deployment"])
    resources = defs["deployment"]["properties"]["resources"]
    assert keys.RESOURCES_KEYS == props(resources)
    assert keys.LIMITS_KEYS == props(resources["properties"]["limits"])
    assert keys.RESERVATIONS_KEYS == props(resources["properties"]["reservations"])
    entry = "^[a-zA-Z0-9._-]+$"
    assert keys.DEPENDS_ON_KEYS == props(
        service["depends_on"]["oneOf"][1]["patternProperties"][entry]
    )
    attach = service["networks"]["oneOf"][1]["patternProperties"][entry]["oneOf"][0]
    assert keys.SERVICE_NETWORK_KEYS == props(attach)
    assert keys.MOUNT_KEYS == props(service["volumes"]["items"]["oneOf"][1])
    assert keys.NETWORK_KEYS == props(defs["network"])
    assert keys.IPAM_KEYS == props(defs["network"]["properties"]["ipam"])
    ipam_config = defs["network"]["properties"]["ipam"]["properties"]["config"]["items"]
    assert keys.IPAM_CONFIG_KEYS == props(ipam_config)
    assert keys.VOLUME_KEYS == props(defs["volume"])
