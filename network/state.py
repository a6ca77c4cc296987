"""Persistent network state: plain JSON files, written atomically, guarded by flock.

Two files, split by lifetime:
  data_root/network/networks.json  networks and their subnets (kept across reboots, so a
                                   network keeps its subnet when its bridge is re-created)
  run_root/network/sandboxes.json  sandboxes and their attachments (gone with the
                                   namespaces at reboot). An address is leased exactly
                                   while an attachment records it: there is no second
                                   table to drift out of sync.

Every read-modify-write holds an exclusive flock on data_root/network/state.lock. Each
transaction opens the lock file anew, so the lock excludes other threads of this process
as well as other processes. Writes go to a temp file then `os.replace`, so a reader or a
`kill -9` never sees half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from network.errors import StateError


@dataclass
class NetworkRecord:
    name: str
    bridge: str
    subnet: str
    gateway: str
    labels: dict[str, str] = field(default_factory=dict)
    internal: bool = False


@dataclass
class AttachmentRecord:
    network: str
    interface: str
    host_interface: str
    address: str
    prefixlen: int
    gateway: str
    mac: str
    default_route: bool = False


@dataclass
class SandboxRecord:
    id: str
    netns_path: str
    attachments: list[AttachmentRecord] = field(default_factory=list)

    def attachment(self, network: str) -> AttachmentRecord | None:
        return next((a for a in self.attachments if a.network == network), None)


@dataclass
class State:
    networks: dict[str, NetworkRecord] = field(default_factory=dict)
    sandboxes: dict[str, SandboxRecord] = field(default_factory=dict)

    def addresses_in_use(self, network: str) -> set[str]:
        return {
            a.address
            for s in self.sandboxes.values()
            for a in s.attachments
            if a.network == network
        }

    def sandboxes_on(self, network: str) -> list[str]:
        return sorted(s.id for s in self.sandboxes.values() if s.attachment(network))


@contextmanager
def flocked(path: Path, shared: bool = False) -> Iterator[None]:
    """Hold an flock on `path` (created if missing) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _load(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateError(
            f"cannot read network state {path}: {exc}",
            hint="move the file aside to start over; the bridges it names may need removing",
        ) from exc
    if not isinstance(data, dict):
        raise StateError(f"network state {path} is not a JSON object")
    return data


def _store(path: Path, data: dict[str, Any], durable: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StateError(f"cannot write network state {path}: {exc.strerror}") from exc


class StateStore:
    """Loads and saves `State`; `transaction()` is the only way to change it."""

    def __init__(self, data_root: Path, run_root: Path) -> None:
        self._networks = data_root / "network" / "networks.json"
        self._sandboxes = run_root / "network" / "sandboxes.json"
        self.lock_path = data_root / "network" / "state.lock"

    def _read_unlocked(self) -> State:
        try:
            nets = _load(self._networks).get("networks", {})
            boxes = _load(self._sandboxes).get("sandboxes", {})
            return State(
                networks={k: NetworkRecord(**v) for k, v in nets.items()},
                sandboxes={
                    k: SandboxRecord(
                        id=v["id"],
                        netns_path=v["netns_path"],
                        attachments=[AttachmentRecord(**a) for a in v.get("attachments", [])],
                    )
                    for k, v in boxes.items()
                },
            )
        except (TypeError, KeyError) as exc:
            raise StateError(
                f"network state under {self._networks.parent} is malformed: {exc}"
            ) from exc

    def read(self) -> State:
        """A consistent snapshot (shared lock)."""
        with flocked(self.lock_path, shared=True):
            return self._read_unlocked()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the exclusive lock for the block; save what changed if the block succeeds.

        `txn.save()` writes mid-way (record before create); on an exception only what
        was explicitly saved is kept.
        """
        with flocked(self.lock_path):
            txn = Transaction(self, self._read_unlocked())
            yield txn
            txn.save()

    def _save(self, state: State, before: tuple[str, str]) -> tuple[str, str]:
        nets, boxes = self._serialize(state)
        after = (json.dumps(nets, sort_keys=True), json.dumps(boxes, sort_keys=True))
        if after[0] != before[0]:
            self._networks.parent.mkdir(parents=True, exist_ok=True)
            _store(self._networks, nets, durable=True)
        if after[1] != before[1]:
            self._sandboxes.parent.mkdir(parents=True, exist_ok=True)
            _store(self._sandboxes, boxes, durable=False)
        return after

    @staticmethod
    def _serialize(state: State) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            {"networks": {k: asdict(v) for k, v in state.networks.items()}},
            {"sandboxes": {k: asdict(v) for k, v in state.sandboxes.items()}},
        )


class Transaction:
    """The state as read under the lock, and a way to persist it before touching the kernel."""

    def __init__(self, store: StateStore, state: State) -> None:
        self.state = state
        self._store = store
        nets, boxes = store._serialize(state)
        self._saved = (json.dumps(nets, sort_keys=True), json.dumps(boxes, sort_keys=True))

    def save(self) -> None:
        self._saved = self._store._save(self.state, self._saved)
