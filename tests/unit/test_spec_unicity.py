"""Unique service lists across (and within) stack files, with compose-go's keys."""

from __future__ import annotations

from pathlib import Path

from composer.models import Service
from composer.spec import load_project
from composer.spec.source import PosList
from composer.spec.unicity import UNIQUE, unique_entries


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def merged(tmp_path: Path, base: str, override: str) -> Service:
    files = [write(tmp_path, "base.yaml", "services:\n  web:\n    image: a\n" + base),
             write(tmp_path, "override.yaml", "services:\n  web:\n" + override)]
    return load_project(files, env={}, consistency=False).services["web"]


def ports(service: Service) -> list[tuple[str | None, str | None, int, str]]:
    return [(p.host_ip, p.published, p.target, p.protocol) for p in service.ports]


def test_ports_merge_by_host_ip_published_target_and_protocol(tmp_path: Path) -> None:
    web = merged(tmp_path,
                 '    ports: ["8080:80", "127.0.0.1:9000:90", "53:53/udp", {target: 70, published: "7000", name: old}]\n',
                 '    ports: ["8080:80/udp", "127.0.0.1:9000:90", "53:53/udp", "0.0.0.0:7000:70"]\n')
    assert ports(web) == [
        (None, "8080", 80, "tcp"), ("127.0.0.1", "9000", 90, "tcp"), (None, "53", 53, "udp"),
        ("0.0.0.0", "7000", 70, "tcp"),  # replaced in its place, whole: host_ip 0.0.0.0 is the default key
        (None, "8080", 80, "udp"),  # another protocol: another port
    ]
    assert web.ports[3].name is None


def test_a_port_range_is_expanded_before_merging(tmp_path: Path) -> None:
    web = merged(tmp_path, '    ports: ["8000-8002:80-82"]\n', '    ports: [{target: 81, published: "9001"}, "8002:82"]\n')
    assert ports(web) == [(None, "8000", 80, "tcp"), (None, "8001", 81, "tcp"), (None, "8002", 82, "tcp"),
                          (None, "9001", 81, "tcp")]


def test_an_unpublished_port_is_one_key(tmp_path: Path) -> None:
    web = merged(tmp_path, '    ports: ["80"]\n', '    ports: [{target: 80, app_protocol: http}]\n')
    assert [(p.target, p.published, p.app_protocol) for p in web.ports] == [(80, None, "http")]


def test_duplicates_within_one_file_collapse_too(tmp_path: Path) -> None:
    stack = write(tmp_path, "stack.yaml", "services:\n  web:\n    image: a\n"
                  '    ports: ["8080:80", "8443:443", "8080:80"]\n'
                  "    dns_opt: [ndots:1, timeout=1, timeout=2]\n    expose: [80, '80']\n")
    web = load_project([stack], env={}).services["web"]
    assert ports(web) == [(None, "8080", 80, "tcp"), (None, "8443", 443, "tcp")]
    assert web.dns_opt == ("ndots:1", "timeout=2")
    assert web.expose == ("80",)


def test_volumes_secrets_and_configs_are_replaced_whole_by_target(tmp_path: Path) -> None:
    web = merged(tmp_path,
                 "    volumes: ['./a:/data:ro', 'cache:/cache']\n    secrets: [s, {source: t, target: /run/secrets/u}]\n"
                 "    configs: [c]\n",
                 "    volumes: ['./b:/data']\n    secrets: [{source: t2, target: /run/secrets/s}, u]\n"
                 "    configs: [{source: c2, target: /c}]\n")
    assert [(v.source, v.target, v.read_only) for v in web.volumes] == [
        (str(tmp_path / "b"), "/data", False), ("cache", "/cache", False)]
    assert [(s.source, s.target) for s in web.secrets] == [("t2", "/run/secrets/s"), ("u", None)]
    assert [(c.source, c.target) for c in web.configs] == [("c2", "/c")]


def test_devices_by_target_and_env_files_by_path(tmp_path: Path) -> None:
    for name in ("a.env", "b.env"):
        write(tmp_path, name, f"{name[0].upper()}=1\n")
    web = merged(tmp_path, "    devices: ['/dev/a:/dev/x']\n    env_file: [a.env]\n",
                 "    devices: ['/dev/b:/dev/x:r']\n    env_file: [{path: a.env, required: false}, b.env]\n")
    assert [(d.source, d.target, d.permissions) for d in web.devices] == [("/dev/b", "/dev/x", "r")]
    assert web.environment == {"A": "1", "B": "1"}


def test_identical_entries_are_not_appended_twice(tmp_path: Path) -> None:
    web = merged(tmp_path, "    networks: {n: {aliases: [x]}}\n    extra_hosts: [h:1.2.3.4]\n",
                 "    networks: {n: {aliases: [x, y]}}\n    extra_hosts: [h:1.2.3.4]\n")
    assert web.networks["n"] is not None and web.networks["n"].aliases == ("x", "y")


def test_unique_entries_keeps_the_input_and_positions() -> None:
    entries = PosList(["a=1", "b=1", "a=2", 3])
    entries.item_pos = [None, None, None, None]
    out = unique_entries(entries, UNIQUE["dns_opt"])
    assert out == ["a=2", "b=1", 3] and len(out.item_pos) == 3
    assert entries == ["a=1", "b=1", "a=2", 3]
    same = PosList(["a", "b"])
    assert unique_entries(same, UNIQUE["dns_opt"]) is same


def test_a_third_file_can_restore_what_the_second_replaced(tmp_path: Path) -> None:
    """compose-go enforces unicity after each file: f3 equal to f1 still wins over f2."""
    files = [write(tmp_path, "f1.yaml", "services:\n  web:\n    image: a\n    volumes: ['./a:/data']\n"
                   "    ports: ['8080:80']\n"),
             write(tmp_path, "f2.yaml", "services:\n  web:\n    volumes: ['./b:/data']\n"
                   "    ports: [{target: 80, published: '8080', app_protocol: http}]\n"),
             write(tmp_path, "f3.yaml", "services:\n  web:\n    volumes: ['./a:/data']\n    ports: ['8080:80']\n")]
    web = load_project(files, env={}, consistency=False).services["web"]
    assert [v.source for v in web.volumes] == [str(tmp_path / "a")]
    assert [(p.published, p.target, p.app_protocol) for p in web.ports] == [("8080", 80, None)]
