"""The host's stores, built once from the state roots, plus per-project locking.

The stores are created lazily so that commands which never touch, say, the network
(`config`, `images`) do not pay for importing pyroute2.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from network import NetworkManager
    from runtime.containers import ContainerStore
    from runtime.images import ImageStore
    from runtime.volumes import VolumeStore

DEFAULT_DATA_ROOT = Path("/var/lib/pycompose")
DEFAULT_RUN_ROOT = Path("/run/pycompose")
DEFAULT_CGROUP_PARENT = "pycompose"


@dataclass
class Engine:
    data_root: Path = DEFAULT_DATA_ROOT
    run_root: Path = DEFAULT_RUN_ROOT
    cgroup_parent: str = DEFAULT_CGROUP_PARENT
    subnet_pool: str | None = None  # "CIDR[:PREFIX]"; None: 10.89.0.0/16 as /24s
    # Where the embedded DNS server forwards (IP[:PORT]); empty: the host's resolv.conf.
    dns_upstreams: tuple[str, ...] = ()

    @cached_property
    def containers(self) -> ContainerStore:
        from runtime.containers import ContainerStore

        return ContainerStore(self.data_root, self.run_root, self.cgroup_parent)

    @cached_property
    def images(self) -> ImageStore:
        from runtime.images import ImageStore

        return ImageStore(self.data_root)

    @cached_property
    def networks(self) -> NetworkManager:
        from network import NetworkManager, parse_pool_setting

        return NetworkManager(self.data_root, self.run_root, *parse_pool_setting(self.subnet_pool))

    @cached_property
    def volumes(self) -> VolumeStore:
        from runtime.volumes import VolumeStore

        return VolumeStore(self.data_root)

    def etc_dir(self, container_id: str) -> Path:
        """The hosts/hostname/resolv.conf files composer writes for one container."""
        return self.run_root / "etc" / container_id

    def remove_etc_dir(self, container_id: str) -> None:
        import shutil  # not at start-up: shutil pulls in fnmatch and re (~8 ms)

        shutil.rmtree(self.etc_dir(container_id), ignore_errors=True)

    def creating_dir(self, project: str) -> Path:
        """Ids of containers being created for `project`, each recorded before its first
        piece (sandbox, files) exists and dropped once the runtime has it on record: what a
        killed `up` leaves here, `down` removes (DESIGN.md, decision 7)."""
        return self.run_root / "projects" / project / "creating"

    @contextmanager
    def project_lock(self, project: str) -> Iterator[None]:
        """Two commands on the same project never interleave (the second waits)."""
        locks = self.run_root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{project}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
