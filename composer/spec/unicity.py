"""Service lists whose entries are unique by a key: a later entry replaces an earlier one.

As compose-go's ``EnforceUnicity``, run on the merged stack (one file or many): an
entry whose key is already in the list takes the earlier entry's place, whole (it is
not merged into it); entries without a key (of a type the model then rejects) stay.
The keys are compose-go's: ports by host IP, published port, target and protocol;
volumes and devices by target; secrets and configs by target (default
``/run/secrets/<source>`` and ``/<source>``); expose by port; env_file by path;
``KEY=VALUE`` lists (dns_opt, ...) by the part before ``=``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from composer.spec.source import PosDict, PosList

Indexer = Callable[[Any], Hashable | None]


def _port(item: Any) -> Hashable | None:
    """``host_ip:published:target/protocol``; short entries are expanded before merging."""
    if isinstance(item, str | int):
        return str(item)  # not expanded: a `${VAR}` kept by --no-interpolate
    if not isinstance(item, dict) or "target" not in item:
        return None
    published = item.get("published")
    return (str(item.get("host_ip") or "0.0.0.0"), None if published is None else str(published),
            str(item["target"]), str(item.get("protocol") or "tcp"))


def _target(item: Any) -> Hashable | None:
    if isinstance(item, dict):
        target = item.get("target")
        return target if isinstance(target, str) else None
    return item if isinstance(item, str) else None  # not expanded: a `${VAR}` kept by --no-interpolate


def _device(item: Any) -> Hashable | None:
    if isinstance(item, str):
        parts = item.split(":")
        return parts[0] if len(parts) == 1 else parts[1]
    return _target(item)


def _mount(default_dir: str) -> Indexer:
    def key(item: Any) -> Hashable | None:
        if isinstance(item, str):
            return f"{default_dir}/{item}"
        if isinstance(item, dict):
            if "target" in item:
                return str(item["target"])
            return f"{default_dir}/{item.get('source')}"
        return None

    return key


def _expose(item: Any) -> Hashable | None:
    return str(item) if isinstance(item, str | int) and not isinstance(item, bool) else None


def _env_file(item: Any) -> Hashable | None:
    if isinstance(item, dict):
        path = item.get("path")
        return path if isinstance(path, str) else None
    return item if isinstance(item, str) else None


def _key_value(item: Any) -> Hashable | None:
    return item.partition("=")[0] if isinstance(item, str) else None


UNIQUE: dict[str, Indexer] = {
    "ports": _port,
    "volumes": _target,
    "devices": _device,
    "secrets": _mount("/run/secrets"),
    "configs": _mount(""),
    "expose": _expose,
    "env_file": _env_file,
    **dict.fromkeys(("cap_add", "cap_drop", "dns", "dns_opt", "dns_search", "links", "profiles", "tmpfs"),
                    _key_value),
}
_UNIQUE_KEYS = frozenset(UNIQUE)


def enforce_unicity(root: PosDict) -> None:
    """Replace each service whose unique lists have repeated keys by one without them."""
    services = root.get("services")
    if not isinstance(services, PosDict):
        return
    for name, service in services.items():
        if not isinstance(service, PosDict):
            continue
        changed: PosDict | None = None
        # Only the lists the service has (the order does not matter: each key is on its own).
        for key in _UNIQUE_KEYS.intersection(service):
            entries = service[key]
            if isinstance(entries, PosList) and len(entries) > 1:
                unique = unique_entries(entries, UNIQUE[key])
                if unique is not entries:
                    changed = changed if changed is not None else service.clone()
                    changed[key] = unique
        if changed is not None:
            services[name] = changed


def unique_entries(entries: PosList, indexer: Indexer) -> PosList:
    """*entries* with each repeated key's last entry in its first entry's place (*entries*
    itself when no key repeats; the input is never changed)."""
    keys = [key for key in map(indexer, entries) if key is not None]
    if len(set(keys)) == len(keys):
        return entries  # the common case: no key repeats
    slots: dict[Hashable, int] = {}
    out = PosList(pos=entries.pos)
    positions = list(entries.item_pos) + [None] * (len(entries) - len(entries.item_pos))
    for item, pos in zip(entries, positions, strict=True):
        key = indexer(item)
        if key is not None and key in slots:
            out[slots[key]] = item
            out.item_pos[slots[key]] = pos
            continue
        if key is not None:
            slots[key] = len(out)
        out.append(item)
        out.item_pos.append(pos)
    return entries if len(out) == len(entries) else out
