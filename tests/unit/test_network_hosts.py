"""/etc/hosts rendering and in-place writing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from network import InvalidNameError, render_hosts, write_hosts_file


def test_render_order_localhost_ipv6_then_entries() -> None:
    text = render_hosts("web", [("10.89.0.2", ["web", "web-1"]), ("10.89.0.3", ["db"])])
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert lines[1] == "::1\tlocalhost ip6-localhost ip6-loopback"
    assert lines[-2:] == ["10.89.0.2\tweb web-1", "10.89.0.3\tdb"]
    assert text.endswith("\n")
    assert "127.0.1.1" not in text  # the hostname already has an address


def test_hostname_without_entry_maps_to_127_0_1_1() -> None:
    assert render_hosts("lonely", []).splitlines()[-1] == "127.0.1.1\tlonely"


@pytest.mark.parametrize(
    "entry", [("10.0.0.300", ["x"]), ("10.0.0.2", ["a b"]), ("10.0.0.2", [""])]
)
def test_bad_entries_are_rejected(entry: tuple[str, list[str]]) -> None:
    with pytest.raises(InvalidNameError):
        render_hosts("web", [entry])


def test_write_keeps_the_inode_and_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_hosts_file(path, "web", [("10.89.0.2", ["web"]), ("10.89.0.3", ["db", "database"])])
    inode = os.stat(path).st_ino
    with open(path) as held:  # a reader that keeps the old file open, like a bind mount
        write_hosts_file(path, "web", [("10.89.0.2", ["web"])])
        assert os.fstat(held.fileno()).st_ino == inode
        held.seek(0)
        assert held.read() == render_hosts("web", [("10.89.0.2", ["web"])])
    assert os.stat(path).st_ino == inode
    assert path.read_text() == render_hosts("web", [("10.89.0.2", ["web"])])
