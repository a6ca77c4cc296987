"""Benchmark: the embedded DNS server vs podman's aardvark-dns, same machine, same run.

Run as root:  python bench/dns.py [--queries N] [--seconds S] [--window W]

One bridge (private temporary roots) whose gateway both servers listen on: ours on port
53, aardvark-dns (/usr/lib/podman/aardvark-dns, if present) on port 5533, each with the
same records: `web` (one container; ours answers a repeated question from its reply
cache) and `pool` (two containers; never cached, each answer shuffled anew). Queries go from the host to the gateway (local delivery, like loopback):
  latency     one query at a time: median and p99 of the round trip
  throughput  W queries in flight from one client socket, for S seconds: answers/s
  update      a new name published (ours: zone file + inotify; aardvark: config file +
              SIGHUP, as netavark does) until the first query that resolves it
Nothing is forwarded (upstream: a closed loopback port). Everything made is removed.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dnslib import DNSRecord  # noqa: E402

from network import NetworkManager, NetworkSpec  # noqa: E402

AARDVARK = Path("/usr/lib/podman/aardvark-dns")
AARDVARK_PORT = 5533


def query(name: str) -> bytes:
    return bytes(DNSRecord.question(name).pack())


def latency(server: tuple[str, int], name: str, count: int) -> list[float]:
    packet = query(name)
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.connect(server)
        for _ in range(count):
            t0 = time.perf_counter()
            sock.send(packet)
            reply = sock.recv(4096)
            times.append((time.perf_counter() - t0) * 1000)
            assert reply[3] & 0x0F == 0 and reply[7] >= 1, "no answer"  # NOERROR, ANCOUNT >= 1
    return times


def throughput(server: tuple[str, int], name: str, seconds: float, window: int) -> float:
    """Answers per second with `window` queries in flight (ids cycle so each is distinct)."""
    template = bytearray(query(name))
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(server)
        sock.setblocking(False)
        next_id = 0

        def send() -> None:
            nonlocal next_id
            next_id = (next_id + 1) & 0xFFFF
            template[0:2] = next_id.to_bytes(2, "big")
            sock.send(template)

        for _ in range(window):
            send()
        end = time.perf_counter() + seconds
        start = time.perf_counter()
        while time.perf_counter() < end:
            ready, _, _ = select.select([sock], [], [], 0.2)
            if not ready:  # a lost datagram: refill the window
                for _ in range(window):
                    send()
                continue
            while True:
                try:
                    sock.recv(4096)
                except BlockingIOError:
                    break
                answered += 1
                send()
        return answered / (time.perf_counter() - start)


def update_latency(server: tuple[str, int], publish: Callable[[str], None], rounds: int) -> list[float]:
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.05)
        sock.connect(server)
        for i in range(rounds):
            name = f"fresh{i}"
            packet = query(name)
            t0 = time.perf_counter()
            publish(name)
            while True:
                try:
                    sock.send(packet)
                    reply = sock.recv(4096)
                except OSError:  # refused or lost while aardvark-dns rebinds on SIGHUP
                    reply = b"\xff" * 12
                if reply[3] & 0x0F == 0 and reply[7] >= 1:
                    break
                time.sleep(0.0002)
            times.append((time.perf_counter() - t0) * 1000)
    return times


def report(lat: list[float], qps: float) -> None:
    lat = sorted(lat)
    p99 = lat[int(len(lat) * 0.99) - 1]
    print(f"latency median {statistics.median(lat):6.3f} ms  p99 {p99:6.3f} ms   throughput {qps:8.0f} q/s")


def start_aardvark(directory: Path, gateway: str, address: str) -> tuple[int, Callable[[str], None]]:
    config = directory / "bench_dns"
    other = gateway.rsplit(".", 1)[0] + ".3"
    lines = [gateway, f"c1 {address}  web,bench-web-1,pool", f"c2 {other}  bench-web-2,pool"]
    config.write_text("\n".join(lines) + "\n")
    subprocess.run([str(AARDVARK), "--config", str(directory), "-p", str(AARDVARK_PORT), "run"],
                   check=True, capture_output=True, timeout=10)
    pid = int((directory / "aardvark.pid").read_text())
    _await_answer((gateway, AARDVARK_PORT), "web")

    def publish(name: str) -> None:
        lines.append(f"c-{name} {address}  {name}")
        config.write_text("\n".join(lines) + "\n")
        os.kill(pid, signal.SIGHUP)

    return pid, publish


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--updates", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dns-"))
    manager = NetworkManager(tmp / "data", tmp / "run")
    aardvark_pid = None
    try:
        net = manager.ensure_network(NetworkSpec("bench_dns"))
        address = net.gateway.rsplit(".", 1)[0] + ".2"
        other = net.gateway.rsplit(".", 1)[0] + ".3"
        manager.dns.publish("c1", net.name, address, ["bench-web-1", "web", "pool"])
        manager.dns.publish("c2", net.name, other, ["bench-web-2", "pool"])
        t0 = time.perf_counter()
        manager.ensure_dns(("127.0.0.1:9",))
        print(f"embedded server start (spawn until listening): {(time.perf_counter() - t0) * 1000:.0f} ms")
        ours = (net.gateway, 53)
        latency(ours, "web", 200)  # warm up

        def publish_ours(name: str) -> None:
            manager.dns.publish(f"c-{name}", net.name, address, [name])

        results = [("pycompose", ours, publish_ours)]
        if AARDVARK.exists():
            (tmp / "aardvark").mkdir()
            aardvark_pid, publish_aardvark = start_aardvark(tmp / "aardvark", net.gateway, address)
            peer = (net.gateway, AARDVARK_PORT)
            latency(peer, "web", 200)
            results.append((f"aardvark-dns {_version()}", peer, publish_aardvark))
        else:
            print(f"{AARDVARK} not found: no peer")
        print(f"{args.queries} sequential queries; {args.window} in flight for {args.seconds:.0f}s; "
              f"{args.updates} updates")
        for label, server, publish in results:
            for name in ("web", "pool"):
                lat = latency(server, name, args.queries)
                qps = throughput(server, name, args.seconds, args.window)
                print(f"{label:18s} {name:5s}", end=" ")
                report(lat, qps)
            update = sorted(update_latency(server, publish, args.updates))
            print(f"{label:18s} update: new name answered after median {statistics.median(update):6.2f} ms, "
                  f"max {update[-1]:6.2f} ms")
    finally:
        if aardvark_pid is not None:
            os.kill(aardvark_pid, signal.SIGTERM)
        manager.remove_network("bench_dns")
        shutil.rmtree(tmp, ignore_errors=True)


def _await_answer(server: tuple[str, int], name: str, timeout: float = 5.0) -> None:
    """aardvark-dns daemonizes before it binds: wait for its first answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            latency(server, name, 1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _version() -> str:
    out = subprocess.run([str(AARDVARK), "--version"], capture_output=True, text=True).stdout
    return out.split()[-1] if out else "?"


if __name__ == "__main__":
    main()
