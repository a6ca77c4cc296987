"""The public value types of the network package (what composer sees)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkSpec:
    """What composer asks for. `name` is the full name, e.g. "myproj_default"."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    internal: bool = False  # recorded; enforcing it is a later issue


@dataclass(frozen=True)
class NetworkInfo:
    """A network as it exists: its bridge and its subnet (CIDR) and gateway address."""

    name: str
    bridge: str
    subnet: str
    gateway: str
    labels: dict[str, str]


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
