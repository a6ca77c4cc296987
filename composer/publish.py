"""A service container's published ports: reserved before it is created, served while it runs.

The host ports are bound in this process first (`network.reserve`), so a taken port fails
the create before anything exists, naming the port and the service. The bound sockets
then go to the container's proxy process (`NetworkManager.publish_ports`). `stop` frees
the ports (as Docker does), and so does the container's exit (the proxy follows its
pidfile, and binds them again when a restart policy restarts it); a start or a repeated
`up` serves them again, restarting a proxy that was stopped, killed or crashed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from composer.engine import Engine
from composer.errors import ApplyError, PycomposeError
from network import PortAllocatedError, PortRequest, reserve
from network.ports import Reservation

if TYPE_CHECKING:
    from composer.models import Service


def port_requests(spec: Service) -> list[PortRequest]:
    return [PortRequest(p.target, p.protocol, p.host_ip or "", p.published_range) for p in spec.ports]


def exposed_ports(spec: Service, image_ports: tuple[str, ...] = ()) -> tuple[str, ...]:
    """`expose` entries one port each, as Docker lists them ("80/tcp"), then the image's
    ExposedPorts (which Docker merges into the container's)."""
    from composer.spec.ports import expose_ports

    service_ports = (f"{port}/{proto}" for entry in spec.expose for port, proto in expose_ports(entry))
    return tuple(dict.fromkeys([*service_ports, *image_ports]))


def publishes(spec: Service) -> bool:
    """Only a container with a network namespace of its own on the service's networks
    publishes: with any `network_mode` Docker discards the ports (composer.support warns)."""
    return spec.network_mode is None


def reserve_ports(service: str, spec: Service) -> Reservation:
    """Bind the service's host ports now; a taken one is an error naming it and the service."""
    if not publishes(spec):
        return Reservation()
    try:
        return reserve(port_requests(spec))
    except PortAllocatedError as error:
        raise ApplyError(f'service "{service}": {error}') from error


def publish_ports(engine: Engine, cid: str, spec: Service, reservation: Reservation,
                  image_ports: tuple[str, ...] = ()) -> None:
    """Hand the reserved ports to the container's proxy, which follows the container's
    pidfile (expose-only ports, the service's and its image's, are recorded)."""
    if spec.ports or spec.expose or image_ports:
        engine.networks.publish_ports(cid, reservation, exposed_ports(spec, image_ports),
                                      str(engine.containers.pidfile(cid)))


def ensure_published(engine: Engine, cid: str, service: str, spec: Service) -> None:
    """Before a start, or for a container kept running: serve its ports again if they are not.

    With no record at all (the run root was cleared by a reboot) they are published anew.
    """
    if not (spec.ports or spec.expose) or not publishes(spec):
        return
    try:
        if engine.networks.ensure_ports(cid) is None:
            with reserve_ports(service, spec) as reservation:
                publish_ports(engine, cid, spec, reservation)
    except PortAllocatedError as error:
        raise ApplyError(f'service "{service}": {error}') from error


def ports_serving(engine: Engine, cid: str) -> bool:
    """False when the container publishes ports but its proxy is not running."""
    published = engine.networks.published_ports(cid)
    return published is None or not published.ports or published.serving


def published_address(engine: Engine, project: str, service: str, target: int, protocol: str = "tcp",
                      index: int = 0) -> str:
    """`port`: the HOST_IP:PORT that `target`/`protocol` of the service's container is served on."""
    from composer.naming import LABEL_NUMBER
    from composer.observe import project_containers

    if protocol not in ("tcp", "udp"):
        raise PycomposeError(f'invalid protocol "{protocol}"', hint="use tcp or udp")
    containers = [s for s in project_containers(engine, project, [service]) if s.status == "running"]
    if index:
        containers = [s for s in containers if s.labels.get(LABEL_NUMBER) == str(index)]
    if not containers:
        raise PycomposeError(f'service "{service}" is not running' if not index
                             else f'service "{service}" has no running container with index {index}')
    published = engine.networks.published_ports(containers[0].id)
    for port in published.ports if published and published.serving else ():
        if port.target == target and port.protocol == protocol:
            host = f"[{port.host_ip}]" if ":" in port.host_ip else port.host_ip
            return f"{host}:{port.host_port}"
    raise PycomposeError(f'no port {target}/{protocol} is published for service "{service}"')
