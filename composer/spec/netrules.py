"""Network settings checked once the whole project is known (pure, with file positions).

Top-level networks: the bridge driver only, one IPv4 `ipam.config` whose gateway and
ip_range lie in its subnet, a numeric MTU. Services: `network_mode` is one of none, host,
service:NAME (an existing service) or container:NAME and excludes `networks` and
`mac_address`; an `ipv4_address` lies in the network's configured subnet, used by one
service only; a MAC is set at the service or on its first network, not both; `interface_name`s
do not clash with each other or with the ethN names of the service's other networks.
Docker refuses a static address on a network whose subnet it chose itself, and so do we:
an address picked today could be handed to another container tomorrow.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network

from composer.models import Network, Service
from composer.spec.source import PosDict, spec_error

MTU_OPTION = "com.docker.network.driver.mtu"
NETWORK_MODES = ("none", "host")
JOIN_PREFIXES = ("service:", "container:")


def check_network_settings(
    root: PosDict, services: dict[str, Service], networks: dict[str, Network]
) -> None:
    for key, network in networks.items():
        _check_network(root, key, network)
    taken: dict[tuple[str, IPv4Address], str] = {}
    for name, service in services.items():
        _check_network_mode(root, name, service, services)
        _check_endpoints(root, name, service)
        for key, settings in service.networks.items():
            if settings is None or settings.ipv4_address is None:
                continue
            path = ("services", name, "networks", key, "ipv4_address")
            address = _static_address(root, path, settings.ipv4_address, networks.get(key))
            holder = taken.setdefault((key, address), name)
            if holder != name:
                raise spec_error(
                    root, path, f'address {address} is also the ipv4_address of service "{holder}"'
                )


def configured_subnet(network: Network) -> IPv4Network | None:
    """The IPv4 subnet the file sets for `network` (validated already), if any."""
    for config in network.ipam.config if network.ipam else ():
        if config.subnet and ipaddress.ip_network(config.subnet, strict=False).version == 4:
            return IPv4Network(config.subnet, strict=False)
    return None


def network_mtu(network: Network) -> int | None:
    value = network.driver_opts.get(MTU_OPTION)
    return int(value) if value else None


def _check_network(root: PosDict, key: str, network: Network) -> None:
    path = ("networks", key)
    if network.driver not in (None, "bridge"):
        raise spec_error(
            root, (*path, "driver"), f'network driver "{network.driver}" is not supported',
            "pycompose makes bridge networks only: remove `driver` or set it to bridge",
        )
    value = network.driver_opts.get(MTU_OPTION)
    if value is not None and not (value.isdigit() and 68 <= int(value) <= 65535):
        raise spec_error(
            root, (*path, "driver_opts", MTU_OPTION), f'invalid MTU "{value}"',
            "give a number of bytes between 68 and 65535",
        )
    configs = network.ipam.config if network.ipam else ()
    ipv4 = [
        (index, c) for index, c in enumerate(configs)
        if c.subnet is None or ipaddress.ip_network(c.subnet, strict=False).version == 4
    ]
    if len(ipv4) > 1:
        raise spec_error(root, (*path, "ipam", "config", ipv4[1][0]),
                         "only one IPv4 ipam config per network is supported")
    if len(ipv4) < len(configs):
        raise spec_error(root, (*path, "ipam", "config"), "IPv6 subnets are not supported yet")
    for index, config in ipv4:
        where = (*path, "ipam", "config", index)
        if config.subnet is None:
            if config.gateway or config.ip_range:
                raise spec_error(root, where, "gateway and ip_range need a subnet")
            continue
        subnet = IPv4Network(config.subnet, strict=False)
        if subnet.prefixlen > 30:
            raise spec_error(root, (*where, "subnet"), f"subnet {subnet} is too small",
                             "use a prefix of /30 or shorter")
        if config.ip_range and not _inside(config.ip_range, subnet):
            raise spec_error(root, (*where, "ip_range"), f"ip_range {config.ip_range} is not inside subnet {subnet}")
        if config.gateway and not _host_of(config.gateway, subnet):
            raise spec_error(root, (*where, "gateway"), f"gateway {config.gateway} is not a host address of subnet {subnet}")


def _check_network_mode(root: PosDict, name: str, service: Service, services: dict[str, Service]) -> None:
    mode = service.network_mode
    if mode is None:
        return
    path = ("services", name, "network_mode")
    if service.networks:
        raise spec_error(root, ("services", name), f"service {name} declares mutually exclusive `network_mode` and `networks`",
                         "keep one of them", key=True)
    if mode in NETWORK_MODES:
        return
    prefix = next((p for p in JOIN_PREFIXES if mode.startswith(p)), None)
    if prefix is None:
        raise spec_error(root, path, f'unsupported network_mode "{mode}"',
                         "use none, host, service:NAME or container:NAME (or `networks:`)")
    target = mode[len(prefix):]
    if not target:
        raise spec_error(root, path, f'network_mode "{mode}" names no {prefix[:-1]}')
    if prefix == "service:" and target not in services:
        raise spec_error(root, path, f'undefined service "{target}"')
    if prefix == "service:" and target == name:
        raise spec_error(root, path, "a service cannot share its own network namespace")
    if service.hostname:
        raise spec_error(root, ("services", name, "hostname"), "conflicting options: hostname and the network mode",
                         f"a container with network_mode {mode} has that container's hostname")


def _check_endpoints(root: PosDict, name: str, service: Service) -> None:
    mac_address, networks = service.mac_address, service.networks
    if mac_address and service.network_mode is not None:
        raise spec_error(root, ("services", name, "mac_address"), "conflicting options: mac_address and the network mode",
                         f"a container with network_mode {service.network_mode} has no interface of its own")
    if not mac_address and not any(s is not None and s.interface_name for s in networks.values()):
        return  # most services: each network gets the next free ethN, nothing can clash
    # The order the networks are attached in (composer.desired.network_keys): who gets which ethN.
    order = sorted(service.networks, key=lambda k: (-(s.priority if (s := service.networks[k]) else 0), k))
    taken: dict[str, str] = {}
    for key in order:
        settings = service.networks[key]
        path = ("services", name, "networks", key)
        if not taken and settings is not None and settings.mac_address and service.mac_address:
            raise spec_error(root, (*path, "mac_address"), "mac_address is set both on the service and on its "
                             "first network", "keep one of them: the service's applies to that network")
        wanted = settings.interface_name if settings else None
        interface = wanted or next(f"eth{i}" for i in range(len(taken) + 1) if f"eth{i}" not in taken)
        if interface in taken:
            raise spec_error(root, (*path, "interface_name"),
                             f'interface name "{interface}" is also the interface of network "{taken[interface]}"')
        taken[interface] = key


def _static_address(root: PosDict, path: tuple[str, ...], value: str, network: Network | None) -> IPv4Address:
    address = ipaddress.ip_address(value)
    if not isinstance(address, IPv4Address):
        raise spec_error(root, path, f"{value} is not an IPv4 address")
    if network is None or network.external:
        return address  # the subnet is known only to the project that made it: checked at attach
    subnet = configured_subnet(network)
    if subnet is None:
        raise spec_error(root, path, "user specified IP address is supported only when connecting to networks with "
                         "user configured subnets", "set ipam.config.subnet on the network")
    if not _host_of(value, subnet):
        raise spec_error(root, path, f"address {address} is not a host address of subnet {subnet}")
    gateway = next((c.gateway for c in network.ipam.config if c.gateway), None) if network.ipam else None
    if address == (IPv4Address(gateway) if gateway else subnet.network_address + 1):
        raise spec_error(root, path, f"address {address} is the gateway of the network")
    return address


def _inside(cidr: str, subnet: IPv4Network) -> bool:
    net = ipaddress.ip_network(cidr, strict=False)
    return isinstance(net, IPv4Network) and net.subnet_of(subnet)


def _host_of(value: str, subnet: IPv4Network) -> bool:
    address = ipaddress.ip_address(value)
    return address in subnet and address not in (subnet.network_address, subnet.broadcast_address)
