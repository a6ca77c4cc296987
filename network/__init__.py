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
user), rtnl (the requests it encodes by hand, pure), bridge, isolation (nftables filter
per bridge), attach, manager (the facade), ports (host ports bound before a container
exists), proxies (their records and proxy processes), proxy (the proxy process itself),
liveness and inotify (following a container's runs by its pidfile; stdlib only, the
proxy loads them as scripts), dns/ (the embedded DNS server).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from network.errors import (
        AddressInUseError,
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
    from network.ipam import parse_pool_setting
    from network.manager import NetworkManager
    from network.model import Attachment, Endpoint, NetworkInfo, NetworkSpec, Sandbox
    from network.ports import PortAllocatedError, PortRequest, PublishedPort, SandboxPorts, reserve

# Imported on first use: every CLI command imports network.errors (and so this package),
# but only some need the manager, DNS and port modules (tens of ms of imports).
_HOMES = {
    **dict.fromkeys(("AddressInUseError", "InvalidNameError", "KernelError", "NetworkError", "NetworkInUseError",
                     "NetworkNotFoundError", "PoolExhaustedError", "SandboxNotFoundError", "StateError"),
                    "network.errors"),
    **dict.fromkeys(("render_hosts", "write_hosts_file"), "network.hosts"),
    "NetworkManager": "network.manager",
    "parse_pool_setting": "network.ipam",
    **dict.fromkeys(("Attachment", "Endpoint", "NetworkInfo", "NetworkSpec", "Sandbox"), "network.model"),
    **dict.fromkeys(("PortAllocatedError", "PortRequest", "PublishedPort", "SandboxPorts", "reserve"),
                    "network.ports"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'network' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "AddressInUseError",
    "Attachment",
    "Endpoint",
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
    "parse_pool_setting",
    "render_hosts",
    "reserve",
    "write_hosts_file",
]
