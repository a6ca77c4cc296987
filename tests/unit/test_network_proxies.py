"""Port proxy records: what is kept survives a round trip; a recycled pid is not the proxy."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from network.ports import PortRequest, PublishedPort
from network.proxies import ProxyRecord, ProxyTable, _start_time


def test_record_round_trip(tmp_path: Path) -> None:
    record = ProxyRecord(
        "box", "10.89.0.2",
        requests=[PortRequest(80, "tcp", "", (8000, 8010)), PortRequest(53, "udp", "127.0.0.1")],
        ports=[PublishedPort("0.0.0.0", 8003, 80, "tcp"), PublishedPort("127.0.0.1", 41000, 53, "udp")],
        chosen=[8003, 41000], exposed=["7000/tcp"], pid=123, started=456)
    table = ProxyTable(tmp_path)
    table._save(record)
    assert table.get("box") == record
    assert ProxyRecord.from_json(asdict(record)) == record
    assert table.get("other") is None


def test_a_pid_counts_as_the_proxy_only_with_its_start_time(tmp_path: Path) -> None:
    table = ProxyTable(tmp_path)
    me = _start_time(os.getpid())
    assert me is not None
    assert table.alive(ProxyRecord("box", "10.89.0.2", pid=os.getpid(), started=me))
    assert not table.alive(ProxyRecord("box", "10.89.0.2", pid=os.getpid(), started=me - 1))  # recycled
    assert not table.alive(ProxyRecord("box", "10.89.0.2", pid=None))


def test_stop_and_remove_of_unknown_sandboxes_touch_nothing(tmp_path: Path) -> None:
    table = ProxyTable(tmp_path)
    table.stop("box")
    table.remove("box")
    assert not (tmp_path / "network").exists()
