"""Network state files: persisted on save, one file per sandbox, serialized by flock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from network import StateError
from network.state import AttachmentRecord, NetworkRecord, SandboxRecord, StateStore


def _store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "data", tmp_path / "run")


def test_saved_records_survive_and_unsaved_ones_do_not(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(RuntimeError), store.transaction() as txn:
        txn.state.networks["p_net"] = NetworkRecord("p_net", "pc-x", "10.89.0.0/24", "10.89.0.1")
        txn.state.sandboxes["a"] = SandboxRecord("a", "/run/x/netns/a")
        txn.save("a")  # recorded before created
        txn.state.sandboxes["b"] = SandboxRecord("b", "/run/x/netns/b")
        raise RuntimeError("crash before b was saved")
    state = store.read()
    assert list(state.networks) == ["p_net"] and list(state.sandboxes) == ["a"]
    assert (tmp_path / "run" / "network" / "sandboxes" / "a.json").exists()

    with store.transaction() as txn:
        del txn.state.sandboxes["a"]
        txn.save("a")
    assert store.read().sandboxes == {}
    assert list((tmp_path / "run" / "network" / "sandboxes").iterdir()) == []


def test_addresses_in_use_come_from_attachments(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with store.transaction() as txn:
        box = SandboxRecord("a", "/n/a")
        box.attachments.append(
            AttachmentRecord(
                "p_net", "eth0", "vp-1", "10.89.0.2", 24, "10.89.0.1", "02:00:00:00:00:01"
            )
        )
        txn.state.sandboxes["a"] = box
        txn.save("a")
    state = store.read()
    assert state.addresses_in_use("p_net") == {"10.89.0.2"}
    assert state.addresses_in_use("p_other") == set()
    assert state.sandboxes_on("p_net") == ["a"]


def test_concurrent_transactions_from_threads_lose_no_update(tmp_path: Path) -> None:
    store = _store(tmp_path)

    def add(i: int) -> None:
        with store.transaction() as txn:
            n = len(txn.state.networks)
            txn.state.networks[f"n{n}"] = NetworkRecord(f"n{n}", f"pc-{n}", f"10.89.{n}.0/24", "x")

    threads = [threading.Thread(target=add, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.read().networks) == 16


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data" / "network" / "networks.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(StateError, match="cannot read network state"):
        _store(tmp_path).read()


def test_cached_sandbox_files_follow_every_change_by_any_store(tmp_path: Path) -> None:
    import os
    import time

    reader, writer = _store(tmp_path), _store(tmp_path)
    leg = AttachmentRecord("n", "eth0", "vp-x", "10.0.0.2", 24, "10.0.0.1", "02:00:00:00:00:01")
    with writer.transaction() as txn:
        txn.state.sandboxes["a"] = SandboxRecord("a", "/x/a", [leg])
        txn.save("a")
    path = tmp_path / "run" / "network" / "sandboxes" / "a.json"
    old = time.time_ns() - 10**9
    os.utime(path, ns=(old, old))  # old enough to be cached
    assert reader.read().sandboxes["a"].attachments[0].address == "10.0.0.2"
    assert "a.json" in reader._parsed
    # A transaction that mutates its records and fails leaves the cache as it was.
    with pytest.raises(RuntimeError), reader.transaction() as txn:
        txn.state.sandboxes["a"].attachments.clear()
        raise RuntimeError
    assert len(reader.read().sandboxes["a"].attachments) == 1
    # Another store rewrites it (same size: only the address changes): a fresh file is re-read.
    with writer.transaction() as txn:
        txn.state.sandboxes["a"].attachments[0].address = "10.0.0.3"
        txn.save("a")
    assert reader.read().sandboxes["a"].attachments[0].address == "10.0.0.3"
    assert "a.json" not in reader._parsed  # too young to trust its timestamp
    with writer.transaction() as txn:
        del txn.state.sandboxes["a"]
        txn.save("a")
    assert reader.read().sandboxes == {} and reader._parsed == {}
