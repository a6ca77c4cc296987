"""Lookup logic of the embedded DNS server: scoping, replicas, PTR, NXDOMAIN, forwarding."""

from __future__ import annotations

from ipaddress import IPv4Address as IP
from ipaddress import IPv4Network

from network.dns.records import (
    QTYPE_A,
    QTYPE_PTR,
    Answer,
    Book,
    Entry,
    Zone,
    lookup,
    reverse_address,
)

AAAA, MX = 28, 15
FRONT_GW, BACK_GW = IP("10.89.0.1"), IP("10.89.1.1")


def book() -> Book:
    """front: web (2 replicas), proxy; back: db, proxy (on both), worker with its own dns:."""
    front = Zone("p_front", FRONT_GW, IPv4Network("10.89.0.0/24"), (
        Entry("w1", IP("10.89.0.2"), ("p-web-1", "web", "www.internal")),
        Entry("w2", IP("10.89.0.3"), ("p-web-2", "web")),
        Entry("px", IP("10.89.0.4"), ("p-proxy-1", "proxy", "edge")),
    ))
    back = Zone("p_back", BACK_GW, IPv4Network("10.89.1.0/24"), (
        Entry("db", IP("10.89.1.2"), ("p-db-1", "db", "DataBase")),
        Entry("px", IP("10.89.1.3"), ("p-proxy-1", "proxy")),
        Entry("wk", IP("10.89.1.4"), ("p-worker-1", "worker"), ("192.0.2.53",)),
    ))
    return Book([front, back])


def ask(local: IP, source: str, name: str, qtype: int = QTYPE_A) -> Answer:
    return lookup(book(), local, IP(source), name, qtype, shuffle=lambda items: items.reverse())


def test_service_container_and_alias_names_resolve_on_their_network() -> None:
    assert ask(FRONT_GW, "10.89.0.4", "p-web-1").addresses == (IP("10.89.0.2"),)
    assert ask(FRONT_GW, "10.89.0.4", "www.internal.").addresses == (IP("10.89.0.2"),)
    assert ask(BACK_GW, "10.89.1.3", "database").addresses == (IP("10.89.1.2"),)  # case-insensitive


def test_a_scaled_service_returns_every_replica_shuffled() -> None:
    answer = ask(FRONT_GW, "10.89.0.4", "web")
    assert answer.kind == "answer"
    assert answer.addresses == (IP("10.89.0.3"), IP("10.89.0.2"))  # the injected shuffle reversed them


def test_a_container_resolves_only_names_of_networks_it_is_attached_to() -> None:
    # web is on front only: db (back only) is unknown to it, so NXDOMAIN, never forwarded.
    assert ask(FRONT_GW, "10.89.0.2", "db").kind == "nxdomain"
    # proxy is on both: asking its front gateway it still sees back's names...
    assert ask(FRONT_GW, "10.89.0.4", "db").addresses == (IP("10.89.1.2"),)
    # ...and a name on both networks answers with the address on the network asked.
    assert ask(BACK_GW, "10.89.1.4", "proxy").addresses == (IP("10.89.1.3"),)
    assert ask(FRONT_GW, "10.89.0.2", "proxy").addresses == (IP("10.89.0.4",),)


def test_an_unknown_sender_sees_the_receiving_network_only() -> None:
    assert ask(FRONT_GW, "10.89.0.99", "web").kind == "answer"
    assert ask(FRONT_GW, "10.89.0.99", "db").kind == "nxdomain"


def test_known_names_have_no_aaaa_or_other_records_but_exist() -> None:
    for qtype in (AAAA, MX):
        answer = ask(FRONT_GW, "10.89.0.4", "web", qtype)
        assert (answer.kind, answer.addresses) == ("answer", ())


def test_unknown_single_label_names_are_nxdomain_and_dotted_ones_are_forwarded() -> None:
    assert ask(FRONT_GW, "10.89.0.2", "nope").kind == "nxdomain"
    assert ask(FRONT_GW, "10.89.0.2", "nope", AAAA).kind == "nxdomain"
    assert ask(FRONT_GW, "10.89.0.2", "example.org") == Answer("forward")


def test_a_container_with_dns_servers_has_its_queries_forwarded_to_them() -> None:
    assert ask(BACK_GW, "10.89.1.4", "example.org") == Answer("forward", upstreams=("192.0.2.53",))
    assert ask(BACK_GW, "10.89.1.4", "db").addresses == (IP("10.89.1.2"),)  # names still answered


def test_ptr_answers_the_canonical_name_within_scope() -> None:
    assert ask(FRONT_GW, "10.89.0.4", "2.0.89.10.in-addr.arpa", QTYPE_PTR).pointers == ("p-web-1",)
    assert ask(FRONT_GW, "10.89.0.4", "2.1.89.10.in-addr.arpa.", QTYPE_PTR).pointers == ("p-db-1",)
    # an unused address of a subnet in scope does not exist; one of another scope is not ours
    assert ask(FRONT_GW, "10.89.0.4", "200.0.89.10.in-addr.arpa", QTYPE_PTR).kind == "nxdomain"
    assert ask(FRONT_GW, "10.89.0.2", "2.1.89.10.in-addr.arpa", QTYPE_PTR).kind == "forward"
    assert ask(FRONT_GW, "10.89.0.2", "8.8.8.8.in-addr.arpa", QTYPE_PTR).kind == "forward"


def test_a_query_at_an_address_that_serves_no_zone_is_refused() -> None:
    assert ask(IP("10.89.7.1"), "10.89.7.2", "web").kind == "refused"


def test_reverse_address_parsing() -> None:
    assert reverse_address("4.3.2.1.in-addr.arpa") == IP("1.2.3.4")
    assert reverse_address("3.2.1.in-addr.arpa") is None
    assert reverse_address("999.3.2.1.in-addr.arpa") is None
    assert reverse_address("x.3.2.1.in-addr.arpa") is None


def test_book_lists_its_gateways() -> None:
    assert book().gateways == {FRONT_GW, BACK_GW}
