"""A container that exits on its own gives up its DNS names and its host ports, as in Docker,
and takes them back when it runs again (`start`, or its restart policy).

Names are asked of the embedded server from the host (an unknown sender gets the names of
the network whose gateway it asks); ports are probed with connections to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

from dnslib import RCODE, DNSRecord

from tests.integration.stackkit import Stack
from tests.integration.test_ports import free_port, listening

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
# Fails its first four runs at once, then sleeps: a restart policy restarts it after back-offs
# of 0.1, 0.2, 0.4 and 0.8 s (doubling), during which it does not run.
# ($$ is a literal $ in a stack file.)
FLAKY = ["sh", "-c", "[ -e /ok ] && { trap 'exit 0' TERM; sleep 3600 & wait; exit 0; }; "
         "n=$$(cat /n 2>/dev/null || echo 0); echo $$((n+1)) > /n; [ $$n -ge 3 ] && touch /ok; exit 1"]


def gateway(stack: Stack) -> str:
    zone = next((stack.roots.run / "network" / "dns" / "zones").glob("*.json"))
    return str(json.loads(zone.read_text())["gateway"])


def resolve(server: str, name: str) -> list[str] | None:
    """The A records of `name`; None for NXDOMAIN."""
    reply = DNSRecord.parse(DNSRecord.question(name).send(server, 53, timeout=5))
    if reply.header.rcode == RCODE.NXDOMAIN:
        return None
    return [str(rr.rdata) for rr in reply.rr]


def connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def soon(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def up_publishing(stack: Stack, command: list[str], extra: str = "") -> int:
    """`up -d` of one service `web` running `command`, its port 80 on a free 127.0.0.1 port."""
    port = free_port()
    stack.write(f"""
    services:
      web:
        image: busybox
        command: {json.dumps(command)}
        ports: ["127.0.0.1:{port}:80"]
        {extra}
    """)
    stack.run("up", "-d")
    return port


def status(stack: Stack, service: str) -> str:
    return str(stack.by_service()[service]["State"])


def test_an_exited_container_releases_its_names_and_port_until_started(stack: Stack) -> None:
    port = up_publishing(stack, SLEEPER)
    server = gateway(stack)
    assert resolve(server, "web")  # as soon as `up -d` returns
    assert listening(port) and connects(port)
    # what the network side follows: the monitor's pidfile of PID 1 ("PID START")
    pidfile = stack.roots.run / "containers" / str(stack.by_service()["web"]["ID"]) / "pid"
    pid, _start = pidfile.read_text().split()
    assert Path(f"/proc/{pid}").exists()

    stack.exec("web", "kill", "1", check=False)  # PID 1 exits on its own (no stop request)
    assert soon(lambda: status(stack, "web") == "exited")
    assert not pidfile.exists()
    assert soon(lambda: resolve(server, "web") is None, 1.0)
    assert resolve(server, f"{stack.project}-web-1") is None
    assert soon(lambda: not listening(port), 1.0)
    with socket.socket() as taker:  # free for anyone: bind it, then let it go again
        taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taker.bind(("127.0.0.1", port))

    stack.run("start", "web")
    assert resolve(server, "web")  # at once, as before its exit: a dependent started next finds it
    assert soon(lambda: listening(port), 1.0) and connects(port)


def test_a_port_taken_while_exited_fails_the_start_clearly(stack: Stack) -> None:
    port = up_publishing(stack, SLEEPER)
    stack.exec("web", "kill", "1", check=False)
    assert soon(lambda: status(stack, "web") == "exited") and soon(lambda: not listening(port), 1.0)
    with socket.socket() as taker:
        taker.bind(("127.0.0.1", port))
        taker.listen()
        result = stack.run("start", "web", check=False)
    assert result.returncode != 0
    assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in result.stderr
    assert status(stack, "web") == "exited"


def test_restarts_by_the_policy_take_names_and_port_back(stack: Stack) -> None:
    port = up_publishing(stack, FLAKY, "restart: on-failure")
    server = gateway(stack)
    state = stack.roots.run / "containers" / str(stack.by_service()["web"]["ID"]) / "state.json"
    gone = {"name": False, "port": False}

    def settled() -> bool:
        gone["name"] |= resolve(server, "web") is None
        gone["port"] |= not listening(port)
        restarts = json.loads(state.read_text()).get("restart_count")
        return gone["name"] and gone["port"] and restarts == 4

    assert soon(settled, 20.0), gone  # seen without names and port between runs, then restarted 4 times
    assert status(stack, "web") == "running"
    assert soon(lambda: bool(resolve(server, "web")), 1.0)
    assert soon(lambda: listening(port), 2.0) and connects(port)
