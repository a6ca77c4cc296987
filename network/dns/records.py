"""Name lookup for the embedded DNS server: pure, no sockets, no wire format.

A `Book` holds every zone (one per network: its gateway, subnet and the containers
attached to it). A query is scoped by where it arrived and who sent it: the zone whose
gateway received it, then the other zones the sending container is attached to, so a
container resolves exactly the names of the networks it is on (as Docker's embedded
DNS does) even though its resolv.conf names one gateway only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

QTYPE_A = 1
QTYPE_PTR = 12
QTYPE_ANY = 255
_ARPA = ".in-addr.arpa"


@dataclass(frozen=True)
class Entry:
    """One container on one network. `names[0]` is its canonical name (the PTR answer);
    `upstreams` are its own `dns:` servers, empty for the server's defaults; with a
    `pidfile` (network/liveness.py) the entry is served only while that container runs."""

    owner: str
    address: IPv4Address
    names: tuple[str, ...]
    upstreams: tuple[str, ...] = ()
    pidfile: str | None = None


@dataclass(frozen=True)
class Zone:
    network: str
    gateway: IPv4Address
    subnet: IPv4Network
    entries: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What to reply. `kind` "forward" means: relay to `upstreams` (empty: the defaults)."""

    kind: Literal["answer", "nxdomain", "forward", "refused"]
    addresses: tuple[IPv4Address, ...] = ()
    pointers: tuple[str, ...] = ()
    upstreams: tuple[str, ...] = ()


@dataclass
class _Indexed:
    zone: Zone
    by_name: dict[str, list[IPv4Address]] = field(default_factory=dict)
    by_address: dict[IPv4Address, Entry] = field(default_factory=dict)


def normalize(name: str) -> str:
    """DNS names compare case-insensitively, with or without the root dot."""
    return name.rstrip(".").lower()


class Book:
    """Every zone, indexed for lookups by gateway, name and address."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        self._by_gateway: dict[IPv4Address, _Indexed] = {}
        self._zones_of: dict[str, list[_Indexed]] = {}  # owner -> its zones
        for zone in sorted(zones, key=lambda z: z.network):
            indexed = _Indexed(zone)
            for entry in zone.entries:
                indexed.by_address[entry.address] = entry
                for name in dict.fromkeys(normalize(n) for n in entry.names if n):
                    indexed.by_name.setdefault(name, []).append(entry.address)
                self._zones_of.setdefault(entry.owner, []).append(indexed)
            self._by_gateway[zone.gateway] = indexed

    @property
    def gateways(self) -> frozenset[IPv4Address]:
        return frozenset(self._by_gateway)

    def scope(self, local: IPv4Address, source: IPv4Address) -> list[_Indexed]:
        """The zones a query received at `local` from `source` may see, receiving zone first."""
        first = self._by_gateway.get(local)
        if first is None:
            return []
        sender = first.by_address.get(source)
        others = self._zones_of.get(sender.owner, []) if sender else []
        return [first, *(z for z in others if z is not first)]

    def sender(self, local: IPv4Address, source: IPv4Address) -> Entry | None:
        first = self._by_gateway.get(local)
        return first.by_address.get(source) if first else None


def lookup(book: Book, local: IPv4Address, source: IPv4Address, qname: str, qtype: int,
           shuffle: Callable[[list[IPv4Address]], None] = random.shuffle) -> Answer:
    """Answer one question asked of the gateway `local` by the container at `source`.

    Known names: their A records (all of them, shuffled), an empty answer for other
    types (AAAA: no IPv6 here). Unknown single-label names: NXDOMAIN (they can only be
    meant for us). PTR for an address in scope: the container's canonical name; for an
    unknown address of a scoped subnet: NXDOMAIN. Everything else is forwarded, to the
    sender's own `dns:` servers if it has any.
    """
    scope = book.scope(local, source)
    if not scope:
        return Answer("refused")
    name = normalize(qname)
    sender = book.sender(local, source)
    forward = Answer("forward", upstreams=sender.upstreams if sender else ())
    if name.endswith(_ARPA):
        return _reverse(scope, name, qtype) or forward
    for zone in scope:
        found = zone.by_name.get(name)
        if found:
            if qtype not in (QTYPE_A, QTYPE_ANY):
                return Answer("answer")
            addresses = list(dict.fromkeys(found))
            shuffle(addresses)
            return Answer("answer", addresses=tuple(addresses))
    if name and "." not in name:
        return Answer("nxdomain")
    return forward


def _reverse(scope: Sequence[_Indexed], name: str, qtype: int) -> Answer | None:
    address = reverse_address(name)
    if address is None:
        return None
    for zone in scope:
        entry = zone.by_address.get(address)
        if entry is not None:
            pointer = (entry.names[0],) if qtype in (QTYPE_PTR, QTYPE_ANY) and entry.names else ()
            return Answer("answer", pointers=pointer)
    if any(address in zone.zone.subnet for zone in scope):
        return Answer("nxdomain")
    return None


def reverse_address(name: str) -> IPv4Address | None:
    """10.89.0.2 from "2.0.89.10.in-addr.arpa"; None for anything else."""
    labels = normalize(name).removesuffix(_ARPA).split(".")
    if len(labels) != 4 or not all(label.isdigit() for label in labels):
        return None
    try:
        return IPv4Address(".".join(reversed(labels)))
    except ValueError:
        return None
