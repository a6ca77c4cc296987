"""DNS wire format (via dnslib): a packet in, a packet (or a forwarding order) out.

dnslib is pure Python and small; only the server process imports this module, so the
CLI never pays for it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address

from dnslib import PTR, QTYPE, RCODE, RR, A, DNSError, DNSHeader, DNSRecord
from dnslib.buffer import Buffer

from network.dns.records import Book, lookup

TTL = 0  # a recreated container's new address is seen at once
UDP_LIMIT = 512  # without EDNS, a UDP answer larger than this is truncated (TC) per RFC 1035


@dataclass(frozen=True)
class Forward:
    """Relay `query` unchanged to `upstreams` (empty: the server's defaults)."""

    query: bytes
    upstreams: tuple[str, ...]


def respond(packet: bytes, book: Book, local: IPv4Address, source: IPv4Address,
            udp: bool = True) -> bytes | Forward | None:
    """The reply to `packet`, a `Forward`, or None for garbage (dropped, as resolvers do)."""
    try:
        query = DNSRecord.parse(packet)
    except (DNSError, IndexError, ValueError, UnicodeDecodeError):
        return _formerr(packet)
    if query.header.qr:
        return None
    if query.header.opcode != 0:
        return _error(query, RCODE.NOTIMP)
    if len(query.questions) != 1:
        return _error(query, RCODE.FORMERR)
    question = query.q
    answer = lookup(book, local, source, str(question.qname), question.qtype)
    if answer.kind == "forward":
        return Forward(packet, answer.upstreams)
    if answer.kind == "refused":
        return _error(query, RCODE.REFUSED)
    reply = query.reply()
    if answer.kind == "nxdomain":
        reply.header.rcode = RCODE.NXDOMAIN
    for address in answer.addresses:
        reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(str(address)), ttl=TTL))
    for pointer in answer.pointers:
        reply.add_answer(RR(question.qname, QTYPE.PTR, rdata=PTR(pointer), ttl=TTL))
    data = bytes(reply.pack())
    limit = _udp_limit(query) if udp else 65535
    return bytes(reply.truncate().pack()) if len(data) > limit else data


class AnswerCache:
    """The replies given from one `Book`, by (query minus its id, gateway, sender, transport).

    A repeated question is answered by patching the id into the stored reply, skipping
    parsing and packing (most of the cost). A reply of several A records (a scaled
    service) is kept as its head plus the records, each a fixed 16 bytes (name pointer,
    type, class, TTL, length, address), which are shuffled anew for every answer. A
    reload makes a new cache with the new Book.
    """

    LIMIT = 10_000

    def __init__(self, book: Book, shuffle: Callable[[list[bytes]], None] = random.shuffle) -> None:
        self.book = book
        self._shuffle = shuffle
        self._replies: dict[tuple[bytes, str, str, bool], tuple[bytes, list[bytes]]] = {}

    def respond(self, packet: bytes, local: str, source: str, udp: bool = True) -> bytes | Forward | None:
        key = (packet[2:], local, source, udp)
        stored = self._replies.get(key)
        if stored is not None:
            head, records = stored
            if len(records) > 1:
                records = list(records)
                self._shuffle(records)
            return packet[:2] + head + b"".join(records)
        result = respond(packet, self.book, IPv4Address(local), IPv4Address(source), udp)
        if isinstance(result, bytes):
            split = _split_answers(result)
            if split is not None:
                if len(self._replies) >= self.LIMIT:
                    self._replies.clear()
                self._replies[key] = split
        return result


def _split_answers(reply: bytes) -> tuple[bytes, list[bytes]] | None:
    """(reply minus id and answers, [answer records]) when the answers are only A records
    with the question's name compressed (what `respond` packs); None otherwise."""
    answers = int.from_bytes(reply[6:8], "big")
    if answers <= 1:
        return reply[2:], []
    if reply[8:12] != b"\0\0\0\0" or len(reply) < 12 + 16 * answers:
        return None
    start = len(reply) - 16 * answers
    records = [reply[i:i + 16] for i in range(start, len(reply), 16)]
    if not all(r.startswith(_A_RECORD) for r in records):
        return None
    return reply[2:start], records


_A_RECORD = b"\xc0\x0c\x00\x01\x00\x01"  # pointer to the question's name, type A, class IN


def servfail(packet: bytes) -> bytes | None:
    """SERVFAIL for a query no upstream answered."""
    try:
        return _error(DNSRecord.parse(packet), RCODE.SERVFAIL)
    except (DNSError, IndexError, ValueError, UnicodeDecodeError):
        return None


def _udp_limit(query: DNSRecord) -> int:
    for record in query.ar:
        if record.rtype == QTYPE.OPT:
            return max(UDP_LIMIT, int(record.rclass))  # EDNS0: the client's buffer size
    return UDP_LIMIT


def _error(query: DNSRecord, rcode: int) -> bytes:
    reply = query.reply()
    reply.header.rcode = rcode
    reply.rr = []
    return bytes(reply.pack())


def _formerr(packet: bytes) -> bytes | None:
    """A header-only FORMERR when at least the header parses (it carries the id)."""
    if len(packet) < 12:
        return None
    header = DNSHeader.parse(Buffer(packet[:12]))
    if header.qr:
        return None
    reply = DNSRecord(DNSHeader(id=header.id, qr=1, opcode=header.opcode, rcode=RCODE.FORMERR))
    return bytes(reply.pack())

