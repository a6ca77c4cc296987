"""The embedded DNS server: containers resolve each other by name through it.

    records   the lookup logic (pure: scoping, A, PTR, NXDOMAIN, what to forward)
    wire      DNS packets in and out (dnslib; imported by the server process only)
    zones     the records on disk, one file per network, written under a lock
    server    the long-lived asyncio process serving every zone on its gateway, port 53
    control   starting (once), finding and stopping that process
    (network.inotify is how the server sees a zone change, network.liveness how it
    follows each container's runs)

`EmbeddedDns` is what the network manager uses; nothing here imports dnslib.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from network.dns.control import (
    DnsServerError,
    Layout,
    ensure_server,
    server_pid,
    start_server,
    stop_server,
)
from network.dns.zones import ZoneStore

__all__ = ["DnsServerError", "EmbeddedDns"]


class EmbeddedDns:
    """The records and the server process of one run root."""

    def __init__(self, directory: Path) -> None:
        self.layout = Layout(directory)
        self.zones = ZoneStore(self.layout.zones)
        self._spawned: subprocess.Popen[bytes] | None = None

    def add_zone(self, network: str, gateway: str, subnet: str) -> None:
        self.zones.add_zone(network, gateway, subnet)

    def remove_zone(self, network: str) -> None:
        """Forget the network; the server stops with the last one."""
        if self.zones.remove_zone(network):
            self._stop()

    def publish(self, owner: str, network: str, address: str, names: Sequence[str],
                upstreams: Sequence[str] = (), pidfile: str | None = None) -> None:
        """`pidfile`: the names resolve only while the container it names runs (liveness.py)."""
        self.zones.publish(owner, network, address, names, upstreams, pidfile)

    def withdraw(self, owner: str, network: str | None = None) -> None:
        self.zones.withdraw(owner, network)

    def start(self, upstreams: Sequence[str] = ()) -> None:
        """Spawn the server if it is not running, without waiting (see `ensure_running`)."""
        if server_pid(self.layout) is None:
            self._spawned = start_server(self.layout, upstreams)

    def ensure_running(self, upstreams: Sequence[str] = ()) -> int | None:
        """Start the server if it is not running, and wait until it serves every zone
        (None: no zone, nothing to serve; a server spawned by `start` stops with the
        last zone, as always)."""
        gateways = [zone.gateway for zone in self.zones.zones()]
        if not gateways:
            self.stop_if_idle()  # e.g. spawned by `start` for services that joined no network
            return None
        return ensure_server(self.layout, [str(g) for g in gateways], upstreams, self._spawned)

    def stop_if_idle(self) -> None:
        """Stop the server if no zone is left for it to serve."""
        if not self.zones.networks():
            self._stop()

    def _stop(self) -> None:
        spawned, self._spawned = self._spawned, None
        if spawned is not None and spawned.poll() is None:
            spawned.terminate()  # ours and maybe still booting, so not yet behind the pidfile lock
            spawned.wait()
        stop_server(self.layout)

    def server_pid(self) -> int | None:
        return server_pid(self.layout)
