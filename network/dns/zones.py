"""The embedded DNS server's records on disk: one JSON file per network.

    run_root/network/dns/zones/<network>.json
        {"network", "gateway", "subnet",
         "entries": {<sandbox id>: {"address", "names", "upstreams", "pidfile"}}}

Writers (the network manager and composer, from any thread or process) change a file
under an exclusive flock and replace it atomically; the server only reads, and learns of
a change from inotify. This module never imports dnslib: the CLI uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from network.dns.records import Entry, Zone
from network.errors import StateError
from network.state import flocked, read_json, write_json


class ZoneStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = directory.parent / "zones.lock"

    def path(self, network: str) -> Path:
        return self.directory / f"{network}.json"

    def add_zone(self, network: str, gateway: str, subnet: str) -> None:
        """Create the network's zone, keeping its entries if it exists; idempotent."""
        with self._editing(network) as data:
            data.update(network=network, gateway=gateway, subnet=subnet)
            data.setdefault("entries", {})

    def remove_zone(self, network: str) -> bool:
        """Forget the network's zone; True when no zone is left."""
        with flocked(self._lock):
            self.path(network).unlink(missing_ok=True)
            return not self.networks()

    def publish(self, owner: str, network: str, address: str, names: Sequence[str],
                upstreams: Sequence[str] = (), pidfile: str | None = None) -> None:
        """Record the sandbox `owner`'s address and names on `network` (replacing its old ones);
        with a `pidfile` they resolve only while the container it names runs."""
        with self._editing(network) as data:
            if "gateway" not in data:
                raise StateError(f"network {network!r} has no DNS zone", hint="create the network first")
            entry: dict[str, Any] = {"address": address, "names": list(names), "upstreams": list(upstreams)}
            if pidfile:
                entry["pidfile"] = pidfile
            data["entries"][owner] = entry

    def withdraw(self, owner: str, network: str | None = None) -> None:
        """Drop the sandbox's entries (on one network, or on all); idempotent."""
        for name in [network] if network else self.networks():
            if owner in self._read(self.path(name)).get("entries", {}):
                with self._editing(name) as data:
                    data.get("entries", {}).pop(owner, None)

    def networks(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if not p.name.startswith("."))

    def zones(self) -> list[Zone]:
        """Every zone as it is on disk now (no lock: files are replaced atomically)."""
        zones = []
        for network in self.networks():
            data = self._read(self.path(network))
            if data:
                zones.append(_zone(data))
        return zones

    @contextmanager
    def _editing(self, network: str) -> Iterator[dict[str, Any]]:
        with flocked(self._lock):
            path = self.path(network)
            data = self._read(path)
            before = json.dumps(data, sort_keys=True)
            yield data
            if data and json.dumps(data, sort_keys=True) != before:
                self.directory.mkdir(parents=True, exist_ok=True)
                write_json(path, data)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        return read_json(path)


def _zone(data: dict[str, Any]) -> Zone:
    try:
        entries = tuple(
            Entry(owner, IPv4Address(e["address"]), tuple(e.get("names", ())), tuple(e.get("upstreams", ())),
                  e.get("pidfile"))
            for owner, e in sorted(data.get("entries", {}).items())
        )
        return Zone(data["network"], IPv4Address(data["gateway"]), IPv4Network(data["subnet"]), entries)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"DNS zone of {data.get('network')!r} is malformed: {exc}") from exc

