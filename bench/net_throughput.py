"""Benchmark: TCP throughput and latency between two network namespaces, three ways.

Run as root:  python bench/net_throughput.py [--seconds S] [--round-trips N]

  pycompose   two sandboxes on one pycompose network, wired exactly as `up` wires two
              containers (bridge, veth pairs, addresses, MTU, isolation filter)
  by hand     two namespaces joined by one veth pair made with `ip` (no bridge): the floor
  netavark    two podman containers on a `podman network create` bridge (skipped without
              podman or its image; see ../shared/peers/setup.sh)

Throughput is iperf3 (Debian's `iperf3`) for S seconds; latency is a TCP ping-pong of one
byte (TCP_NODELAY) between two small Python processes, N round trips, median and p99.
Both run from the host inside each namespace (`nsenter --net`): the packets take the same
path as between the containers' own processes. Everything made is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network import NetworkManager, NetworkSpec  # noqa: E402

ECHO = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); print("ready", flush=True)
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while (d := c.recv(64)):
    c.sendall(d)
"""
PINGPONG = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
xs = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); c.sendall(b"x"); c.recv(64); xs.append((time.perf_counter() - t) * 1e6)
xs.sort(); print(xs[len(xs) // 2], xs[int(len(xs) * 0.99) - 1])
"""

Pair = tuple[str, str, str, int]  # server netns path, client netns path, server address, MTU


def _in(netns: str, *cmd: str) -> list[str]:
    return ["nsenter", f"--net={netns}", *cmd]


def measure(pair: Pair, seconds: int, round_trips: int) -> tuple[float, float, float]:
    """(Gbit/s, median µs, p99 µs) from the client namespace to the server's address."""
    server_ns, client_ns, address, _ = pair
    server = subprocess.Popen(_in(server_ns, "iperf3", "-s", "-1", "-B", address),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        out = subprocess.run(_in(client_ns, "iperf3", "-c", address, "-t", str(seconds), "-J"),
                             capture_output=True, text=True, check=True).stdout
        gbps = json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9
    finally:
        server.wait(timeout=10)
    echo = subprocess.Popen(_in(server_ns, sys.executable, "-c", ECHO, address, "5299"),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout is not None and echo.stdout.readline().strip() == "ready"
        out = subprocess.run(_in(client_ns, sys.executable, "-c", PINGPONG, address, "5299", str(round_trips)),
                             capture_output=True, text=True, check=True).stdout
        median, p99 = (float(x) for x in out.split())
    finally:
        echo.wait(timeout=10)
    return gbps, median, p99


@contextmanager
def pycompose_pair(tmp: Path) -> Iterator[Pair]:
    mgr = NetworkManager(tmp / "data", tmp / "run", subnet_pool="10.215.0.0/24", subnet_prefix=26)
    try:
        net = mgr.ensure_network(NetworkSpec("bench_tp"))
        boxes = [mgr.create_sandbox(f"tp-{i}") for i in range(2)]
        legs = [mgr.attach(box.id, net.name) for box in boxes]
        yield boxes[0].netns_path, boxes[1].netns_path, legs[0].address, net.mtu
    finally:
        for box in mgr.list_sandboxes():
            mgr.remove_sandbox(box.id)
        for n in mgr.list_networks():
            mgr.remove_network(n.name)


@contextmanager
def hand_pair(mtu: int) -> Iterator[Pair]:
    tag = uuid.uuid4().hex[:6]
    names = [f"tpa-{tag}", f"tpb-{tag}"]
    veths = [f"tpva{tag}", f"tpvb{tag}"]
    ip = ["ip"]
    try:
        for name in names:
            subprocess.run([*ip, "netns", "add", name], check=True)
        subprocess.run([*ip, "link", "add", veths[0], "mtu", str(mtu), "type", "veth", "peer", "name", veths[1],
                        "mtu", str(mtu)], check=True)
        for name, veth, addr in zip(names, veths, ("10.216.0.1/30", "10.216.0.2/30"), strict=True):
            subprocess.run([*ip, "link", "set", veth, "netns", name], check=True)
            subprocess.run([*ip, "-n", name, "addr", "add", addr, "dev", veth], check=True)
            subprocess.run([*ip, "-n", name, "link", "set", veth, "up"], check=True)
            subprocess.run([*ip, "-n", name, "link", "set", "lo", "up"], check=True)
        yield f"/run/netns/{names[0]}", f"/run/netns/{names[1]}", "10.216.0.1", mtu
    finally:
        for name in names:
            subprocess.run([*ip, "netns", "del", name], check=False, stderr=subprocess.DEVNULL)


@contextmanager
def netavark_pair(image: str) -> Iterator[Pair]:
    tag = uuid.uuid4().hex[:6]
    network, containers = f"tp-{tag}", [f"tp-{tag}-{i}" for i in range(2)]
    podman = ["podman"]
    try:
        subprocess.run([*podman, "network", "create", "--subnet", "10.217.0.0/24", network],
                       check=True, capture_output=True)
        for name in containers:
            subprocess.run([*podman, "run", "-d", "--name", name, "--network", network, image, "sleep", "3600"],
                           check=True, capture_output=True)
        keys = [subprocess.run([*podman, "inspect", "-f", "{{.NetworkSettings.SandboxKey}}", c],
                               check=True, capture_output=True, text=True).stdout.strip() for c in containers]
        address = subprocess.run([*podman, "inspect", "-f", f"{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}",
                                  containers[0]], check=True, capture_output=True, text=True).stdout.strip()
        mtu = int(subprocess.run(_in(keys[0], "cat", "/sys/class/net/eth0/mtu"), capture_output=True,
                                 text=True).stdout.strip() or 0)
        yield keys[0], keys[1], address, mtu
    finally:
        subprocess.run([*podman, "rm", "-f", "-t", "0", *containers], check=False, capture_output=True)
        subprocess.run([*podman, "network", "rm", "-f", network], check=False, capture_output=True)


def _podman_image() -> str | None:
    if shutil.which("podman") is None:
        return None
    for image in ("localhost/busybox:peers", "busybox"):
        if subprocess.run(["podman", "image", "exists", image]).returncode == 0:
            return image
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--round-trips", type=int, default=3000)
    args = parser.parse_args()
    if shutil.which("iperf3") is None:
        print("iperf3 is not installed: apt-get install iperf3", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-") as tmp:
        rows: list[tuple[str, Callable[[], AbstractContextManager[Pair]]]] = [
            ("pycompose bridge", lambda: pycompose_pair(Path(tmp))),
        ]
        with ExitStack() as stack:
            mtu = stack.enter_context(pycompose_pair(Path(tmp) / "probe"))[3]
        rows.append(("veth pair by hand", lambda: hand_pair(mtu)))
        image = _podman_image()
        if image is not None:
            rows.append(("podman netavark bridge", lambda: netavark_pair(image)))
        print(f"{'setup':24s} {'MTU':>5s} {'TCP Gbit/s':>11s} {'RTT median µs':>14s} {'RTT p99 µs':>11s}")
        for label, make in rows:
            with make() as pair:
                gbps, median, p99 = measure(pair, args.seconds, args.round_trips)
            print(f"{label:24s} {pair[3]:5d} {gbps:11.2f} {median:14.1f} {p99:11.1f}", flush=True)
        if image is None:
            print("podman netavark bridge: skipped (podman or its busybox image is missing)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
