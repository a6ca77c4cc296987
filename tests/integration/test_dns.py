"""The embedded DNS server end to end: real containers asking busybox `nslookup`.

Forwarding goes only to stub resolvers these tests start on loopback; never to the
host's real resolvers or to outside names.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from tests.integration.stackkit import Stack, processes_mentioning

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def service(indent: int = 8) -> str:
    """A sleeping busybox service's keys, indented to sit under `NAME:` in a stack text."""
    pad = " " * indent
    return f"\n{pad}image: busybox\n{pad}command: {json.dumps(SLEEPER)}"


def lookup(s: Stack, service_name: str, name: str) -> tuple[int, list[str]]:
    """busybox nslookup's exit code and the addresses it printed (the server's own line skipped)."""
    result = s.exec(service_name, "nslookup", name, check=False)
    found = re.findall(r"^Address: (\S+)$", result.stdout, re.MULTILINE)
    return result.returncode, sorted(set(found))


def addresses(s: Stack) -> dict[str, str]:
    """container name -> its address, from the DNS zone files of these roots."""
    out = {}
    for path in (s.roots.run / "network" / "dns" / "zones").glob("*.json"):
        for entry in json.loads(path.read_text())["entries"].values():
            out[f"{entry['names'][0]}@{path.stem}"] = entry["address"]
    return out


def address_of(s: Stack, container: str) -> str:
    return next(a for key, a in addresses(s).items() if key.startswith(container + "@"))


def dns_dir(s: Stack) -> Path:
    return s.roots.run / "network" / "dns"


def server_pid(s: Stack) -> int:
    return int((dns_dir(s) / "server.pid").read_text())


def test_services_resolve_by_service_container_alias_and_hostname(stack: Stack) -> None:
    p = stack.project
    stack.write(f"""
    services:
      web:{service()}
        hostname: web-host
        networks:
          default: {{aliases: [pool, api.internal]}}
      web2:{service()}
        networks:
          default: {{aliases: [pool]}}
      client:{service()}
    """)
    stack.run("up", "-d")
    web, web2 = address_of(stack, f"{p}-web-1"), address_of(stack, f"{p}-web2-1")
    for name in ("web", f"{p}-web-1", "web-host", "api.internal", "WEB"):
        assert lookup(stack, "client", name) == (0, [web]), name
    assert lookup(stack, "client", "pool") == (0, sorted([web, web2]))  # one name, several containers
    code, found = lookup(stack, "client", "nope")
    assert code != 0 and found == []
    ptr = stack.exec("client", "nslookup", web).stdout
    assert f"name = {p}-web-1" in ptr
    resolv = stack.exec("client", "cat", "/etc/resolv.conf").stdout
    gateway = resolv.split()[1]
    assert resolv.startswith(f"nameserver {gateway}\n") and "ndots:0" in resolv
    # TCP too (from the host, so an unknown sender: the receiving network's names)
    reply = DNSRecord.parse(DNSRecord.question("web2").send(gateway, 53, tcp=True, timeout=5))
    assert [str(rr.rdata) for rr in reply.rr] == [web2]
    # peers are not in hosts files (DNS only, as Docker)
    assert "web" not in stack.exec("client", "cat", "/etc/hosts").stdout


def test_names_are_scoped_to_the_networks_a_container_is_on(stack: Stack) -> None:
    p = stack.project
    stack.write(f"""
    services:
      web:{service()}
        networks: [front]
      db:{service()}
        networks: [back]
      proxy:{service()}
        networks: [front, back]
    networks:
      front:
      back:
    """)
    stack.run("up", "-d")
    code, found = lookup(stack, "web", "db")
    assert code != 0 and found == []  # NXDOMAIN: db is on back only
    assert lookup(stack, "db", "web")[1] == []
    assert lookup(stack, "proxy", "db") == (0, [address_of(stack, f"{p}-db-1")])
    assert lookup(stack, "proxy", "web") == (0, [address_of(stack, f"{p}-web-1")])
    assert lookup(stack, "web", "proxy") == (0, [addresses(stack)[f"{p}-proxy-1@{p}_front"]])
    assert lookup(stack, "db", "proxy") == (0, [addresses(stack)[f"{p}-proxy-1@{p}_back"]])


def test_a_recreated_or_removed_container_is_seen_by_its_peers_at_once(stack: Stack) -> None:
    p = stack.project
    stack.write(f"services:\n  web:{service(4)}\n    hostname: web-v1\n  old:{service(4)}\n  client:{service(4)}\n")
    stack.run("up", "-d")
    assert lookup(stack, "client", "web-v1")[0] == 0 and lookup(stack, "client", "old")[0] == 0
    stack.write(f"services:\n  web:{service(4)}\n    hostname: web-v2\n  client:{service(4)}\n")
    stack.run("up", "-d", "--remove-orphans")
    new = address_of(stack, f"{p}-web-1")
    deadline = time.monotonic() + 0.5  # the server rereads within milliseconds of the change
    while lookup(stack, "client", "web-v2") != (0, [new]):
        assert time.monotonic() < deadline, lookup(stack, "client", "web-v2")
    assert lookup(stack, "client", "web") == (0, [new])
    assert lookup(stack, "client", "web-v1")[1] == [] and lookup(stack, "client", "old")[1] == []
    stack.run("stop", "-t", "1", "web")  # as in Docker, a stopped container does not resolve
    assert lookup(stack, "client", "web")[1] == []
    stack.run("start", "web")
    assert lookup(stack, "client", "web") == (0, [new])


class StubResolver:
    """A UDP DNS server on loopback: outside.test has one fixed address, all else is NXDOMAIN."""

    def __init__(self, host: str, port: int, answer: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.settimeout(0.1)
        self.host, self.port = self.sock.getsockname()
        self.answer = answer
        self.asked: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = DNSRecord.parse(data)
            self.asked.append(str(query.q.qname))
            reply = query.reply()
            if str(query.q.qname) != "outside.test.":
                reply.header.rcode = RCODE.NXDOMAIN
            elif query.q.qtype == QTYPE.A:
                reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(self.answer), ttl=5))
            self.sock.sendto(reply.pack(), peer)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def stubs() -> Iterator[tuple[StubResolver, StubResolver]]:
    """The default upstream (any port), and one for a service's `dns:` (port 53 only, so
    on a random loopback address: parallel test runs never collide)."""
    default = StubResolver("127.0.0.1", 0, "192.0.2.7")
    for _ in range(20):
        try:
            own = StubResolver(f"127.53.{random.randrange(256)}.{random.randrange(1, 255)}", 53, "192.0.2.8")
            break
        except OSError:
            continue
    else:
        default.close()
        pytest.fail("no free loopback address for a stub resolver on port 53")
    yield default, own
    default.close()
    own.close()


def test_other_names_are_forwarded_to_the_upstream_or_the_services_dns(
        stack: Stack, stubs: tuple[StubResolver, StubResolver]) -> None:
    default, own = stubs
    stack.write(f"""
    services:
      plain:{service()}
      custom:{service()}
        dns: {own.host}
        dns_search: corp.test
        dns_opt: [timeout:1]
        extra_hosts: ["printer.lan:10.1.2.3", "host.lan=host-gateway"]
    """)
    env = {"PYCOMPOSE_DNS_UPSTREAMS": f"127.0.0.1:{default.port}"}
    stack.run("up", "-d", env=env)
    assert lookup(stack, "plain", "outside.test") == (0, ["192.0.2.7"])
    assert lookup(stack, "custom", "outside.test") == (0, ["192.0.2.8"])
    # busybox nslookup tries only the search list for a single label: ask the absolute name
    assert lookup(stack, "custom", "plain.")[1] == [address_of(stack, f"{stack.project}-plain-1")]
    assert "outside.test." in default.asked and "outside.test." in own.asked
    assert "plain." not in default.asked + own.asked  # ours stay ours
    resolv = stack.exec("custom", "cat", "/etc/resolv.conf").stdout
    gateway = resolv.split()[1]
    assert resolv == f"nameserver {gateway}\nsearch corp.test\noptions timeout:1 ndots:0\n"
    hosts = stack.exec("custom", "cat", "/etc/hosts").stdout
    assert "10.1.2.3\tprinter.lan\n" in hosts and f"{gateway}\thost.lan\n" in hosts


def test_a_killed_server_is_restarted_by_up_and_down_leaves_nothing(stack: Stack) -> None:
    stack.write(f"services:\n  web:{service(4)}\n  client:{service(4)}\n")
    stack.run("up", "-d")
    first = server_pid(stack)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while first in processes_mentioning(str(dns_dir(stack))):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert lookup(stack, "client", "web")[1] == []  # no server: no answer
    stack.run("up", "-d")  # nothing else changed
    second = server_pid(stack)
    assert second != first and lookup(stack, "client", "web")[0] == 0
    stack.run("up", "-d")  # a running server is kept
    assert server_pid(stack) == second
    gateway = stack.exec("client", "cat", "/etc/resolv.conf").stdout.split()[1]
    stack.run("down", "-t", "1")
    assert processes_mentioning(str(dns_dir(stack))) == []
    assert not dns_dir(stack).exists()
    assert _hex_endpoint(gateway, 53) not in _bound_endpoints()


def _bound_endpoints() -> set[str]:
    """Local endpoints of UDP sockets and listening TCP sockets (not, say, a client's
    connection in TIME_WAIT whose remote end was the server)."""
    bound = set()
    for table, wanted in (("udp", None), ("tcp", "0A")):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if wanted is None or fields[3] == wanted:
                bound.add(fields[1])
    return bound


def _hex_endpoint(address: str, port: int) -> str:
    """How /proc/net/{udp,tcp} print a local endpoint."""
    return f"{socket.inet_aton(address)[::-1].hex().upper()}:{port:04X}"


def test_concurrent_starts_make_one_server_and_the_last_zone_stops_it(tmp_path: Path) -> None:
    """Four `up`s at once (threads here) find or start the same single server."""
    from concurrent.futures import ThreadPoolExecutor

    from network.dns import EmbeddedDns

    dns = EmbeddedDns(tmp_path / "dns")
    dns.add_zone("t_a", "127.0.0.61", "127.0.0.0/24")  # loopback: nothing leaves the host
    try:
        with ThreadPoolExecutor(4) as pool:
            pids = set(pool.map(lambda _: dns.ensure_running(("127.0.0.1:9",)), range(4)))
        assert len(pids) == 1 and processes_mentioning(str(tmp_path / "dns")) == list(pids)
        dns.publish("c1", "t_a", "127.0.0.62", ["late"])
        deadline = time.monotonic() + 0.5
        while True:
            reply = DNSRecord.parse(DNSRecord.question("late").send("127.0.0.61", 53, timeout=2))
            if [str(rr.rdata) for rr in reply.rr] == ["127.0.0.62"]:
                break
            assert time.monotonic() < deadline
    finally:
        dns.remove_zone("t_a")
    assert processes_mentioning(str(tmp_path / "dns")) == [] and not (tmp_path / "dns").exists()


def test_down_stops_a_server_that_a_killed_up_left_without_networks(stack: Stack) -> None:
    """`up` spawns the server before it makes networks: killed in between, it leaves a
    server with nothing to serve, which `down` still finds."""
    from network.dns import EmbeddedDns

    stack.write(f"services:\n  web:{service(4)}\n")
    dns = EmbeddedDns(dns_dir(stack))
    dns.start()
    deadline = time.monotonic() + 10
    while dns.server_pid() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stack.run("down")
    assert processes_mentioning(str(dns_dir(stack))) == [] and not dns_dir(stack).exists()
