"""`ports` and `expose`: every short form, the long form, and the errors (with positions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.hashing import config_hash
from composer.models import PortMapping, Service
from composer.spec import load_project, project_to_dict
from composer.spec.ports import expose_ports, parse_port


def ports(*entries: object) -> list[tuple[str | None, str | None, int, str]]:
    service = Service(image="x", ports=list(entries))
    return [(p.host_ip, p.published, p.target, p.protocol) for p in service.ports]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("8080:80", [(None, "8080", 80, "tcp")]),
        ("127.0.0.1:8080:80", [("127.0.0.1", "8080", 80, "tcp")]),
        ("8080:80/udp", [(None, "8080", 80, "udp")]),
        ("8080:80/UDP", [(None, "8080", 80, "udp")]),
        ("80", [(None, None, 80, "tcp")]),
        (80, [(None, None, 80, "tcp")]),
        ("127.0.0.1::80", [("127.0.0.1", None, 80, "tcp")]),
        ("0:80", [(None, None, 80, "tcp")]),
        ("[::1]:5353:53/udp", [("::1", "5353", 53, "udp")]),
        ("::1:5353:53", [("::1", "5353", 53, "tcp")]),
        (
            "9000-9002:9000-9002",
            [(None, "9000", 9000, "tcp"), (None, "9001", 9001, "tcp"), (None, "9002", 9002, "tcp")],
        ),
        ("3001-3002", [(None, None, 3001, "tcp"), (None, None, 3002, "tcp")]),
        ("127.0.0.1:5000-5001:6000-6001", [("127.0.0.1", "5000", 6000, "tcp"), ("127.0.0.1", "5001", 6001, "tcp")]),
        ("8000-8010:80", [(None, "8000-8010", 80, "tcp")]),
    ],
)
def test_short_syntax(entry: object, expected: list[tuple[str | None, str | None, int, str]]) -> None:
    assert ports(entry) == expected


def test_long_syntax_with_every_key() -> None:
    mapping = {"target": "80", "published": 8080, "host_ip": "127.0.0.1", "protocol": "udp",
               "mode": "host", "name": "web", "app_protocol": "http"}
    (port,) = Service(image="x", ports=[mapping]).ports
    assert port == PortMapping(target=80, published="8080", host_ip="127.0.0.1", protocol="udp",
                               mode="host", name="web", app_protocol="http")
    assert port.published_range == (8080, 8080)
    (ranged,) = Service(image="x", ports=[{"target": 80, "published": "8000-8002"}]).ports
    assert ranged.published_range == (8000, 8002) and ranged.protocol == "tcp" and ranged.mode == "ingress"
    assert Service(image="x", ports=[{"target": 80}]).ports[0].published is None


def test_exact_duplicates_collapse() -> None:
    assert ports("8080:80", {"target": 80, "published": "8080"}, "8080:80") == [(None, "8080", 80, "tcp")]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("abc", 'invalid container port "abc"'),
        ("8080:abc", 'invalid container port "abc"'),
        ("x:80", 'invalid host port "x"'),
        ("8080:0", 'invalid container port "0"'),
        ("8080:70000", 'invalid container port "70000"'),
        ("99999:80", 'invalid host port "99999"'),
        ("9000-8000:80", 'invalid host port "9000-8000"'),
        ("nope:8080:80", 'invalid host IP address "nope"'),
        ("8080:80/sctp", 'protocol "sctp" is not supported'),
        ("8080:80/icmp", 'invalid protocol "icmp"'),
        ("8080-8081:80-82", "invalid ranges for container and host ports: 80-82 and 8080-8081"),
        ("8080:", 'no container port in "8080:"'),
        (True, "expected a port string or a mapping, got a boolean"),
    ],
)
def test_short_syntax_errors(entry: object, message: str) -> None:
    from composer.spec.values import InvalidValue

    with pytest.raises(InvalidValue) as caught:
        parse_port(entry)
    assert caught.value.message == message


def write(tmp_path: Path, ports_yaml: str) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(f"services:\n  web:\n    image: x\n    ports:\n{ports_yaml}")
    return path


@pytest.mark.parametrize(
    ("ports_yaml", "where", "message"),
    [
        ('      - "8080:80"\n      - "8080:http"\n', ":6:9: services.web.ports[1]", 'invalid container port "http"'),
        ("      - target: 80\n        published: lots\n", ":6:20: services.web.ports[0].published",
         'invalid published port "lots"'),
        ("      - target: 0\n", ":5:17: services.web.ports[0].target", 'invalid target port 0'),
        ("      - published: 80\n", ":5:9: services.web.ports[0]", "missing required key `target`"),
        ("      - target: 80\n        protocol: sctp\n", ":6:19: services.web.ports[0].protocol",
         'protocol "sctp" is not supported'),
        ("      - target: 80\n        host_ip: localhost\n", ":6:18: services.web.ports[0].host_ip",
         'invalid host IP address "localhost"'),
        ("      - target: 80\n        mode: swarm\n", ":6:15: services.web.ports[0].mode", 'invalid value "swarm"'),
        ("      - target: 80\n        bogus: 1\n", ":6:9: services.web.ports[0].bogus", "unknown key"),
    ],
)
def test_errors_point_at_the_line(tmp_path: Path, ports_yaml: str, where: str, message: str) -> None:
    path = write(tmp_path, ports_yaml)
    with pytest.raises(SpecError) as caught:
        load_project([path], env={})
    text = str(caught.value)
    assert f"{path}{where}" in text and message in text


def test_expose_is_recorded_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: x\n    expose: [80, '81/udp', '8000-8001']\n")
    service = load_project([path], env={}).services["web"]
    assert service.expose == ("80", "81/udp", "8000-8001")
    assert [p for e in service.expose for p in expose_ports(e)] == [
        (80, "tcp"), (81, "udp"), (8000, "tcp"), (8001, "tcp")]
    path.write_text("services:\n  web:\n    image: x\n    expose: ['80/sctp']\n")
    with pytest.raises(SpecError, match=r"compose.yaml:4:14: services.web.expose\[0\]: protocol \"sctp\""):
        load_project([path], env={})


def test_config_output_is_compose_long_form(tmp_path: Path) -> None:
    path = write(tmp_path, '      - "127.0.0.1:8080:80/udp"\n      - 90\n')
    out = project_to_dict(load_project([path], env={}))["services"]["web"]["ports"]
    assert out == [
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "udp"},
        {"mode": "ingress", "target": 90, "protocol": "tcp"},
    ]
    assert list(out[0]) == ["mode", "host_ip", "target", "published", "protocol"]


def test_override_files_add_ports_without_duplicates(tmp_path: Path) -> None:
    base = write(tmp_path, '      - "8080:80"\n')
    override = tmp_path / "override.yaml"
    override.write_text("services:\n  web:\n    ports: ['8080:80', '9090:90']\n")
    project = load_project([base, override], env={})
    assert [(p.published, p.target) for p in project.services["web"].ports] == [("8080", 80), ("9090", 90)]


def test_a_changed_mapping_changes_the_config_hash() -> None:
    one = config_hash(Service(image="x", ports=["8080:80"]), "img")
    assert one == config_hash(Service(image="x", ports=[{"target": 80, "published": 8080}]), "img")
    assert one != config_hash(Service(image="x", ports=["8081:80"]), "img")
    assert one != config_hash(Service(image="x", ports=["8080:80/udp"]), "img")
    assert one != config_hash(Service(image="x", ports=["8080:80"], expose=["90"]), "img")
