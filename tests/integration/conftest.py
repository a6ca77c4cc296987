"""Fixtures of the integration tests: `stack`, a project of real containers through the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Roots
from tests.integration.stackkit import (
    Stack,
    cgroup_dirs,
    host_links,
    links_of,
    mounts_under,
    processes_mentioning,
)


@pytest.fixture
def stack(roots: Roots, busybox_tar: Path, tmp_path: Path) -> Iterator[Stack]:
    """A project in its own directory with the busybox image; at the end `down` must leave
    no link, mount, process, cgroup or netns file behind."""
    directory = tmp_path / "proj"
    directory.mkdir()
    project = f"t{uuid.uuid4().hex[:8]}"
    s = Stack(roots, directory, project)
    s.run("image", "import", str(busybox_tar), "busybox")
    made_links: set[str] = set()
    try:
        yield s
    finally:
        made_links = links_of(roots)
        down = s.run("down", "-v", "--remove-orphans", "-t", "1", check=False)
        if down.returncode != 0 and "error: " + str(directory) in down.stderr:
            for path in directory.glob("*.yaml"):  # a test's deliberately broken file: down by -p alone
                path.unlink()
            down = s.run("down", "-v", "--remove-orphans", "-t", "1", check=False)
        if down.returncode != 0:
            s.force_cleanup()
        procs = processes_mentioning(str(roots.run)) + processes_mentioning(str(roots.data))
        netns = list((roots.run / "netns").glob("*")) if (roots.run / "netns").exists() else []
        assert down.returncode == 0, down.stderr
        assert made_links & host_links() == set()
        assert mounts_under(roots.run, roots.data, tmp_path) == []
        assert procs == [] and cgroup_dirs(roots.cgroup_parent) == [] and netns == []
