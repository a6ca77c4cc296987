"""The outline cache is used only while every input of the loader is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer import upcache
from composer.inputs import StackInputs
from composer.outline import outline
from composer.spec import load_project
from composer.upcache import RecordingEnv

STACK = """
include: [more.yaml]
services:
  web: {image: "busybox:${TAG:-latest}", command: ["true"], depends_on: [db]}
"""
MORE = """
services:
  db: {image: busybox, command: ["true"]}
"""


def prepare(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[StackInputs, Path]:
    (tmp_path / "stack.yaml").write_text(STACK)
    (tmp_path / "more.yaml").write_text(MORE)
    inputs = StackInputs((str(tmp_path / "stack.yaml"),), env or {}, (), "demo", None)
    seen = RecordingEnv(inputs.env)
    project = load_project([tmp_path / "stack.yaml"], env=seen, project_name="demo")
    run_root = tmp_path / "run"
    upcache.save(run_root, inputs, project, outline(project, ["db", "web"]), seen)
    return inputs, run_root


def test_round_trip_keeps_what_the_no_op_check_needs(tmp_path: Path) -> None:
    inputs, run_root = prepare(tmp_path)
    cached = upcache.load(run_root, inputs)
    assert cached is not None and cached.project == "demo"
    assert [s.name for s in cached.services] == ["db", "web"]
    web = cached.services[1]
    assert (web.image, web.depends_on, web.networks) == ("busybox:latest", ("db",), ("demo_default",))
    assert cached.networks == (("demo_default", "default", False),)
    assert cached.order == ["db", "web"] and cached.volumes == ()


def test_a_changed_included_file_invalidates(tmp_path: Path) -> None:
    inputs, run_root = prepare(tmp_path)
    (tmp_path / "more.yaml").write_text(MORE.replace('["true"]', '["false"]'))
    assert upcache.load(run_root, inputs) is None


def test_only_the_variables_the_stack_uses_matter(tmp_path: Path) -> None:
    inputs, run_root = prepare(tmp_path, {"TAG": "latest", "RANDOM_NOISE": "1"})
    assert upcache.load(run_root, inputs) is not None
    noisy = StackInputs(inputs.files, {"TAG": "latest", "RANDOM_NOISE": "2", "OTHER": "x"}, (), "demo", None)
    assert upcache.load(run_root, noisy) is not None
    assert upcache.load(run_root, StackInputs(inputs.files, {"TAG": "1.0"}, (), "demo", None)) is None
    assert upcache.load(run_root, StackInputs(inputs.files, {}, (), "demo", None)) is None


def test_a_changed_option_is_another_entry(tmp_path: Path) -> None:
    inputs, run_root = prepare(tmp_path, {"TAG": "latest"})
    assert upcache.load(run_root, StackInputs(inputs.files, inputs.env, ("debug",), "demo", None)) is None
    assert upcache.load(run_root, StackInputs(inputs.files, inputs.env, (), "other", None)) is None


def test_a_corrupt_cache_file_is_a_miss(tmp_path: Path) -> None:
    inputs, run_root = prepare(tmp_path)
    for path in (run_root / "cache").iterdir():
        path.write_text("{not json")
    assert upcache.load(run_root, inputs) is None


def test_outline_carries_grace_periods_and_declared_volumes(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("""
services:
  db: {image: busybox, stop_grace_period: 1m30s, volumes: ["data:/data"]}
volumes:
  data: {}
  shared: {external: true}
""")
    stack = outline(load_project([path], env={}, project_name="demo"), ["db"])
    assert stack.service("db") is not None and stack.service("db").stop_grace_period == 90.0  # type: ignore[union-attr]
    assert stack.volumes == ("demo_data",)


def test_an_override_file_appearing_or_going_away_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found files (the default one and its override) are part of the cache key: `up -d`
    on the fast path looks for them again each time."""
    from composer import cli

    monkeypatch.setattr(cli.G, "project_directory", tmp_path)
    monkeypatch.setattr(cli.G, "files", [])
    (tmp_path / "compose.yaml").write_text(MORE)
    run_root = tmp_path / "run"

    def cache_current() -> StackInputs:
        inputs = cli.stack_inputs(project_name="demo")
        assert inputs is not None
        seen = RecordingEnv(inputs.env)
        project = load_project([Path(f) for f in inputs.files], env=seen, project_name="demo")
        upcache.save(run_root, inputs, project, outline(project, ["db"]), seen)
        return inputs

    plain = cache_current()
    override = tmp_path / "compose.override.yaml"
    override.write_text("services:\n  db: {command: [echo, overridden]}\n")
    with_override = cli.stack_inputs(project_name="demo")
    assert with_override is not None and with_override.files[-1] == str(override)
    assert upcache.load(run_root, with_override) is None
    cache_current()
    cached = upcache.load(run_root, with_override)
    assert cached is not None and cached.services[0].document["command"] == ["echo", "overridden"]
    override.unlink()
    assert cli.stack_inputs(project_name="demo") == plain
    again = upcache.load(run_root, plain)
    assert again is not None and again.services[0].document["command"] == ["true"]
