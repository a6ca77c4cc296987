"""`ps` ports: Compose's Publishers and Docker's DisplayablePorts text (pure)."""

from __future__ import annotations

from composer.ps import Publisher, json_row, ports_text, publishers, table_row
from network import PublishedPort, SandboxPorts
from tests.unit.test_ps import NOW, state


def pub(url: str, target: int, published: int, protocol: str = "tcp") -> Publisher:
    return {"URL": url, "TargetPort": target, "PublishedPort": published, "Protocol": protocol}


def test_displayable_ports_match_docker() -> None:
    assert ports_text([]) == ""
    assert ports_text([pub("0.0.0.0", 80, 8080)]) == "0.0.0.0:8080->80/tcp"
    assert ports_text([pub("", 80, 0), pub("", 81, 0), pub("", 82, 0, "udp")]) == "80-81/tcp, 82/udp"
    same = [pub("0.0.0.0", p, p) for p in (9000, 9001, 9002)] + [pub("0.0.0.0", 9004, 9004)]
    assert ports_text(same) == "0.0.0.0:9000-9002->9000-9002/tcp, 0.0.0.0:9004->9004/tcp"
    assert ports_text([pub("::1", 53, 5353, "udp"), pub("", 7000, 0), pub("127.0.0.1", 80, 8080)]) == (
        "7000/tcp, [::1]:5353->53/udp, 127.0.0.1:8080->80/tcp")


def test_publishers_list_bindings_while_served_and_exposed_ports() -> None:
    ports = SandboxPorts(
        ports=(PublishedPort("0.0.0.0", 8080, 80, "tcp"), PublishedPort("127.0.0.1", 40000, 53, "udp")),
        exposed=("80/tcp", "7000/tcp"), serving=True)
    assert publishers(state("running"), ports) == [
        pub("127.0.0.1", 53, 40000, "udp"), pub("0.0.0.0", 80, 8080), pub("", 7000, 0)]
    dead = SandboxPorts(ports.ports, ports.exposed, serving=False)
    assert publishers(state("running"), dead) == [pub("", 80, 0), pub("", 7000, 0)]
    assert publishers(state("exited", 0), ports) == []
    assert publishers(state("running"), None) == []


def test_rows_carry_the_ports() -> None:
    found = [pub("0.0.0.0", 80, 8080)]
    row = json_row(state("running"), ("httpd",), NOW, ("demo_default",), found)
    assert row["Publishers"] == found and row["Ports"] == "0.0.0.0:8080->80/tcp"
    assert table_row(state("running"), ("httpd",), NOW, found)[-1] == "0.0.0.0:8080->80/tcp"
    assert json_row(state("running"), ("httpd",), NOW)["Publishers"] == []
