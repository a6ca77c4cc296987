"""Published ports end to end: reached from the host at 127.0.0.1, found again, cleaned up.

Traffic goes only to loopback and to the container's own address. Each test uses host
ports the kernel just reported free. The `stack` fixture (conftest.py) checks after
`down` that no process mentions the test's roots: a proxy's command line names its
record under the run root, so a proxy left behind fails every test here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.stackkit import Stack, processes_mentioning

HTTPD = ["sh", "-c", "trap 'exit 0' TERM; echo hello > /tmp/index.html; httpd -f -p 80 -h /tmp & wait"]


def web(*ports: str, extra: str = "") -> str:
    """A stack of one busybox httpd serving "hello" on port 80, publishing `ports`."""
    return f"""
    services:
      web:
        image: busybox
        command: {json.dumps(HTTPD)}
        ports: {json.dumps(list(ports))}{extra}
    """


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(port: int, path: str = "/", timeout: float = 10) -> str:
    """GET over a raw socket to 127.0.0.1:port, retried while the server comes up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            if data:
                return data.decode(errors="replace").split("\r\n\r\n", 1)[-1]
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing answered on 127.0.0.1:{port}")
        time.sleep(0.1)


def listening(port: int) -> bool:
    """A TCP socket listens on `port` (any address), per /proc/net/tcp and tcp6."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def proxy_pids(stack: Stack) -> list[int]:
    return [pid for pid in processes_mentioning(str(stack.roots.run)) if _is_proxy(pid)]


def _is_proxy(pid: int) -> bool:
    try:
        return b"network/proxy.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def publishers(stack: Stack, service: str) -> list[dict[str, object]]:
    return stack.by_service()[service]["Publishers"]  # type: ignore[return-value]


def test_tcp_published_port_reaches_the_container_and_is_reported(stack: Stack) -> None:
    host = free_port()
    stack.write(web(f"{host}:80", extra='\n        expose: ["7000"]'))
    stack.run("up", "-d")
    assert fetch(host, "/index.html").strip() == "hello"
    assert stack.run("port", "web", "80").stdout.strip() == f"0.0.0.0:{host}"
    row = stack.by_service()["web"]
    assert row["Publishers"] == [
        {"URL": "0.0.0.0", "TargetPort": 80, "PublishedPort": host, "Protocol": "tcp"},
        {"URL": "", "TargetPort": 7000, "PublishedPort": 0, "Protocol": "tcp"},
    ]
    assert row["Ports"] == f"7000/tcp, 0.0.0.0:{host}->80/tcp"
    assert f"7000/tcp, 0.0.0.0:{host}->80/tcp" in stack.run("ps").stdout
    missing = stack.run("port", "web", "80", "--protocol", "udp", check=False)
    assert missing.returncode == 1 and 'no port 80/udp is published for service "web"' in missing.stderr
    # Reachable at the host's own (non-loopback) addresses too: 0.0.0.0 covers them.
    own = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    address = next((a for a in own if "." in a), None)
    if address is not None:
        with socket.create_connection((address, host), timeout=5) as sock:
            sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            assert b"hello" in sock.makefile("rb").read()


def test_range_and_ephemeral_ports(stack: Stack) -> None:
    first = free_port()
    while first + 2 > 65535 or any(listening(p) for p in (first + 1, first + 2)):
        first = free_port()
    servers = "; ".join(f"httpd -p {9000 + i} -h /tmp" for i in range(3))
    stack.write(f"""
    services:
      web:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; echo range > /tmp/index.html; {servers}; sleep 3600 & wait"]
        ports: ["{first}-{first + 2}:9000-9002", "127.0.0.1::9001"]
    """)
    stack.run("up", "-d")
    for offset in range(3):
        assert fetch(first + offset, "/index.html").strip() == "range"
    ephemeral = next(p for p in publishers(stack, "web") if p["URL"] == "127.0.0.1")
    port = int(str(ephemeral["PublishedPort"]))
    assert port not in (0, first, first + 1, first + 2) and ephemeral["TargetPort"] == 9001
    assert fetch(port, "/index.html").strip() == "range"
    printed = stack.run("port", "web", "9001").stdout.strip()
    assert printed == f"0.0.0.0:{first + 1}"  # the first binding of that port, as Compose
    assert stack.by_service()["web"]["Ports"] == (
        f"0.0.0.0:{first}->9000/tcp, 0.0.0.0:{first + 1}->9001/tcp, "
        f"127.0.0.1:{port}->9001/tcp, 0.0.0.0:{first + 2}->9002/tcp")


@contextmanager
def udp_echo_in(netns: Path, port: int) -> Iterator[None]:
    """A UDP echo server inside the container's network namespace (busybox has none)."""
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"s.bind(('0.0.0.0', {port}))\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    data, peer = s.recvfrom(65536)\n"
        "    s.sendto(b'echo:' + data, peer)\n"
    )
    server = subprocess.Popen(["nsenter", f"--net={netns}", sys.executable, "-c", code],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield
    finally:
        server.kill()
        server.wait()


def test_udp_published_port_keeps_one_flow_per_client(stack: Stack) -> None:
    host = free_port(socket.SOCK_DGRAM)
    stack.write(f"""
    services:
      dns:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        ports: ["127.0.0.1:{host}:5353/udp"]
    """)
    stack.run("up", "-d")
    cid = str(stack.by_service()["dns"]["ID"])
    with udp_echo_in(stack.roots.run / "netns" / cid, 5353):
        clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        try:
            for index, client in enumerate(clients):
                client.settimeout(5)
                client.sendto(f"ping{index}".encode(), ("127.0.0.1", host))
            for index, client in enumerate(clients):
                assert client.recvfrom(100)[0] == f"echo:ping{index}".encode()
        finally:
            for client in clients:
                client.close()
    assert stack.run("port", "dns", "5353", "--protocol", "udp").stdout.strip() == f"127.0.0.1:{host}"
    assert stack.by_service()["dns"]["Ports"] == f"127.0.0.1:{host}->5353/udp"


def test_a_taken_port_fails_clearly_and_leaves_nothing(stack: Stack) -> None:
    with socket.socket() as squatter:
        squatter.bind(("0.0.0.0", 0))
        squatter.listen()
        host = squatter.getsockname()[1]
        stack.write(web(f"{host}:80"))
        result = stack.run("up", "-d", check=False)
        assert result.returncode == 1
        assert f'service "web": Bind for 0.0.0.0:{host} failed: port is already allocated' in result.stderr
        assert "Traceback" not in result.stderr
        assert stack.ps() == []
        assert proxy_pids(stack) == []
        ports_dir = stack.roots.run / "network" / "ports"
        assert not ports_dir.exists() or not any(ports_dir.glob("*.json"))
        sandboxes = stack.roots.run / "network" / "sandboxes"
        assert not sandboxes.exists() or not any(sandboxes.iterdir())


def test_down_and_stop_free_the_port_and_a_killed_proxy_is_restarted_by_up(stack: Stack) -> None:
    host = free_port()
    stack.write(web(f"{host}:80", "80"))
    stack.run("up", "-d")
    assert fetch(host, "/index.html").strip() == "hello"
    ephemeral = next(p["PublishedPort"] for p in publishers(stack, "web") if p["PublishedPort"] != host)
    (pid,) = proxy_pids(stack)

    # An up with nothing to do leaves the proxy alone.
    assert "Running" in stack.run("up", "-d").stderr
    assert proxy_pids(stack) == [pid]

    # A proxy killed with SIGKILL: ps stops listing its bindings, the next up serves them again.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while listening(host) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listening(host)
    assert [p["PublishedPort"] for p in publishers(stack, "web")] == []
    stack.run("up", "-d")
    (restarted,) = proxy_pids(stack)
    assert restarted != pid
    assert fetch(host, "/index.html").strip() == "hello"
    assert sorted(p["PublishedPort"] for p in publishers(stack, "web")) == sorted([host, ephemeral])
    stack.run("up", "-d")
    assert proxy_pids(stack) == [restarted]

    # stop frees the host ports (as Docker), start serves them again.
    stack.run("stop", "-t", "1")
    assert not listening(host) and proxy_pids(stack) == []
    stack.run("start")
    assert fetch(host, "/index.html").strip() == "hello"

    stack.run("down", "-t", "1")
    assert not listening(host) and not listening(int(str(ephemeral)))
    assert proxy_pids(stack) == []
    assert not any((stack.roots.run / "network" / "ports").glob("*.json"))


def test_a_changed_mapping_recreates_the_container(stack: Stack) -> None:
    old, new = free_port(), free_port()
    while new == old:
        new = free_port()
    stack.write(web(f"{old}:80"))
    stack.run("up", "-d")
    first_id = stack.by_service()["web"]["ID"]
    stack.write(web(f"{new}:80"))
    assert "Recreated" in stack.run("up", "-d").stderr
    assert stack.by_service()["web"]["ID"] != first_id
    assert fetch(new, "/index.html").strip() == "hello"
    assert not listening(old)


@pytest.mark.parametrize("entry", ["70000:80", "8080:80/sctp"])
def test_bad_ports_are_refused_before_anything_is_made(stack: Stack, entry: str) -> None:
    stack.write(web(entry))
    result = stack.run("up", "-d", check=False)
    assert result.returncode == 1 and "stack.yaml:6:" in result.stderr and "services.web.ports[0]" in result.stderr
    assert stack.ps() == []


# --- the network layer alone: reservations and the proxy, against loopback servers ---------------

def test_reserve_binds_all_or_nothing_and_falls_back_within_a_range() -> None:
    from network import PortAllocatedError, PortRequest, reserve

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        free = free_port()
        with pytest.raises(PortAllocatedError, match=f"Bind for 127.0.0.1:{taken} failed: port is already allocated"):
            reserve([PortRequest(80, "tcp", "127.0.0.1", (free, free)), PortRequest(81, "tcp", "127.0.0.1", (taken, taken))])
        assert not listening(free)  # the first binding was let go again
        with reserve([PortRequest(80, "tcp", "127.0.0.1", (taken, taken + 1))]) as ranged:
            assert ranged.ports[0].host_port == taken + 1 or listening(taken + 1)
        with reserve([PortRequest(80, "tcp", "127.0.0.1")], prefer=[taken]) as fallback:
            assert fallback.ports[0].host_port not in (0, taken)  # an ephemeral port moves on
        with pytest.raises(PortAllocatedError, match="cannot assign requested address|Cannot assign"):
            reserve([PortRequest(80, "udp", "192.0.2.1", (free, free))])


@contextmanager
def loopback_proxy(tmp_path: Path, target_port: int) -> Iterator[tuple[object, int]]:
    from network import PortRequest, reserve
    from network.proxies import ProxyTable

    table = ProxyTable(tmp_path)
    with reserve([PortRequest(target_port, "tcp", "127.0.0.1")]) as reservation:
        record = table.start("box", "127.0.0.1", reservation)
    try:
        yield table, record.ports[0].host_port
    finally:
        table.remove("box")
        assert record.pid is not None and not Path(f"/proc/{record.pid}/cmdline").exists()


def test_proxy_relays_big_transfers_and_half_closes(tmp_path: Path) -> None:
    import hashlib
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:  # reads everything, then answers with its digest and 8 MB more
        conn, _ = server.accept()
        with conn:
            digest = hashlib.sha256()
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
            conn.sendall(digest.hexdigest().encode() + b"\n" + b"x" * (8 << 20))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    payload = os.urandom(16 << 20)
    with loopback_proxy(tmp_path, server.getsockname()[1]) as (_, port):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(payload)
            client.shutdown(socket.SHUT_WR)  # the server only answers after our EOF
            answer = b""
            while chunk := client.recv(1 << 16):
                answer += chunk
        head, _, tail = answer.partition(b"\n")
        assert head.decode() == hashlib.sha256(payload).hexdigest() and len(tail) == 8 << 20
        server.close()
        # Nothing listens at the target any more: the client's connection is closed, not hung.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            assert client.recv(10) == b""
    thread.join(5)


def test_a_proxy_spawned_but_not_yet_recorded_is_still_found(tmp_path: Path) -> None:
    from network.proxies import ProxyTable

    with loopback_proxy(tmp_path, free_port()) as (table, port):
        assert isinstance(table, ProxyTable)
        record = table.get("box")
        assert record is not None and table.alive(record)
        pid = record.pid
        record.pid, record.started, record.spawning = None, None, True  # as a `kill -9` mid-spawn leaves it
        table._save(record)
        table.remove("box")
        assert pid is not None and not Path(f"/proc/{pid}/cmdline").exists() and not listening(port)
