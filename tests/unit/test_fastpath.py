"""Which command lines the typer-free fast paths (`up -d`, `config -q`) take (everything
else: the CLI), and that `config -q` answers as the CLI does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from composer.fastpath import NoopArgs, parse, parse_config

REPO = Path(__file__).resolve().parents[2]


def test_the_shapes_it_takes() -> None:
    assert parse(["up", "-d"]) == NoopArgs()
    assert parse(["up", "--detach", "--remove-orphans"]) == NoopArgs(remove_orphans=True)
    assert parse(["-f", "a.yaml", "--file=b.yaml", "-p", "demo", "--profile", "x", "--profile=y",
                  "--project-directory", "/srv", "--env-file", "e", "up", "-d"]) == NoopArgs(
        files=(Path("a.yaml"), Path("b.yaml")), project_name="demo", project_directory=Path("/srv"),
        profiles=("x", "y"), env_file=Path("e"))


@pytest.mark.parametrize("argv", [
    [], ["up"], ["ps"], ["up", "-d", "web"], ["up", "-d", "--wait"], ["up", "-d", "--force-recreate"],
    ["up", "-d", "-d"], ["--debug", "up", "-d"], ["-f"], ["-f", "x", "up"], ["-p=demo", "up", "-d"],
    ["--help"], ["up", "-d", "--dry-run"], ["down"], ["up", "--remove-orphans"],
])
def test_everything_else_goes_to_the_cli(argv: list[str]) -> None:
    assert parse(argv) is None


def test_the_config_shapes_it_takes() -> None:
    assert parse_config(["config", "-q"]) == NoopArgs()
    assert parse_config(["-f", "a.yaml", "-p", "demo", "config", "--quiet", "--no-consistency"]) == NoopArgs(
        files=(Path("a.yaml"),), project_name="demo", consistency=False)
    for argv in (["config"], ["config", "-q", "--services"], ["config", "--no-consistency"],
                 ["config", "-q", "-f", "x"], ["--debug", "config", "-q"], ["up", "-d"]):
        assert parse_config(argv) is None, argv
    assert parse(["config", "-q"]) is None


# Runs the console entry point and says whether typer was imported.
_ENTRY = """
import sys
from composer.entry import main
sys.argv = ["pycompose", *sys.argv[1:]]
try:
    main()
finally:
    print("typer" in sys.modules, file=sys.stderr)
"""


def _pycompose(tmp_path: Path, text: str, *argv: str) -> tuple[int, str, str]:
    (tmp_path / "compose.yaml").write_text(text)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COMPOSE_FILE", None)
    done = subprocess.run([sys.executable, "-c", _ENTRY, *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def test_config_quiet_is_answered_without_typer(tmp_path: Path) -> None:
    code, out, err = _pycompose(tmp_path, "version: '3'\nservices:\n  web: {image: x}\n", "config", "-q")
    assert (code, out) == (0, "")
    assert err == "WARN: version: obsolete, ignored\nFalse\n"


def test_config_quiet_problems_are_reported_by_the_cli(tmp_path: Path) -> None:
    text = "services:\n  a: {image: x, restrat: no}\n  b: {image: x, depends_on: [ghost]}\n"
    code, out, err = _pycompose(tmp_path, text, "config", "-q")
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and "services.a.restrat: unknown key" in lines[0]
    assert lines[-1] == "True"  # the full CLI ran to report it
    code, _, err = _pycompose(tmp_path, "services:\n  b: {image: x, depends_on: [ghost]}\n",
                              "config", "-q", "--no-consistency")
    assert (code, err) == (0, "False\n")


# Runs the console entry point and reports, at its exit, whether the cyclic garbage
# collector was on and which of the modules `config -q` does without were imported.
_STATE = """
import gc
import sys
from composer.entry import main
sys.argv = ["pycompose", *sys.argv[1:]]
try:
    main()
finally:
    lazy = ("composer.engine", "composer.outline", "composer.upcache")
    print(gc.isenabled(), [name for name in lazy if name in sys.modules], file=sys.stderr)
"""


def test_config_quiet_loads_without_the_engine_the_cache_or_the_collector(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: x}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COMPOSE_FILE", None)
    done = subprocess.run([sys.executable, "-c", _STATE, "config", "-q"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "False []\n")


def test_the_full_cli_runs_with_the_collector_on(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: x, restrat: no}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COMPOSE_FILE", None)
    for argv in (["config", "-q"], ["config", "--services"]):  # a failed fast path; not one
        done = subprocess.run([sys.executable, "-c", _STATE, *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)
        assert done.stderr.splitlines()[-1].startswith("True "), (argv, done.stderr)
