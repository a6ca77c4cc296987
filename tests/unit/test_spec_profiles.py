"""Profiles as Compose: services without profiles always run, others only when enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project

STACK = """
services:
  app: {image: busybox}
  debug: {image: busybox, profiles: [debug]}
  tools: {image: busybox, profiles: [tools, debug]}
"""


def load(tmp_path: Path, text: str, profiles: list[str]) -> list[str]:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return sorted(load_project([path], env={}, profiles=profiles).services)


def test_services_without_profiles_always_run(tmp_path: Path) -> None:
    assert load(tmp_path, STACK, []) == ["app"]


def test_an_enabled_profile_brings_its_services(tmp_path: Path) -> None:
    assert load(tmp_path, STACK, ["debug"]) == ["app", "debug", "tools"]
    assert load(tmp_path, STACK, ["tools"]) == ["app", "tools"]
    assert load(tmp_path, STACK, ["*"]) == ["app", "debug", "tools"]


def test_profiles_is_not_reported_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK)
    assert not [w for w in load_project([path], env={}).warnings if "profiles" in w]


def test_depending_on_a_disabled_service_is_an_error(tmp_path: Path) -> None:
    text = STACK + "  web: {image: busybox, depends_on: [debug]}\n"
    with pytest.raises(SpecError, match="services.web.depends_on"):
        load(tmp_path, text, [])
