"""The facade composer calls: networks, sandboxes (named netns) and attachments.

Every mutating call is one state transaction (an exclusive flock, see `state.py`), so
calls from several threads or processes serialize; the kernel work happens inside the
transaction, after the record is saved ("record before create"). Removal does the
reverse: kernel objects first, each tolerating being gone already, then the record.
A `kill -9` at any point therefore leaves only things a later remove_* can find.

No call forks: namespace work uses short-lived threads (see `netns.py`).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Any

from network import ipam, names, netns
from network.dns import EmbeddedDns
from network.errors import (
    AddressInUseError,
    MacAddressInUseError,
    NetworkError,
    NetworkInUseError,
    NetworkNotFoundError,
    SandboxNotFoundError,
)
from network.model import Attachment, Endpoint, NetworkInfo, NetworkSpec, Sandbox
from network.ports import Reservation, SandboxPorts
from network.proxies import ProxyRecord, ProxyTable
from network.state import (
    AttachmentRecord,
    NetworkRecord,
    SandboxRecord,
    StateStore,
    Transaction,
    flocked,
)

# Subnet allocation must exclude other data roots too: it checks the host's routes and
# creates the bridge (which adds the route) under this one host-wide lock.
HOST_LOCK = Path("/run/pycompose-network-subnets.lock")


if TYPE_CHECKING:
    from network.netlink import Netlink


def _kernel() -> tuple[Any, Any, type[Netlink]]:
    """The netlink-side modules, imported on first kernel work: pyroute2 costs ~200 ms to
    import, and read-only calls (`list_networks`, `get_sandbox`, ...) never need it."""
    from network import attach, bridge
    from network.netlink import Netlink

    return attach, bridge, Netlink


class NetworkManager:
    """Bridges, sandboxes and attachments for one pair of state roots."""

    def __init__(
        self,
        data_root: Path,
        run_root: Path,
        subnet_pool: str = "10.89.0.0/16",
        subnet_prefix: int = 24,
    ) -> None:
        self._pool = ipam.parse_pool(subnet_pool, subnet_prefix)
        self._prefix = subnet_prefix
        self._store = StateStore(Path(data_root), Path(run_root))
        self._netns_dir = Path(run_root) / "netns"
        # Names of kernel objects are hashed with this, so two data roots never clash.
        self._scope = str(Path(data_root).resolve())
        # The embedded DNS server's records: a zone per network, an entry per attachment.
        self.dns = EmbeddedDns(Path(run_root) / "network" / "dns")
        self._proxies = ProxyTable(Path(run_root))
        # The netlink socket inside the sandbox this thread created last, for its attachments.
        self._inside = netns.KeptSocket()

    # networks ----------------------------------------------------------------
    def ensure_network(self, spec: NetworkSpec) -> NetworkInfo:
        """Create the network if needed; idempotent. An existing network keeps its record
        (subnet, labels); only its bridge is re-created or repaired."""
        wiring, bridge, Netlink = _kernel()
        names.validate_id("network name", spec.name)
        with self._store.transaction() as txn, Netlink() as host:
            rec = txn.state.networks.get(spec.name)
            if rec is not None:
                bridge.ensure_bridge(host, rec)
                self.dns.add_zone(rec.name, rec.gateway, rec.subnet)
                return _network_info(rec)
            with flocked(HOST_LOCK):
                rec = self._allocate_network(txn, host, spec)
                txn.save()
                bridge.ensure_bridge(host, rec)
            self.dns.add_zone(rec.name, rec.gateway, rec.subnet)
            return _network_info(rec)

    def _allocate_network(
        self, txn: Transaction, host: Netlink, spec: NetworkSpec
    ) -> NetworkRecord:
        ours = {n.name: IPv4Network(n.subnet) for n in txn.state.networks.values()}
        host_prefixes = host.ipv4_prefixes()
        ip_range = None
        if spec.subnet:
            subnet, gateway, ip_range = ipam.user_subnet(
                spec.name, spec.subnet, spec.gateway, spec.ip_range
            )
            ipam.check_no_overlap(spec.name, subnet, ours, host_prefixes)
        else:
            if spec.gateway or spec.ip_range:
                raise NetworkError(
                    f"network {spec.name!r}: a gateway or ip_range needs a subnet",
                    hint="set ipam.config.subnet as well",
                )
            taken = [*ours.values(), *host_prefixes]
            subnet = ipam.allocate_subnet(self._pool, self._prefix, taken)
            gateway = ipam.gateway_of(subnet)
        wiring, bridge, _ = _kernel()
        rec = NetworkRecord(
            name=spec.name,
            bridge=names.bridge_name(self._scope, spec.name),
            subnet=str(subnet),
            gateway=str(gateway),
            labels=dict(spec.labels),
            internal=spec.internal,
            ip_range=str(ip_range) if ip_range else None,
            mtu=spec.mtu or bridge.default_mtu(host),
        )
        txn.state.networks[spec.name] = rec
        return rec

    def remove_network(self, name: str) -> None:
        """Delete the bridge and forget the network; idempotent."""
        wiring, bridge, Netlink = _kernel()
        with self._store.transaction() as txn:
            rec = txn.state.networks.get(name)
            if rec is None:
                return
            users = txn.state.sandboxes_on(name)
            if users:
                raise NetworkInUseError(
                    f"network {name!r} is still in use by {', '.join(users)}",
                    hint="detach or remove those sandboxes first",
                    users=tuple(users),
                )
            with Netlink() as host:
                bridge.remove_bridge(host, rec.bridge)
            del txn.state.networks[name]
            self.dns.remove_zone(name)

    def ensure_dns(self, upstreams: tuple[str, ...] = ()) -> int | None:
        """Start the embedded DNS server if it is not running (a zone per network first,
        as after a reboot the run root is new); returns its pid, None without networks."""
        for rec in self._store.read().networks.values():
            self.dns.add_zone(rec.name, rec.gateway, rec.subnet)
        return self.dns.ensure_running(upstreams)

    def get_network(self, name: str) -> NetworkInfo | None:
        rec = self._store.read().networks.get(name)
        return _network_info(rec) if rec else None

    def list_networks(self) -> list[NetworkInfo]:
        nets = self._store.read().networks
        return [_network_info(nets[k]) for k in sorted(nets)]

    # sandboxes ---------------------------------------------------------------
    def create_sandbox(self, sandbox_id: str) -> Sandbox:
        """A network namespace pinned at run_root/netns/<id> with loopback up; idempotent."""
        wiring, bridge, Netlink = _kernel()
        path = self._netns_dir / names.validate_id("sandbox id", sandbox_id)
        with self._store.transaction() as txn:
            rec = txn.state.sandboxes.get(sandbox_id)
            if rec is not None and netns.is_mounted(path):
                return _sandbox(rec)
            if rec is None:
                rec = SandboxRecord(id=sandbox_id, netns_path=str(path))
                txn.state.sandboxes[sandbox_id] = rec
                txn.save(sandbox_id)
            else:  # recorded, but the namespace is gone (reboot, crash, external umount)
                self._unwire_all(txn, rec)
            try:
                inside = Netlink(netns.create(path))
                try:
                    wiring.bring_up_loopback(inside)
                except BaseException:
                    inside.close()
                    raise
            except BaseException:
                netns.remove(path)
                del txn.state.sandboxes[sandbox_id]
                txn.save(sandbox_id)
                raise
            self._inside.keep(sandbox_id, path, inside)
            return _sandbox(rec)

    def _unwire_all(self, txn: Transaction, rec: SandboxRecord) -> None:
        """Delete every veth of the sandbox, forgetting each one only once it is gone."""
        wiring, bridge, Netlink = _kernel()
        if not rec.attachments:
            return
        with Netlink() as host:
            for att in list(rec.attachments):
                wiring.unwire(host, att)
                rec.attachments.remove(att)
                txn.save(rec.id)

    def remove_sandbox(self, sandbox_id: str) -> None:
        """Delete the sandbox's veths (releasing its addresses) and its namespace; idempotent."""
        path = self._netns_dir / names.validate_id("sandbox id", sandbox_id)
        self._proxies.remove(sandbox_id)
        self._inside.drop(sandbox_id)  # its namespace goes with the file
        with self._store.transaction() as txn:
            rec = txn.state.sandboxes.get(sandbox_id)
            if rec is not None:
                self.dns.withdraw(sandbox_id)
                self._unwire_all(txn, rec)
                path = Path(rec.netns_path)
            netns.remove(path)
            txn.state.sandboxes.pop(sandbox_id, None)
            txn.save(sandbox_id)

    def get_sandbox(self, sandbox_id: str) -> Sandbox | None:
        rec = self._store.read().sandboxes.get(sandbox_id)
        return _sandbox(rec) if rec else None

    def list_sandboxes(self) -> list[Sandbox]:
        boxes = self._store.read().sandboxes
        return [_sandbox(boxes[k]) for k in sorted(boxes)]

    # attachments -------------------------------------------------------------
    def attach(
        self,
        sandbox_id: str,
        network: str,
        address: str | None = None,
        reserved: tuple[str, ...] = (),
        endpoint: Endpoint | None = None,
    ) -> Attachment:
        """Wire the sandbox to the network (`address`, else the next free one that is not
        `reserved`, i.e. promised to a sandbox still to come); idempotent: an existing
        attachment is kept as it is.

        The interface inside is `endpoint.interface` or the next free ethN, its MAC
        `endpoint.mac` or one derived from the names. The default route goes via the gateway
        of the network that is not internal with the highest `endpoint.gw_priority`; on a tie,
        the first attached keeps it: attach in order of preference.
        """
        wiring, bridge, Netlink = _kernel()
        with self._store.transaction() as txn:
            box = self._require_sandbox(txn, sandbox_id)
            net = txn.state.networks.get(network)
            if net is None:
                raise NetworkNotFoundError(
                    f"network {network!r} does not exist",
                    hint="create it with ensure_network first",
                )
            rec = box.attachment(network)
            created = rec is None
            if rec is None:
                rec = self._plan_attachment(txn, box, net, address, reserved, endpoint or Endpoint())
                box.attachments.append(rec)
                txn.save(box.id)
            try:
                with Netlink() as host:
                    bridge_index = bridge.ensure_bridge(host, net, repair=False)
                    path = Path(box.netns_path)
                    wiring.wire(host, path, bridge_index, rec, net.mtu, self._inside.get(box.id, path))
            except BaseException:
                if created:
                    self._undo_attachment(txn, box, rec)
                raise
            if created and rec.default_route and len(box.attachments) > 1:
                for other in box.attachments:  # the route was replaced: it is this one's now
                    other.default_route = other is rec
                txn.save(box.id)
            return _attachment(rec)

    def _require_sandbox(self, txn: Transaction, sandbox_id: str) -> SandboxRecord:
        box = txn.state.sandboxes.get(sandbox_id)
        if box is None or not netns.is_mounted(Path(box.netns_path)):
            raise SandboxNotFoundError(
                f"sandbox {sandbox_id!r} has no network namespace",
                hint="create it with create_sandbox first",
            )
        return box

    def _plan_attachment(
        self,
        txn: Transaction,
        box: SandboxRecord,
        net: NetworkRecord,
        wanted: str | None,
        reserved: tuple[str, ...],
        endpoint: Endpoint,
    ) -> AttachmentRecord:
        subnet = IPv4Network(net.subnet)
        gateway = IPv4Address(net.gateway)
        interface = self._interface(box, endpoint.interface)
        mac = names.mac_address("veth", self._scope, box.id, net.name)
        if endpoint.mac is not None:
            mac = self._unique_mac(txn, net, names.validate_mac(endpoint.mac))
        route = next((a for a in box.attachments if a.default_route), None)
        if wanted is not None:
            address = self._static_address(txn, net, wanted)
        else:
            taken = [*txn.state.addresses_in_use(net.name), *reserved]
            in_use = {IPv4Address(a) for a in taken}
            ip_range = IPv4Network(net.ip_range) if net.ip_range else None
            address = ipam.allocate_address(subnet, in_use, net.name, gateway, ip_range)
        return AttachmentRecord(
            network=net.name,
            interface=interface,
            host_interface=names.veth_host_name(self._scope, box.id, net.name),
            address=str(address),
            prefixlen=subnet.prefixlen,
            gateway=net.gateway,
            mac=mac,
            default_route=not net.internal and (route is None or endpoint.gw_priority > route.gw_priority),
            gw_priority=endpoint.gw_priority,
        )

    @staticmethod
    def _interface(box: SandboxRecord, wanted: str | None) -> str:
        """`wanted` if no other attachment of the sandbox uses it, else the first free ethN."""
        taken = {a.interface: a.network for a in box.attachments}
        if wanted is None:
            return next(names.container_interface(i) for i in range(len(taken) + 1)
                        if names.container_interface(i) not in taken)
        if names.validate_interface(wanted) in taken:
            raise NetworkError(f"interface name {wanted!r} is already used by network {taken[wanted]!r} "
                               f"in sandbox {box.id[:12]}", hint="choose another interface_name")
        return wanted

    @staticmethod
    def _unique_mac(txn: Transaction, net: NetworkRecord, mac: str) -> str:
        for other in txn.state.sandboxes.values():
            held = other.attachment(net.name)
            if held is not None and held.mac == mac:
                raise MacAddressInUseError(
                    f"MAC address {mac} on network {net.name!r} is already in use by {other.id}",
                    holder=other.id, hint="choose another mac_address",
                )
        return mac

    @staticmethod
    def _static_address(txn: Transaction, net: NetworkRecord, wanted: str) -> IPv4Address:
        address = ipam.check_static_address(
            net.name, wanted, IPv4Network(net.subnet), IPv4Address(net.gateway)
        )
        for other in txn.state.sandboxes.values():
            held = other.attachment(net.name)
            if held is not None and held.address == str(address):
                raise AddressInUseError(
                    f"address {address} on network {net.name!r} is already in use by {other.id}",
                    holder=other.id,
                    hint="choose another ipv4_address",
                )
        return address

    def _undo_attachment(self, txn: Transaction, box: SandboxRecord, rec: AttachmentRecord) -> None:
        """Best-effort rollback of a failed attach; the record stays if the veth does."""
        wiring, bridge, Netlink = _kernel()
        try:
            with Netlink() as host:
                wiring.unwire(host, rec)
        except NetworkError:
            return
        box.attachments.remove(rec)
        txn.save(box.id)

    def detach(self, sandbox_id: str, network: str) -> None:
        """Delete the sandbox's veth on `network` and release its address; idempotent."""
        wiring, bridge, Netlink = _kernel()
        with self._store.transaction() as txn:
            box = txn.state.sandboxes.get(sandbox_id)
            rec = box.attachment(network) if box else None
            if box is None or rec is None:
                return
            self.dns.withdraw(sandbox_id, network)
            with Netlink() as host:
                wiring.unwire(host, rec)
            box.attachments.remove(rec)
            txn.save(box.id)

    # published ports (network.ports, network.proxies) ------------------------------------
    def publish_ports(self, sandbox_id: str, reservation: Reservation,
                      exposed: tuple[str, ...] = (), pidfile: str | None = None) -> SandboxPorts:
        """Hand the reserved host ports to a new proxy forwarding to the sandbox's address on
        its first network; `exposed` ports ("80/tcp") are only recorded. With the container's
        `pidfile` (network/liveness.py) the ports are held only while the container runs."""
        record = self._proxies.start(sandbox_id, self._port_target(sandbox_id), reservation, exposed,
                                     pidfile)
        return self._sandbox_ports(record)

    def ensure_ports(self, sandbox_id: str) -> SandboxPorts | None:
        """Restart the sandbox's proxy if it is not running (None: nothing was published)."""
        if self._proxies.get(sandbox_id) is None:
            return None
        record = self._proxies.ensure(sandbox_id, self._port_target(sandbox_id))
        return self._sandbox_ports(record) if record else None

    def stop_ports(self, sandbox_id: str) -> None:
        """Free the sandbox's host ports (its proxy ends); `ensure_ports` publishes them again."""
        self._proxies.stop(sandbox_id)

    def published_ports(self, sandbox_id: str) -> SandboxPorts | None:
        record = self._proxies.get(sandbox_id)
        return self._sandbox_ports(record) if record else None

    def _sandbox_ports(self, record: ProxyRecord) -> SandboxPorts:
        return SandboxPorts(tuple(record.ports), tuple(record.exposed), self._proxies.alive(record))

    def _port_target(self, sandbox_id: str) -> str:
        box = self._store.read().sandboxes.get(sandbox_id)
        attachments = sorted(box.attachments, key=lambda a: not a.default_route) if box else []
        if not attachments:
            raise NetworkError(f"cannot publish ports of {sandbox_id[:12]}: it is on no network")
        return attachments[0].address


def _network_info(rec: NetworkRecord) -> NetworkInfo:
    return NetworkInfo(
        name=rec.name,
        bridge=rec.bridge,
        subnet=rec.subnet,
        gateway=rec.gateway,
        labels=dict(rec.labels),
        internal=rec.internal,
        mtu=rec.mtu,
        ip_range=rec.ip_range,
    )


def _attachment(rec: AttachmentRecord) -> Attachment:
    return Attachment(
        network=rec.network,
        interface=rec.interface,
        host_interface=rec.host_interface,
        address=rec.address,
        prefixlen=rec.prefixlen,
        gateway=rec.gateway,
        mac=rec.mac,
    )


def _sandbox(rec: SandboxRecord) -> Sandbox:
    return Sandbox(
        id=rec.id,
        netns_path=rec.netns_path,
        attachments=tuple(_attachment(a) for a in rec.attachments),
    )
