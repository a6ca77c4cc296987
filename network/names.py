"""Kernel-safe names derived from user-facing ones (pure).

Linux interface names are at most 15 bytes (IFNAMSIZ - 1), far shorter than
"myproj_backend_network". We derive them from a stable hash so the same inputs always
give the same name, and record the mapping in state so nothing has to be re-derived to
clean up. The hash includes a *scope* (the state root) so two data roots that both
define "myproj_default" (two test runs, two checkouts) never fight over one bridge.
"""

from __future__ import annotations

import hashlib
import re

from network.errors import InvalidNameError

IFNAMSIZ = 16
BRIDGE_PREFIX = "pc-"
VETH_PREFIX = "vp-"
MAX_ID_LENGTH = 128

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def validate_id(kind: str, value: str) -> str:
    """Return `value` if it is usable as a network name or sandbox id (it becomes a file name)."""
    if not value or len(value) > MAX_ID_LENGTH or not _SAFE_ID.match(value):
        raise InvalidNameError(
            f"invalid {kind} {value!r}",
            hint=f"use 1-{MAX_ID_LENGTH} letters, digits, '_', '.' or '-', starting with a "
            "letter or digit",
        )
    return value


def bridge_name(scope: str, network: str) -> str:
    """`pc-<hash10>`: the host bridge of `network` in state root `scope` (13 bytes)."""
    return BRIDGE_PREFIX + _digest("bridge", scope, network)[:10]


def veth_host_name(scope: str, sandbox_id: str, network: str) -> str:
    """`vp-<hash12>`: the host end of the veth joining `sandbox_id` to `network` (15 bytes)."""
    return (
        VETH_PREFIX + _digest("veth", scope, sandbox_id, network)[: IFNAMSIZ - 1 - len(VETH_PREFIX)]
    )


def container_interface(index: int) -> str:
    """The interface name inside the sandbox: eth0, eth1, ..."""
    return f"eth{index}"


def validate_interface(value: str) -> str:
    """Return `value` if the kernel accepts it as an interface name (1-15 bytes, no '/',
    ':' or whitespace, not "." or "..")."""
    size = len(value.encode())
    if not 0 < size < IFNAMSIZ or value in (".", "..") or any(c in value for c in "/:") \
            or any(c.isspace() for c in value):
        raise InvalidNameError(
            f"invalid interface name {value!r}",
            hint=f"use 1-{IFNAMSIZ - 1} bytes without '/', ':' or spaces",
        )
    return value


_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def validate_mac(value: str) -> str:
    """`value` as a unicast Ethernet address in lower case ("02:42:ac:11:00:02"); '-' is
    accepted as the separator."""
    mac = value.lower().replace("-", ":")
    if not _MAC.match(mac) or int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":
        raise InvalidNameError(
            f"invalid MAC address {value!r}",
            hint="use six hex bytes such as 02:42:ac:11:00:02 (a unicast address: the first byte even)",
        )
    return mac


def mac_address(*parts: str) -> str:
    """A stable, locally administered unicast MAC (02:xx:...) derived from `parts`.

    A fixed MAC keeps neighbours' ARP caches valid when a sandbox is re-wired, and for a
    bridge it stops the kernel from changing the bridge MAC as ports come and go.
    """
    raw = bytes.fromhex(_digest("mac", *parts)[:10])
    return ":".join(f"{b:02x}" for b in (0x02, *raw))
