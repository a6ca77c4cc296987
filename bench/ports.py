"""Benchmark: a published TCP port through pycompose's proxy vs direct to the container, and
vs `podman run -p` (netavark's kernel DNAT), in the same run.

Run as root:  python bench/ports.py [--round-trips N] [--megabytes M] [--connects N] [--no-podman]

Both tools run the same busybox servers in one container: an echo (`nc -ll -e cat`) and a
sink (`nc -ll -e dd of=/dev/null`). The client is this process, on the host: 1-byte
ping-pong round trips on one connection, a bulk send, and new connections each answered
once. Traffic goes to 127.0.0.1 (the published ports) and to the container's own address.
pycompose uses private state roots; everything made is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVERS = "nc -ll -p 7 -e cat & nc -ll -p 9 -e dd of=/dev/null bs=65536 2>/dev/null & wait"
PODMAN_IMAGE = "localhost/busybox:peers"
Result = dict[str, float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(address: tuple[str, int], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(address, timeout=2) as sock:
                sock.sendall(b"x")
                if sock.recv(1) == b"x":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"no echo at {address}")
        time.sleep(0.1)


def round_trips(address: tuple[str, int], count: int) -> list[float]:
    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(b"p")
            if sock.recv(1) != b"p":
                raise SystemExit("echo broke")
            times.append((time.perf_counter() - start) * 1e6)
    return times


def throughput(address: tuple[str, int], megabytes: int) -> float:
    chunk = b"\0" * (1 << 20)
    with socket.create_connection(address) as sock:
        start = time.perf_counter()
        for _ in range(megabytes):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # the sink closes once it has read everything
        return megabytes / (time.perf_counter() - start)


def connects(address: tuple[str, int], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        with socket.create_connection(address) as sock:
            sock.sendall(b"c")
            sock.recv(1)
        times.append((time.perf_counter() - start) * 1e6)
    return times


def measure(echo: tuple[str, int], sink: tuple[str, int], args: argparse.Namespace) -> Result:
    wait_for(echo)
    rtt = sorted(round_trips(echo, args.round_trips))
    conn = sorted(connects(echo, args.connects))
    return {
        "rtt_median_us": statistics.median(rtt),
        "rtt_p99_us": rtt[int(len(rtt) * 0.99) - 1],
        "connect_median_us": statistics.median(conn),
        "mb_per_s": max(throughput(sink, args.megabytes) for _ in range(3)),
    }


def pycompose(args: argparse.Namespace, results: dict[str, Result]) -> None:
    root = Path(tempfile.mkdtemp(prefix="pycompose-bench-ports-"))
    env = {**os.environ, "PYCOMPOSE_ROOT": str(root / "data"), "PYCOMPOSE_RUN_ROOT": str(root / "run"),
           "PYCOMPOSE_CGROUP_PARENT": f"pycompose-bench-{root.name[-8:]}", "PYTHONPATH": str(REPO)}
    project = root / "proj"
    project.mkdir()
    echo_port, sink_port = free_port(), free_port()
    (project / "stack.yaml").write_text(textwrap.dedent(f"""
        services:
          srv:
            image: busybox
            command: ["sh", "-c", "trap 'exit 0' TERM; {SERVERS}"]
            ports: ["127.0.0.1:{echo_port}:7", "127.0.0.1:{sink_port}:9"]
        """))

    def cli(*argv: str) -> str:
        return subprocess.run([sys.executable, "-m", "composer", "-p", "benchports", *argv], cwd=project,
                              env=env, check=True, capture_output=True, text=True).stdout

    tarball = root / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tarball)], check=True)
    cli("image", "import", str(tarball), "busybox")
    try:
        cli("up", "-d")
        cid = json.loads(cli("ps", "--format", "json").splitlines()[0])["ID"]
        sys.path.insert(0, str(REPO))
        from network import NetworkManager

        sandbox = NetworkManager(root / "data", root / "run").get_sandbox(cid)
        assert sandbox is not None
        address = sandbox.attachments[0].address
        results["pycompose proxy (127.0.0.1)"] = measure(("127.0.0.1", echo_port), ("127.0.0.1", sink_port), args)
        results["pycompose direct (container IP)"] = measure((address, 7), (address, 9), args)
        record = json.loads(next((root / "run" / "network" / "ports").glob("*.json")).read_text())
        rollup = Path(f"/proc/{record['pid']}/smaps_rollup").read_text()
        for key in ("Rss", "Pss"):
            value = float(rollup.split(f"\n{key}:")[1].split()[0])
            results["pycompose proxy (127.0.0.1)"][f"proxy_{key.lower()}_kb"] = value
    finally:
        cli("down", "-t", "1")
        shutil.rmtree(root, ignore_errors=True)


def podman(args: argparse.Namespace, results: dict[str, Result]) -> None:
    if shutil.which("podman") is None:
        print("podman not installed: skipped", file=sys.stderr)
        return
    name = f"pycompose-bench-ports-{os.getpid()}"
    echo_port, sink_port = free_port(), free_port()
    run = ["podman", "run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{echo_port}:7",
           "-p", f"127.0.0.1:{sink_port}:9", PODMAN_IMAGE, "sh", "-c", SERVERS]
    subprocess.run(run, check=True, capture_output=True)
    try:
        address = subprocess.run(["podman", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name],
                                 check=True, capture_output=True, text=True).stdout.strip()
        results["podman -p (127.0.0.1)"] = measure(("127.0.0.1", echo_port), ("127.0.0.1", sink_port), args)
        results["podman direct (container IP)"] = measure((address, 7), (address, 9), args)
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "1", name], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=512)
    parser.add_argument("--connects", type=int, default=300)
    parser.add_argument("--no-podman", action="store_true")
    args = parser.parse_args()
    results: dict[str, Result] = {}
    runs: list[Callable[[argparse.Namespace, dict[str, Result]], None]] = [pycompose]
    if not args.no_podman:
        runs.append(podman)
    for run in runs:
        run(args, results)
    print(f"{'path':34s} {'RTT median':>11s} {'RTT p99':>9s} {'connect':>9s} {'MB/s':>7s}")
    for path, r in results.items():
        print(f"{path:34s} {r['rtt_median_us']:8.0f} us {r['rtt_p99_us']:6.0f} us "
              f"{r['connect_median_us']:6.0f} us {r['mb_per_s']:7.0f}")
    for r in results.values():
        if "proxy_pss_kb" in r:
            print(f"proxy memory: RSS {r['proxy_rss_kb'] / 1024:.1f} MB, PSS {r['proxy_pss_kb'] / 1024:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
