"""Where a new container's network namespace comes from: `network_mode`.

  (default), none   a sandbox of its own (network namespace with loopback), wired to the
                    service's networks in priority order; `none` wires it to nothing
  host              no network namespace: the host's interfaces, hostname, hosts file and
                    resolver configuration, as Docker does
  service:NAME,     the network namespace of that container, with its hostname, hosts
  container:NAME    and resolv.conf files (Docker shares them the same way)
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from composer.desired import Wiring, service_networks, static_addresses
from composer.engine import Engine
from composer.errors import ApplyError
from network import AddressInUseError, Attachment
from network.errors import MacAddressInUseError

if TYPE_CHECKING:
    from composer.models import Project
    from runtime.config import ContainerConfig


@dataclass(frozen=True)
class NetworkMode:
    """What a container is asked to get; made by `network_mode_of`."""

    networks: tuple[Wiring, ...] = ()  # in attach order
    reserved: dict[str, tuple[str, ...]] = field(default_factory=dict)  # network -> static addresses
    host: bool = False
    join: str | None = None  # the id of the container whose namespace it shares


@dataclass(frozen=True)
class NetworkPlacement:
    """What it got: the namespace to join (None with `host`), where its etc files live."""

    netns_path: str | None
    host: bool
    etc_dir: Path
    hostname: str | None  # imposed by the mode (the host's, the joined container's), else None
    attachments: tuple[Attachment, ...]
    own_etc: bool  # its etc files are its own to write (not the joined container's)


def network_mode_of(engine: Engine, project: Project, service: str, owner_id: str | None = None) -> NetworkMode:
    """`owner_id`: for `service:NAME`, the id of NAME's container (known to the caller)."""
    mode = project.services[service].network_mode
    if mode == "host":
        return NetworkMode(host=True)
    if mode == "none":
        return NetworkMode()
    if mode and mode.startswith("service:"):
        if owner_id is None:
            raise ApplyError(f'service "{service}": the container of {mode} does not exist')
        return NetworkMode(join=owner_id)
    if mode and mode.startswith("container:"):
        return NetworkMode(join=container_id_by_name(engine, mode.removeprefix("container:")))
    return NetworkMode(tuple(service_networks(project, service)), static_addresses(project))


def container_id_by_name(engine: Engine, name: str) -> str:
    for state in engine.containers.list():
        if state.name == name or state.id == name:
            return state.id
    raise ApplyError(f"network_mode container:{name}: no such container: {name}")


def place_network(engine: Engine, cid: str, service: str, mode: NetworkMode) -> NetworkPlacement:
    """Make (or find) the network namespace of the new container `cid`."""
    own_etc = engine.etc_dir(cid)
    if mode.host:
        return NetworkPlacement(None, True, own_etc, socket.gethostname(), (), True)
    if mode.join is not None:
        return _joined(engine, mode.join)
    sandbox = engine.networks.create_sandbox(cid)
    attachments = []
    for network, address, endpoint in mode.networks:
        try:
            attachments.append(engine.networks.attach(cid, network, address, mode.reserved.get(network, ()), endpoint))
        except MacAddressInUseError as error:
            raise ApplyError(f'service "{service}": mac_address {endpoint.mac} on network "{network}" is already in '
                             f"use by container {_name_of(engine, error.holder)}", hint="choose another MAC") from error
        except AddressInUseError as error:
            holder = _name_of(engine, error.holder)
            raise ApplyError(f'service "{service}": ipv4_address {address} on network "{network}" is '
                             f"already in use by container {holder}", hint="choose another address") from error
    return NetworkPlacement(sandbox.netns_path, False, own_etc, None, tuple(attachments), True)


def _joined(engine: Engine, target: str) -> NetworkPlacement:
    config = engine.containers.config(target)
    netns = next((ns for ns in config.namespaces if ns.type == "network"), None)
    hosts = next((m.source for m in config.mounts if m.destination == "/etc/hosts"), None)
    etc_dir = Path(hosts).parent if hosts else engine.etc_dir(target)
    if netns is None:  # the target runs with the host's network
        return NetworkPlacement(None, True, etc_dir, config.hostname, (), False)
    if netns.path is None:
        raise ApplyError(f"container {config.name} has no network namespace that can be shared")
    return NetworkPlacement(netns.path, False, etc_dir, config.hostname, (), False)


def container_names(engine: Engine, ids: tuple[str, ...]) -> list[str]:
    return [_name_of(engine, cid) for cid in ids]


def _name_of(engine: Engine, cid: str) -> str:
    from runtime.errors import ContainerError

    try:
        return engine.containers.state(cid).name
    except ContainerError:  # a sandbox whose container is still being created
        return cid[:12]


def owns_sandbox(config: ContainerConfig, cid: str) -> bool:
    """True if the container joins a sandbox of its own (not host, not another's)."""
    netns = next((ns for ns in config.namespaces if ns.type == "network"), None)
    return netns is not None and netns.path is not None and Path(netns.path).name == cid


def write_host_etc(etc_dir: Path, hostname: str) -> None:
    """`network_mode: host`: the host's own files, copied (its resolvers are reachable)."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    (etc_dir / "hostname").write_text(hostname + "\n")
    for name in ("hosts", "resolv.conf"):
        try:
            shutil.copyfile(f"/etc/{name}", etc_dir / name)
        except OSError:
            (etc_dir / name).write_text("")
