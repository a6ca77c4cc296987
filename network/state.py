"""Persistent network state: plain JSON files, written atomically, guarded by flock.

Two files, split by lifetime:
  data_root/network/networks.json  networks and their subnets (kept across reboots, so a
                                   network keeps its subnet when its bridge is re-created)
  run_root/network/sandboxes/<id>.json
                                   one file per sandbox and its attachments (gone with
                                   the namespaces at reboot), so a save costs the same
                                   with 1 or 100 containers. An address is leased exactly
                                   while an attachment records it: there is no second
                                   table to drift out of sync.

Every read-modify-write holds an exclusive flock on data_root/network/state.lock. Each
transaction opens the lock file anew, so the lock excludes other threads of this process
as well as other processes. Writes go to a temp file that then takes the file's place
(`replace`), so a reader or a `kill -9` never sees half a file.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
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
    ip_range: str | None = None
    mtu: int = 0  # 0: the kernel's default (records older than MTU support)


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
    gw_priority: int = 0  # the default route is the non-internal attachment's with the highest


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
        replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StateError(f"cannot write network state {path}: {exc.strerror}") from exc


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None


def replace(tmp: Path, path: Path) -> None:
    """`os.replace(tmp, path)`, without ext4's write-back of a file renamed over another.

    ext4 (auto_da_alloc) starts writing a file's data out when it replaces an existing file
    by rename: measured ~2 ms a rename on this VM's ext4 /run, against ~0.1 ms for exchanging
    the two names (renameat2 RENAME_EXCHANGE), which is just as atomic for a reader (the old
    file or the new one) and is not flushed. The old content, now under `tmp`, is deleted.
    Without a file to exchange with, or on a filesystem without exchange: a plain rename.
    """
    global _renameat2
    if _renameat2 is None:
        import ctypes  # only once something is written: read-only commands never need it

        _renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", False)
    if _renameat2 and _renameat2(_AT_FDCWD, os.fsencode(tmp), _AT_FDCWD, os.fsencode(path), _RENAME_EXCHANGE) == 0:
        os.unlink(tmp)
        return
    os.replace(tmp, path)


# Other records of the package (network.proxies) are kept the same way.
load_json, store_json = _load, _store
_RACY_NS = 50_000_000  # 50 ms: well above the kernel's coarse timestamp tick


class StateStore:
    """Loads and saves `State`; `transaction()` is the only way to change it."""

    def __init__(self, data_root: Path, run_root: Path) -> None:
        self._networks = data_root / "network" / "networks.json"
        self._sandboxes = run_root / "network" / "sandboxes"
        self.lock_path = data_root / "network" / "state.lock"
        # file name -> ((inode, mtime, size), parsed JSON): every write replaces the file
        # (a new inode), so an unchanged stat means unchanged content and the parse is
        # skipped. Records are built afresh from it each time: transactions mutate them.
        # As git's "racy clean" rule: a file younger than a few timestamp ticks is not
        # cached, so a freed inode reused within one tick cannot pass for the old file.
        self._parsed: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}

    def _load_sandbox(self, fname: str) -> dict[str, Any] | None:
        path = self._sandboxes / fname
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._parsed.pop(fname, None)
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._parsed.get(fname)
        if cached is not None and cached[0] == key:
            return cached[1]
        raw = _load(path)
        if time.time_ns() - st.st_mtime_ns > _RACY_NS:
            self._parsed[fname] = (key, raw)
        else:
            self._parsed.pop(fname, None)
        return raw

    def _read_unlocked(self) -> State:
        state = State()
        try:
            for name, raw in _load(self._networks).get("networks", {}).items():
                state.networks[name] = NetworkRecord(**raw)
            names = sorted(os.listdir(self._sandboxes)) if self._sandboxes.is_dir() else []
            for fname in set(self._parsed) - set(names):
                del self._parsed[fname]
            for fname in names:
                if fname.endswith(".json") and not fname.startswith("."):
                    raw = self._load_sandbox(fname)
                    if raw is None:
                        continue
                    state.sandboxes[raw["id"]] = SandboxRecord(
                        id=raw["id"],
                        netns_path=raw["netns_path"],
                        attachments=[AttachmentRecord(**a) for a in raw.get("attachments", [])],
                    )
        except (TypeError, KeyError) as exc:
            raise StateError(f"network state is malformed: {exc}") from exc
        return state

    def read(self) -> State:
        """A consistent snapshot (shared lock)."""
        with flocked(self.lock_path, shared=True):
            return self._read_unlocked()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the exclusive lock for the block; networks are saved if the block succeeds.

        Sandboxes are saved by `txn.save(sandbox_id)`, which is also how the manager
        records before it creates; on an exception only what was saved is kept.
        """
        with flocked(self.lock_path):
            txn = Transaction(self, self._read_unlocked())
            yield txn
            txn.save()

    def _networks_json(self, state: State) -> dict[str, Any]:
        return {"networks": {k: asdict(v) for k, v in state.networks.items()}}

    def _save_networks(self, data: dict[str, Any]) -> None:
        self._networks.parent.mkdir(parents=True, exist_ok=True)
        _store(self._networks, data, durable=True)

    def _save_sandbox(self, state: State, sandbox_id: str) -> None:
        path = self._sandboxes / f"{sandbox_id}.json"
        rec = state.sandboxes.get(sandbox_id)
        if rec is None:
            path.unlink(missing_ok=True)
            return
        self._sandboxes.mkdir(parents=True, exist_ok=True)
        _store(path, asdict(rec), durable=False)


class Transaction:
    """The state as read under the lock, and a way to persist it before touching the kernel."""

    def __init__(self, store: StateStore, state: State) -> None:
        self.state = state
        self._store = store
        self._networks = store._networks_json(state)

    def save(self, *sandbox_ids: str) -> None:
        """Persist the networks if they changed, and the given sandboxes (or their removal)."""
        networks = self._store._networks_json(self.state)
        if networks != self._networks:
            self._store._save_networks(networks)
            self._networks = networks
        for sandbox_id in sandbox_ids:
            self._store._save_sandbox(self.state, sandbox_id)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, {} when missing (other network-side stores use this too)."""
    return _load(path)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically (not fsynced: run-root state that dies with the host)."""
    _store(path, data, durable=False)
