"""The public value types of the network package (what composer sees)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkSpec:
    """What composer asks for. `name` is the full name, e.g. "myproj_default"."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    # No default route in attached sandboxes and no forwarding from the bridge: members
    # reach each other (and the gateway address), nothing beyond.
    internal: bool = False
    subnet: str | None = None  # None: the next free subnet of the pool
    gateway: str | None = None  # None: the first host address of the subnet
    ip_range: str | None = None  # dynamic addresses come from here (default: the subnet)
    mtu: int | None = None  # None: the MTU of the host's default-route interface, else 1500


@dataclass(frozen=True)
class Endpoint:
    """How a sandbox asks to be wired to one network, beyond its address: the interface
    name inside (None: the next free ethN), its MAC (None: derived from the names), and
    its claim to the default route (the highest `gw_priority` wins)."""

    interface: str | None = None
    mac: str | None = None
    gw_priority: int = 0


@dataclass(frozen=True)
class NetworkInfo:
    """A network as it exists: its bridge and its subnet (CIDR) and gateway address."""

    name: str
    bridge: str
    subnet: str
    gateway: str
    labels: dict[str, str]
    internal: bool = False
    mtu: int = 0  # 0: recorded before MTUs were (the kernel's default)
    ip_range: str | None = None


@dataclass(frozen=True)
class Attachment:
    """One sandbox's leg on one network.

    `interface` is the name inside the sandbox (eth0...), `host_interface` the host end.
    """

    network: str
    interface: str
    host_interface: str
    address: str
    prefixlen: int
    gateway: str
    mac: str


@dataclass(frozen=True)
class Sandbox:
    """A named network namespace; `netns_path` is what the runtime joins."""

    id: str
    netns_path: str
    attachments: tuple[Attachment, ...]
