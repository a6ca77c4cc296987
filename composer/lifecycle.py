"""Creating, starting and removing one service container with its network sandbox.

These are the host-touching steps `apply` and the CLI commands share. Containers find
each other through the embedded DNS server (network.dns): `NameTable` publishes each
container's names per network. As in Docker, peers are not written into hosts files: a
hosts file would pin one address per name (no replicas, stale after a recreate) and
would ignore network scoping. A container's own /etc/hosts holds its hostname and
`extra_hosts`; its resolv.conf names its first network's gateway, where the server listens.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from composer.engine import Engine
from composer.errors import ApplyError
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
from composer.resolvconf import container_resolv_conf, hosts_entries
from network import Attachment, write_hosts_file

if TYPE_CHECKING:  # models and translation are for creating only: `down` does without them
    from composer.desired import Wiring
    from composer.models import Project, Service
    from runtime.images import Image


@dataclass
class NameTable:
    """Publishes the names of a project's containers to the embedded DNS server.

    Per network a container answers to its container name (the PTR answer), its service
    name, its hostname and its aliases on that network; its `dns:` servers are where the
    server forwards its other queries. As in Docker, the names resolve only while the
    container runs: the server follows its pidfile (network/liveness.py), so an exit
    withdraws them and a restart (by `start` or a restart policy) brings them back.
    """

    engine: Engine
    project: Project | None = None  # gives each service's network aliases, when known
    oneoff: bool = False  # `run` containers answer to their own names only, not the service's

    def put(self, cid: str, service: str, name: str, hostname: str,
            attachments: tuple[Attachment, ...]) -> None:
        spec = self.project.services.get(service) if self.project else None
        upstreams = spec.dns if spec else ()
        pidfile = str(self.engine.containers.pidfile(cid))  # resolvable only while it runs
        for a in attachments:
            shared = () if self.oneoff else (service, *self._aliases(service, a.network))
            names = _unique([name, *shared, hostname])
            self.engine.networks.dns.publish(cid, a.network, a.address, names, upstreams, pidfile)

    def drop(self, cid: str) -> None:
        """Withdrawn first, so peers stop resolving a container that is going away."""
        self.engine.networks.dns.withdraw(cid)

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


@contextmanager
def dns_started(engine: Engine, wanted: bool) -> Iterator[None]:
    """The embedded DNS server is spawned before the block, so its start-up overlaps the
    block's work (creating networks), and waited for after it. If the block fails, a
    server left with no network to serve is stopped again."""
    from network import NetworkError

    if not wanted:
        yield
        return
    try:
        engine.networks.dns.start(engine.dns_upstreams)
    except NetworkError as error:
        raise ApplyError(f"embedded DNS server: {error}") from error
    try:
        yield
    except BaseException:
        engine.networks.dns.stop_if_idle()
        raise
    ensure_dns(engine)


def ensure_dns(engine: Engine) -> None:
    """The embedded DNS server runs (started, or restarted after a crash) before containers start."""
    from network import NetworkError

    try:
        engine.networks.ensure_dns(engine.dns_upstreams)
    except NetworkError as error:
        raise ApplyError(f"embedded DNS server: {error}") from error


def _unique(names: list[str]) -> list[str]:
    return [n for n in dict.fromkeys(names) if n]


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
    labels: dict[str, str], volume_paths: dict[str, str], hosts: NameTable,
) -> str:
    """Sandbox + addresses + etc files + runtime container; returns the new container id.

    On failure everything made here is removed again, so a failed create leaves nothing.
    """
    from composer.publish import publish_ports, reserve_ports
    from composer.translate import ContainerPlacement, container_config

    cid = secrets.token_hex(32)
    spec = project.services[service]
    reservation = reserve_ports(service, spec)  # a taken host port fails before anything is made
    record = engine.creating_dir(project.name) / cid
    record.parent.mkdir(parents=True, exist_ok=True)
    record.touch()
    created = False
    try:
        net = place_network(engine, cid, service, mode)
        if net.hostname is not None:  # the host's, or that of the container whose netns it joins
            spec = spec.model_copy(update={"hostname": net.hostname})
        placement = ContainerPlacement(
            container_id=cid,
            name=spec.container_name or container_name(project.name, service),
            layer_dirs=engine.images.layer_dirs(image),
            netns_path=net.netns_path,
            etc_dir=str(net.etc_dir),
            volume_paths=volume_paths,
            labels=labels,
            project_dir=project.working_dir,
            host_network=net.host,
        )
        config = container_config(service, spec, image.config, placement)
        if net.own_etc and net.host:
            write_host_etc(net.etc_dir, config.hostname)
        elif net.own_etc:
            _write_etc(net.etc_dir, config.hostname, net.attachments, spec)
        engine.containers.create(config)
        created = True
        if net.attachments:  # host, none, service:/container: modes publish nothing (see support.py)
            publish_ports(engine, cid, spec, reservation, image.config.exposed_ports)  # its proxy follows the pidfile
    except BaseException as error:
        undo_create(engine, cid, record, created, error)
        raise
    finally:
        reservation.close()
    record.unlink()
    hosts.put(cid, service, config.name, config.hostname, net.attachments)
    return cid


def ensure_sandbox(engine: Engine, cid: str, networks: list[Wiring], hosts: NameTable) -> None:
    """Before a start: a sandbox lost to a reboot (its netns file lived in the run root) is
    remade, and the container's names are published again (`stop` withdrew them).

    Only for a container with a sandbox of its own: one with `network_mode: host` has none,
    one sharing another's namespace joins that container's sandbox, remade with it.
    """
    config = engine.containers.config(cid)
    if not owns_sandbox(config, cid):
        return
    service = config.labels.get(LABEL_SERVICE, "")
    sandbox = engine.networks.get_sandbox(cid)
    if sandbox is not None:
        attachments = sandbox.attachments
    else:
        engine.networks.create_sandbox(cid)
        attachments = tuple(engine.networks.attach(cid, w.network, w.address, endpoint=w.endpoint) for w in networks)
        spec = hosts.project.services.get(service) if hosts.project else None
        _write_etc(engine.etc_dir(cid), config.hostname, attachments, spec)
    hosts.put(cid, service, config.name, config.hostname, attachments)


def stop_container(engine: Engine, cid: str, timeout: float | None) -> None:
    """`stop`: as in Docker, a stopped container's names no longer resolve."""
    engine.networks.dns.withdraw(cid)
    engine.containers.stop(cid, timeout)


def remove_container(engine: Engine, cid: str, timeout: float | None, hosts: NameTable | None = None) -> None:
    """Withdraw its names, stop (stop signal, then SIGKILL after the timeout), then remove
    container, sandbox, etc files."""
    if hosts is not None:
        hosts.drop(cid)
    engine.containers.stop(cid, timeout)
    engine.containers.remove(cid, force=True)
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


def undo_create(engine: Engine, cid: str, record: Path, created: bool, error: BaseException) -> None:
    """Remove what a failed create made. A cleanup step that fails too becomes a note on
    `error` (the cause the user sees) and the later steps still run."""
    if created:
        try:
            engine.containers.remove(cid, force=True)
        except Exception as cleanup:
            error.add_note(f"removing the half-created container {cid[:12]} failed too: {cleanup}")
    discard_container(engine, cid)
    record.unlink(missing_ok=True)


def discard_container(engine: Engine, cid: str) -> None:
    """Remove what surrounds a container (sandbox, etc files); each step tolerates absence."""
    engine.networks.remove_sandbox(cid)
    engine.remove_etc_dir(cid)


def _write_etc(etc_dir: Path, hostname: str, attachments: tuple[Attachment, ...],
               spec: Service | None) -> None:
    etc_dir.mkdir(parents=True, exist_ok=True)
    (etc_dir / "hostname").write_text(hostname + "\n")
    first = attachments[0] if attachments else None
    (etc_dir / "resolv.conf").write_text(container_resolv_conf(
        _host_resolv_conf(), nameserver=first.gateway if first else None,
        dns=spec.dns if spec else (), search=spec.dns_search if spec else (),
        options=spec.dns_opt if spec else ()))
    write_hosts_file(etc_dir / "hosts", hostname, hosts_entries(
        hostname, first.address if first else None, first.gateway if first else None,
        spec.extra_hosts if spec else {}))


def _host_resolv_conf() -> str:
    try:
        return Path("/etc/resolv.conf").read_text()
    except OSError:
        return ""
