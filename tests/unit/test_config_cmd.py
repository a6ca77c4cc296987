"""`pycompose config` and its flags, through the real command line (typer), no root needed."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from composer.cli import main
from composer.hashing import config_hash
from composer.spec import load_project

Runner = Callable[..., tuple[int, str, str]]

STACK = """
name: demo
services:
  web:
    image: nginx:${TAG:-1}
    command: echo $$HOME
    depends_on: [db]
    volumes: [data:/data]
  db:
    image: postgres
    profiles: [backend]
  tools:
    build: ./tools
    profiles: [debug]
volumes:
  data: {}
"""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Runner:
    """`pycompose [GLOBALS] config ARGS` in this process, as the console entry point runs it."""
    monkeypatch.setenv("PYCOMPOSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("PYCOMPOSE_RUN_ROOT", str(tmp_path / "run"))
    monkeypatch.setenv("COMPOSE_PROFILES", "backend")

    def invoke(*args: str, text: str = STACK, globals_: tuple[str, ...] = ()) -> tuple[int, str, str]:
        (tmp_path / "compose.yaml").write_text(text)
        argv = ["pycompose", "--project-directory", str(tmp_path), *globals_, "config", *args]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return invoke


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--services", "db\nweb\n"),
        ("--volumes", "data\n"),
        ("--networks", "default\n"),
        ("--profiles", "backend\ndebug\n"),  # every profile, not only the active ones
        ("--images", "postgres\nnginx:1\n"),
    ],
)
def test_listings(run: Runner, tmp_path: Path, flag: str, expected: str) -> None:
    code, out, _ = run(flag)
    assert (code, out) == (0, expected)


def test_images_of_built_services_are_named_as_compose_names_them(run: Runner, tmp_path: Path) -> None:
    code, out, _ = run("--images", globals_=("--profile", "debug", "--profile", "backend"))
    assert code == 0 and "demo-tools" in out.split("\n")


def test_json_and_yaml_print_the_same_reloadable_stack(run: Runner, tmp_path: Path) -> None:
    code, as_yaml, _ = run()
    assert code == 0
    code, as_json, _ = run("--format", "json")
    assert code == 0
    document = json.loads(as_json)
    assert yaml.safe_load(as_yaml) == document
    assert document["services"]["web"]["command"] == ["echo", "$$HOME"]  # a literal $ stays literal
    again = tmp_path / "again"
    again.mkdir()
    (again / "compose.yaml").write_text(as_yaml)
    original = load_project([tmp_path / "compose.yaml"], env={}, profiles=["backend"])
    assert load_project([again / "compose.yaml"], env={}, profiles=["backend"]).services == original.services


def test_no_interpolate_keeps_variables_as_written(run: Runner, tmp_path: Path) -> None:
    code, out, _ = run("--no-interpolate", "--format", "json")
    assert code == 0
    web = json.loads(out)["services"]["web"]
    assert web["image"] == "nginx:${TAG:-1}"
    assert web["command"] == "echo $$HOME"


def test_no_consistency_skips_cross_references(run: Runner, tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: x\n    depends_on: [ghost]\n"
    code, _, err = run("-q", text=text)
    assert code == 1 and 'undefined service "ghost"' in err and "Traceback" not in err
    code, out, _ = run("--no-consistency", "-q", text=text)
    assert (code, out) == (0, "")


def test_quiet_validates_and_prints_nothing(run: Runner, tmp_path: Path) -> None:
    assert run("-q")[:2] == (0, "")
    code, out, err = run("-q", text="services:\n  web:\n    image: x\n    restart: sometimes\n")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "services.web.restart" in err


def test_hash_is_the_recreate_hash(run: Runner, tmp_path: Path) -> None:
    code, out, err = run("--hash", "*")
    assert code == 0
    project = load_project([tmp_path / "compose.yaml"], env={}, profiles=["backend"])
    # No image store here: the hash is made without an image id, and says so.
    assert out == "".join(f"{name} {config_hash(project.services[name], '')}\n" for name in ("db", "web"))
    assert 'service "web": image not in the image store' in err
    code, out, _ = run("--hash", "db")
    assert (code, out) == (0, f"db {config_hash(project.services['db'], '')}\n")
    code, _, err = run("--hash", "db,nope")
    assert code == 1 and 'no such service: "nope"' in err


def test_unknown_format_is_refused_before_loading(run: Runner, tmp_path: Path) -> None:
    code, _, err = run("--format", "toml")
    assert code == 1 and 'unknown --format "toml"' in err


def test_one_error_line_per_problem(run: Runner) -> None:
    code, out, err = run("-q", text="services:\n  a: {image: x, restrat: no}\n  b: {image: x, cpus: 0}\n")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), err
    assert "services.a.restrat: unknown key" in lines[0] and "services.b.cpus: invalid CPU count" in lines[1]
