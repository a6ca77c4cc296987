"""Benchmark: how fast a container's DNS name and host port follow its runs.

Run as root:  python bench/exit_release.py [--rounds N]

A sleeping process stands in for a container's PID 1, with a pidfile written as the
runtime's monitor writes it (network/liveness.py). Each round starts a run, waits until the
name resolves and the port accepts, then kills the run and measures the time until the
embedded DNS server answers NXDOMAIN and until the port refuses (the proxy released it),
then the time from the next run's pidfile until both are back. Private temporary roots, a
published port on 127.0.0.1 only; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dnslib import RCODE, DNSRecord

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network import NetworkManager, NetworkSpec, PortRequest, reserve  # noqa: E402
from network.liveness import start_time  # noqa: E402


def resolves(server: str, name: str) -> bool:
    reply = DNSRecord.parse(DNSRecord.question(name).send(server, 53, timeout=2))
    return reply.header.rcode != RCODE.NXDOMAIN and bool(reply.rr)


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def until(*checks: Callable[[], bool], timeout: float = 10.0) -> list[float]:
    """Milliseconds from now until each of `checks` first holds (polled in turn)."""
    start = time.perf_counter()
    found: dict[int, float] = {}
    while len(found) < len(checks):
        for index, check in enumerate(checks):
            if index not in found and check():
                found[index] = (time.perf_counter() - start) * 1000
        if time.perf_counter() - start > timeout:
            raise SystemExit("timed out")
        time.sleep(0.0005)
    return [found[i] for i in range(len(checks))]


def new_run(pidfile: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(f"{proc.pid} {start_time(proc.pid)}\n")
    os.replace(tmp, pidfile)
    return proc


def line(name: str, xs: list[float]) -> str:
    return f"{name:32s} median {statistics.median(xs):6.1f} ms   max {max(xs):6.1f} ms   min {min(xs):6.1f} ms"


def bench(mgr: NetworkManager, root: Path, rounds: int) -> None:
    net = mgr.ensure_network(NetworkSpec("bench_exit")).name
    pidfile = root / "containers" / "c1" / "pid"
    pidfile.parent.mkdir(parents=True)
    gone_dns: list[float] = []
    gone_port: list[float] = []
    back_dns: list[float] = []
    back_port: list[float] = []
    proc = None
    try:
        mgr.create_sandbox("c1")
        att = mgr.attach("c1", net)
        mgr.ensure_dns(("127.0.0.1:9",))  # nothing is forwarded: the name is ours
        mgr.dns.publish("c1", net, att.address, ["web"], pidfile=str(pidfile))
        with reserve([PortRequest(80, "tcp", "127.0.0.1")]) as reservation:
            port = reservation.ports[0].host_port
            mgr.publish_ports("c1", reservation, pidfile=str(pidfile))
        for i in range(rounds + 1):
            proc = new_run(pidfile)
            t_dns, t_port = until(lambda: resolves(att.gateway, "web"), lambda: accepts(port))
            if i:  # round 0: the proxy still holds the ports it was handed
                back_dns.append(t_dns)
                back_port.append(t_port)
            proc.kill()  # the monitor would reap it and remove the pidfile
            proc.wait()
            pidfile.unlink()
            t_dns, t_port = until(lambda: not resolves(att.gateway, "web"), lambda: not accepts(port))
            gone_dns.append(t_dns)
            gone_port.append(t_port)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        mgr.remove_sandbox("c1")
        mgr.remove_network(net)
    print(f"rounds: {rounds}")
    print(line("exit -> NXDOMAIN", gone_dns))
    print(line("exit -> host port refused", gone_port))
    print(line("new run -> name answered", back_dns))
    print(line("new run -> port accepts", back_port))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-") as tmp:
        root = Path(tmp)
        bench(NetworkManager(root / "data", root / "run"), root, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
