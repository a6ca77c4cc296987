"""extra_hosts, dns, dns_search and dns_opt: short and long syntax, merging, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project, project_to_dict
from composer.spec.normalize import parse_extra_host


def load(tmp_path: Path, *texts: str):  # type: ignore[no-untyped-def]
    files = []
    for index, text in enumerate(texts):
        files.append(tmp_path / f"s{index}.yaml")
        files[-1].write_text(text)
    return load_project(files, env={})


def test_list_and_map_forms(tmp_path: Path) -> None:
    project = load(tmp_path, """
services:
  a:
    image: x
    extra_hosts: ["db:10.0.0.2", "db=10.0.0.3", "v6:[::1]", "v6b=::2", "gw:host-gateway"]
    dns: 10.0.0.53
    dns_search: example.org
    dns_opt: [ndots:2]
  b:
    image: x
    extra_hosts: {one: 1.2.3.4, many: [1.1.1.1, 2.2.2.2]}
    dns: [10.0.0.53, 10.0.0.54]
""")
    a, b = project.services["a"], project.services["b"]
    assert a.extra_hosts == {"db": ("10.0.0.2", "10.0.0.3"), "v6": ("::1",), "v6b": ("::2",), "gw": ("host-gateway",)}
    assert (a.dns, a.dns_search, a.dns_opt) == (("10.0.0.53",), ("example.org",), ("ndots:2",))
    assert b.extra_hosts == {"one": ("1.2.3.4",), "many": ("1.1.1.1", "2.2.2.2")}
    assert b.dns == ("10.0.0.53", "10.0.0.54")
    assert project.warnings == ()
    assert project_to_dict(project)["services"]["a"]["extra_hosts"][0] == "db=10.0.0.2"


def test_override_files_merge_extra_hosts_by_host_and_append_dns(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        "services:\n  a:\n    image: x\n    extra_hosts: [db:10.0.0.2, web:10.0.0.9]\n    dns: 10.0.0.53\n",
        "services:\n  a:\n    extra_hosts: {db: 10.0.0.7}\n    dns: 10.0.0.54\n",
    )
    a = project.services["a"]
    assert a.extra_hosts == {"db": ("10.0.0.7",), "web": ("10.0.0.9",)}
    assert a.dns == ("10.0.0.53", "10.0.0.54")


@pytest.mark.parametrize(("body", "message"), [
    ('extra_hosts: ["db"]', "s0.yaml:4:19: services.a.extra_hosts[0]: invalid extra host 'db'"),
    ('extra_hosts: ["db:not-an-ip"]', 'invalid IP address "not-an-ip"'),
    ("dns: [nope]", 'services.a.dns: invalid IP address "nope"'),
])
def test_bad_values_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, f"services:\n  a:\n    image: x\n    {body}\n")
    assert message in str(caught.value).replace(f"{tmp_path}/", "")


def test_parse_extra_host() -> None:
    assert parse_extra_host("h:1.2.3.4") == ("h", "1.2.3.4")
    assert parse_extra_host("h=1.2.3.4") == ("h", "1.2.3.4")
    assert parse_extra_host("h:::1") == ("h", "::1")
    assert parse_extra_host("h=[fd00::1]") == ("h", "fd00::1")
    assert parse_extra_host(42) == ("", "")
