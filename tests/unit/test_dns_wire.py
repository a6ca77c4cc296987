"""The server's packet handling on packets built in memory (no sockets)."""

from __future__ import annotations

from ipaddress import IPv4Address as IP
from ipaddress import IPv4Network

import pytest
from dnslib import EDNS0, QTYPE, RCODE, DNSRecord

from network.dns import wire
from network.dns.records import Book, Entry, Zone

GW = IP("10.89.0.1")
CLIENT = IP("10.89.0.9")


def book(replicas: int = 2) -> Book:
    entries = tuple(Entry(f"w{i}", IP(f"10.89.0.{10 + i}"), (f"p-web-{i}", "web")) for i in range(replicas))
    me = Entry("me", CLIENT, ("p-client-1", "client"), ("192.0.2.53",))
    return Book([Zone("p_default", GW, IPv4Network("10.89.0.0/24"), (*entries, me))])


def ask(name: str, qtype: str = "A", the_book: Book | None = None, udp: bool = True) -> DNSRecord:
    query = DNSRecord.question(name, qtype)
    reply = wire.respond(bytes(query.pack()), the_book or book(), GW, CLIENT, udp=udp)
    assert isinstance(reply, bytes)
    parsed = DNSRecord.parse(reply)
    assert parsed.header.id == query.header.id and parsed.header.qr == 1
    return parsed


def test_a_records_for_every_replica_with_ttl_zero() -> None:
    reply = ask("web")
    assert reply.header.rcode == RCODE.NOERROR and reply.header.aa == 1
    assert sorted(str(rr.rdata) for rr in reply.rr) == ["10.89.0.10", "10.89.0.11"]
    assert {rr.ttl for rr in reply.rr} == {0} and {rr.rtype for rr in reply.rr} == {QTYPE.A}
    assert str(reply.q.qname) == "web."


def test_aaaa_for_a_known_name_is_an_empty_noerror() -> None:
    reply = ask("web", "AAAA")
    assert reply.header.rcode == RCODE.NOERROR and reply.rr == []


def test_unknown_single_label_is_nxdomain() -> None:
    assert ask("nope").header.rcode == RCODE.NXDOMAIN


def test_ptr_for_a_container_address() -> None:
    reply = ask("10.0.89.10.in-addr.arpa", "PTR")
    assert [(rr.rtype, str(rr.rdata)) for rr in reply.rr] == [(QTYPE.PTR, "p-web-0.")]


def test_other_names_become_a_forward_order_for_the_senders_own_servers() -> None:
    packet = bytes(DNSRecord.question("example.org", "A").pack())
    assert wire.respond(packet, book(), GW, CLIENT) == wire.Forward(packet, ("192.0.2.53",))
    assert wire.respond(packet, book(), GW, IP("10.89.0.200")) == wire.Forward(packet, ())


def test_servfail_keeps_the_id_and_question() -> None:
    query = DNSRecord.question("example.org")
    reply = DNSRecord.parse(wire.servfail(bytes(query.pack())) or b"")
    assert (reply.header.id, reply.header.rcode, str(reply.q.qname)) == (query.header.id, RCODE.SERVFAIL, "example.org.")


def test_garbage_and_responses_get_no_answer_a_bad_body_a_formerr() -> None:
    assert wire.respond(b"\x01\x02", book(), GW, CLIENT) is None
    response = bytes(DNSRecord.question("web").reply().pack())
    assert wire.respond(response, book(), GW, CLIENT) is None
    broken = bytes(DNSRecord.question("web").pack())[:-3]
    reply = DNSRecord.parse(wire.respond(broken, book(), GW, CLIENT) or b"")
    assert reply.header.rcode == RCODE.FORMERR and reply.header.id == int.from_bytes(broken[:2], "big")


@pytest.mark.parametrize(("opcode", "rcode"), [(2, RCODE.NOTIMP), (4, RCODE.NOTIMP)])
def test_other_opcodes_are_not_implemented(opcode: int, rcode: int) -> None:
    query = DNSRecord.question("web")
    query.header.opcode = opcode
    reply = DNSRecord.parse(wire.respond(bytes(query.pack()), book(), GW, CLIENT) or b"")
    assert reply.header.rcode == rcode


def test_a_query_at_an_unserved_address_is_refused() -> None:
    packet = bytes(DNSRecord.question("web").pack())
    reply = DNSRecord.parse(wire.respond(packet, book(), IP("10.89.9.1"), CLIENT) or b"")
    assert reply.header.rcode == RCODE.REFUSED


def test_a_large_udp_answer_is_truncated_unless_edns_or_tcp_allows_it() -> None:
    big = book(replicas=40)  # 40 A records: 12 + 9 + 40 * 16 > 512 bytes
    assert ask("web", the_book=big).header.tc == 1
    assert len(ask("web", the_book=big, udp=False).rr) == 40
    query = DNSRecord.question("web")
    query.add_ar(EDNS0(udp_len=4096))
    reply = DNSRecord.parse(wire.respond(bytes(query.pack()), big, GW, CLIENT) or b"")
    assert reply.header.tc == 0 and len(reply.rr) == 40


def test_the_answer_cache_patches_the_id_and_keeps_no_multi_address_replies() -> None:
    cache = wire.AnswerCache(book(replicas=1))
    first, second = DNSRecord.question("web"), DNSRecord.question("web")
    second.header.id = (first.header.id + 1) & 0xFFFF
    one = cache.respond(bytes(first.pack()), str(GW), str(CLIENT))
    two = cache.respond(bytes(second.pack()), str(GW), str(CLIENT))
    assert isinstance(one, bytes) and isinstance(two, bytes) and one[2:] == two[2:]
    assert DNSRecord.parse(two).header.id == second.header.id
    # another sender, gateway or transport is another question
    assert cache.respond(bytes(first.pack()), str(GW), "10.89.0.10", udp=False) == wire.respond(
        bytes(first.pack()), cache.book, GW, IP("10.89.0.10"), udp=False)
    replicas = wire.AnswerCache(book(replicas=8))
    orders = {tuple(str(rr.rdata) for rr in DNSRecord.parse(replicas.respond(bytes(first.pack()), str(GW), str(CLIENT))).rr)
              for _ in range(20)}
    assert len(orders) > 1  # shuffled every time, not frozen by the cache
    assert {tuple(sorted(order)) for order in orders} == {tuple(f"10.89.0.{10 + i}" for i in range(8))}
