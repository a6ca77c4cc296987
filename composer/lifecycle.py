"""Creating, starting and removing one service container with its network sandbox.

These are the host-touching steps `apply` and the CLI commands share. Name resolution
for this first version is a hosts file per container, kept current by `HostsTable`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from composer.engine import Engine
from composer.naming import (
    LABEL_CONFIG_FILES,
    LABEL_CONFIG_HASH,
    LABEL_IMAGE,
    LABEL_IMAGE_REFERENCE,
    LABEL_NUMBER,
    LABEL_ONEOFF,
    LABEL_PROJECT,
    LABEL_SERVICE,
    LABEL_WORKING_DIR,
    container_name,
)
from composer.netmode import NetworkMode, owns_sandbox, place_network, write_host_etc
from network import Attachment, write_hosts_file

if TYPE_CHECKING:  # models and translation are for creating only: `down` does without them
    from composer.models import Project
    from runtime.images import Image


@dataclass
class HostEntry:
    service: str
    name: str
    hostname: str
    attachments: tuple[Attachment, ...]
    managed: bool = True  # its hosts file is ours to write (not `network_mode: host` or joined)


@dataclass
class HostsTable:
    """Every container of a project with its addresses; rewrites all hosts files on change.

    Files are rewritten in place (they are bind-mounted), so running containers see
    a peer that was created or recreated after them.
    """

    engine: Engine
    project: Project | None = None  # gives each service's network aliases, when known
    entries: dict[str, HostEntry] = field(default_factory=dict)  # container id -> entry
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, container_ids: list[str]) -> None:
        for cid in container_ids:
            sandbox = self.engine.networks.get_sandbox(cid)
            config = self.engine.containers.config(cid)
            self.entries[cid] = HostEntry(
                config.labels.get(LABEL_SERVICE, ""), config.name, config.hostname,
                sandbox.attachments if sandbox else (), owns_sandbox(config, cid),
            )

    def put(self, cid: str, entry: HostEntry) -> None:
        with self._lock:
            self.entries[cid] = entry
            self._rewrite()

    def drop(self, cid: str) -> None:
        with self._lock:
            self.entries.pop(cid, None)

    def _rewrite(self) -> None:
        for cid, me in self.entries.items():
            if not me.managed:
                continue
            my_networks = {a.network for a in me.attachments}
            lines: list[tuple[str, list[str]]] = []
            for a in me.attachments[:1]:
                lines.append((a.address, _unique([me.hostname, me.service, me.name])))
            for other_id, other in sorted(self.entries.items(), key=lambda item: item[1].name):
                if other_id == cid:
                    continue
                shared = [a for a in other.attachments if a.network in my_networks]
                if shared:
                    names = [other.service, other.name, other.hostname, *self._aliases(other.service, shared[0].network)]
                    lines.append((shared[0].address, _unique(names)))
            path = self.engine.etc_dir(cid) / "hosts"
            if path.parent.is_dir():
                write_hosts_file(path, me.hostname, lines)

    def _aliases(self, service: str, network: str) -> tuple[str, ...]:
        """`networks: {net: {aliases: [...]}}`: more names for the service on that network."""
        from composer.desired import network_name

        spec = self.project.services.get(service) if self.project else None
        if spec is None or self.project is None:
            return ()
        for key, settings in spec.networks.items():
            if settings is not None and network_name(self.project, key) == network:
                return settings.aliases
        return ()


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def labels_for(project: Project, service: str, config_hash: str, image: Image,
               config_files: list[Path]) -> dict[str, str]:
    return {
        **project.services[service].labels,
        LABEL_PROJECT: project.name,
        LABEL_SERVICE: service,
        LABEL_NUMBER: "1",
        LABEL_ONEOFF: "False",
        LABEL_CONFIG_HASH: config_hash,
        LABEL_IMAGE: image.id,
        LABEL_IMAGE_REFERENCE: project.services[service].image or "",
        LABEL_WORKING_DIR: project.working_dir,
        LABEL_CONFIG_FILES: ",".join(str(f) for f in config_files),
    }


def create_container(
    engine: Engine, project: Project, service: str, image: Image, mode: NetworkMode,
    labels: dict[str, str], volume_paths: dict[str, str], hosts: HostsTable,
) -> str:
    """Sandbox + addresses + etc files + runtime container; returns the new container id.

    On failure everything made here is removed again, so a failed create leaves nothing.
    """
    from composer.translate import ContainerPlacement, container_config

    cid = secrets.token_hex(32)
    record = engine.creating_dir(project.name) / cid
    record.parent.mkdir(parents=True, exist_ok=True)
    record.touch()
    try:
        net = place_network(engine, cid, service, mode)
        spec = project.services[service]
        if net.hostname is not None:
            spec = spec.model_copy(update={"hostname": net.hostname})
        placement = ContainerPlacement(
            container_id=cid,
            name=spec.container_name or container_name(project.name, service),
            layer_dirs=engine.images.layer_dirs(image),
            netns_path=net.netns_path,
            etc_dir=str(net.etc_dir),
            volume_paths=volume_paths,
            labels=labels,
            host_network=net.host,
        )
        config = container_config(service, spec, image.config, placement)
        if net.own_etc and net.host:
            write_host_etc(net.etc_dir, config.hostname)
        elif net.own_etc:
            _write_etc(net.etc_dir, config.hostname)
        engine.containers.create(config)
    except BaseException:
        discard_container(engine, cid)
        record.unlink(missing_ok=True)
        raise
    record.unlink()
    managed = net.own_etc and not net.host
    hosts.put(cid, HostEntry(service, config.name, config.hostname, net.attachments, managed))
    return cid


def ensure_sandbox(engine: Engine, cid: str, networks: list[tuple[str, str | None]], hosts: HostsTable) -> None:
    """Before a start: a sandbox lost to a reboot (its netns file lived in the run root) is remade.

    Only for a container with a sandbox of its own: one with `network_mode: host` has none,
    one sharing another's namespace joins that container's sandbox, remade with it.
    """
    if engine.networks.get_sandbox(cid) is not None:
        return
    config = engine.containers.config(cid)
    if not owns_sandbox(config, cid):
        return
    engine.networks.create_sandbox(cid)
    attachments = tuple(engine.networks.attach(cid, network, address) for network, address in networks)
    _write_etc(engine.etc_dir(cid), config.hostname)
    hosts.put(cid, HostEntry(config.labels.get(LABEL_SERVICE, ""), config.name, config.hostname, attachments))


def remove_container(engine: Engine, cid: str, timeout: float | None, hosts: HostsTable | None = None) -> None:
    """Stop (stop signal, then SIGKILL after the timeout), then remove container, sandbox, etc files."""
    engine.containers.stop(cid, timeout)
    engine.containers.remove(cid, force=True)
    if hosts is not None:
        hosts.drop(cid)
    discard_container(engine, cid)


def discard_unfinished(engine: Engine, project: str) -> None:
    """Remove what creates of `project` cut short by a crash left: sandboxes, files, records.

    Call with the project lock held, so no create of this project is under way.
    """
    known = {state.id for state in engine.containers.list()}
    directory = engine.creating_dir(project)
    for record in sorted(directory.iterdir()) if directory.is_dir() else []:
        if record.name in known:
            engine.containers.remove(record.name, force=True)
        discard_container(engine, record.name)
        record.unlink()
    for empty in (directory, directory.parent):
        try:
            empty.rmdir()
        except OSError:
            pass


def discard_container(engine: Engine, cid: str) -> None:
    """Remove what surrounds a container (sandbox, etc files); each step tolerates absence."""
    engine.networks.remove_sandbox(cid)
    engine.remove_etc_dir(cid)


def _write_etc(etc_dir: Path, hostname: str) -> None:
    etc_dir.mkdir(parents=True, exist_ok=True)
    (etc_dir / "hostname").write_text(hostname + "\n")
    (etc_dir / "resolv.conf").write_text(_resolv_conf())
    hosts = etc_dir / "hosts"
    if not hosts.exists():
        write_hosts_file(hosts, hostname, [])


def _resolv_conf() -> str:
    try:
        return container_resolv_conf(Path("/etc/resolv.conf").read_text())
    except OSError:
        return ""


def container_resolv_conf(host: str) -> str:
    """The host's resolv.conf minus loopback resolvers (unreachable from a container), as Docker does."""
    kept = []
    for line in host.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "nameserver" and len(words) > 1 and (words[1].startswith("127.") or words[1] == "::1"):
            continue
        kept.append(line)
    return "".join(f"{line}\n" for line in kept)
