"""Which command lines the typer-free `up -d` fast path takes (everything else: the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.fastpath import NoopArgs, parse


def test_the_shapes_it_takes() -> None:
    assert parse(["up", "-d"]) == NoopArgs()
    assert parse(["up", "--detach", "--remove-orphans"]) == NoopArgs(remove_orphans=True)
    assert parse(["-f", "a.yaml", "--file=b.yaml", "-p", "demo", "--profile", "x", "--profile=y",
                  "--project-directory", "/srv", "--env-file", "e", "up", "-d"]) == NoopArgs(
        files=[Path("a.yaml"), Path("b.yaml")], project_name="demo", project_directory=Path("/srv"),
        profiles=["x", "y"], env_file=Path("e"))


@pytest.mark.parametrize("argv", [
    [], ["up"], ["ps"], ["up", "-d", "web"], ["up", "-d", "--wait"], ["up", "-d", "--force-recreate"],
    ["up", "-d", "-d"], ["--debug", "up", "-d"], ["-f"], ["-f", "x", "up"], ["-p=demo", "up", "-d"],
    ["--help"], ["up", "-d", "--dry-run"], ["down"], ["up", "--remove-orphans"],
])
def test_everything_else_goes_to_the_cli(argv: list[str]) -> None:
    assert parse(argv) is None
