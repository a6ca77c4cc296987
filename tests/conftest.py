"""Shared fixtures. Tests under tests/integration/ are marked `integration` and need root."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(reason="integration tests need root"))


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root-filesystem tarball made from Debian's busybox-static (built once per run), or the
    one PYCOMPOSE_TEST_BUSYBOX_TAR names (tests/vm builds it on the host, where it is fast)."""
    prebuilt = os.environ.get("PYCOMPOSE_TEST_BUSYBOX_TAR")
    if prebuilt:
        return Path(prebuilt)
    out = tmp_path_factory.mktemp("image") / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(out)], check=True)
    return out


@dataclass(frozen=True)
class Roots:
    """Private state roots for one test, so tests never see each other or the host's."""

    data: Path
    run: Path
    cgroup_parent: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYCOMPOSE_ROOT": str(self.data),
            "PYCOMPOSE_RUN_ROOT": str(self.run),
            "PYCOMPOSE_CGROUP_PARENT": self.cgroup_parent,
            # The code next to these tests, even when another checkout is pip-installed.
            "PYTHONPATH": str(REPO),
        }


@pytest.fixture
def roots(tmp_path: Path) -> Iterator[Roots]:
    tag = uuid.uuid4().hex[:8]
    yield Roots(data=tmp_path / "data", run=tmp_path / "run", cgroup_parent=f"pycompose-test-{tag}")
