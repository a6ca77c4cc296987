"""Bridges, network namespaces, veth pairs, IPAM and name resolution.

Never imports `composer` or `runtime`. The public API is re-exported here:

    NetworkManager    ensure/remove networks (a bridge + a subnet each), create/remove
                      sandboxes (a named network namespace the runtime joins by path),
                      attach/detach a sandbox to a network (veth, address, default route)
    write_hosts_file  render a container's /etc/hosts and write it in place
    reserve           bind host ports to publish (before the container exists); the
                      manager's publish_ports hands them to a proxy process
    NetworkError      root of every error raised here (see network.errors)

Module map: names (interface names, pure), ipam (pure), hosts (pure rendering),
state (JSON + flock), netns (namespace files, fork-free), netlink (the only pyroute2
user), bridge, attach, manager (the facade), ports (host ports bound before a container
exists), proxies (their records and proxy processes), proxy (the proxy process itself).
"""

from network.errors import (
    InvalidNameError,
    KernelError,
    NetworkError,
    NetworkInUseError,
    NetworkNotFoundError,
    PoolExhaustedError,
    SandboxNotFoundError,
    StateError,
)
from network.hosts import render_hosts, write_hosts_file
from network.manager import NetworkManager
from network.model import Attachment, NetworkInfo, NetworkSpec, Sandbox
from network.ports import PortAllocatedError, PortRequest, PublishedPort, SandboxPorts, reserve

__all__ = [
    "Attachment",
    "InvalidNameError",
    "KernelError",
    "NetworkError",
    "NetworkInUseError",
    "NetworkInfo",
    "NetworkManager",
    "NetworkNotFoundError",
    "NetworkSpec",
    "PoolExhaustedError",
    "PortAllocatedError",
    "PortRequest",
    "PublishedPort",
    "Sandbox",
    "SandboxNotFoundError",
    "SandboxPorts",
    "StateError",
    "render_hosts",
    "reserve",
    "write_hosts_file",
]
