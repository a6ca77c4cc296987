"""Image and ImageConfig, and their OCI image-config JSON (whose sha256 is the image id)."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

from runtime.config import Healthcheck
from runtime.errors import ImageError

# platform.machine() -> GOARCH, the names the OCI "architecture" field uses.
_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


@dataclass(frozen=True)
class ImageConfig:
    """The part of the OCI image config a container's process is built from."""

    env: tuple[str, ...] = ()  # "KEY=value"
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()  # "80/tcp"
    healthcheck: Healthcheck | None = None  # test ("NONE",): the image's check is disabled


@dataclass(frozen=True)
class Image:
    id: str  # "sha256:<hex>" of the canonical image config JSON
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]  # diff ids of the uncompressed layer tars, lowest first
    config: ImageConfig
    created: str  # RFC 3339
    size: int  # bytes on disk of its layers


def config_json(config: ImageConfig, diff_ids: tuple[str, ...], created: str) -> bytes:
    """Canonical OCI image config: sorted keys, no whitespace, so equal content hashes equal."""
    for entry in config.env:
        if "=" not in entry or entry.startswith("="):
            raise ImageError(
                f"invalid environment entry {entry!r} in the image config: expected KEY=value"
            )
    process: dict[str, Any] = {}
    if config.env:
        process["Env"] = list(config.env)
    if config.cmd is not None:
        process["Cmd"] = list(config.cmd)
    if config.entrypoint is not None:
        process["Entrypoint"] = list(config.entrypoint)
    if config.working_dir:
        process["WorkingDir"] = config.working_dir
    if config.user:
        process["User"] = config.user
    if config.exposed_ports:
        process["ExposedPorts"] = {port: {} for port in config.exposed_ports}
    if config.healthcheck is not None:
        process["Healthcheck"] = healthcheck_json(config.healthcheck)
    document = {
        "architecture": _ARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": created,
        "config": process,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{"created": created, "created_by": "pycompose image import"}],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def parse_config(raw: bytes, image_id: str) -> tuple[ImageConfig, tuple[str, ...], str]:
    """(config, diff ids, created) from stored image-config JSON."""
    try:
        document = json.loads(raw)
        process = document.get("config") or {}
        config = ImageConfig(
            env=tuple(process.get("Env") or ()),
            cmd=None if process.get("Cmd") is None else tuple(process["Cmd"]),
            entrypoint=None if process.get("Entrypoint") is None else tuple(process["Entrypoint"]),
            working_dir=process.get("WorkingDir", ""),
            user=process.get("User", ""),
            exposed_ports=tuple(sorted(process.get("ExposedPorts") or {})),
            healthcheck=parse_healthcheck(process.get("Healthcheck")),
        )
        return config, tuple(document["rootfs"]["diff_ids"]), str(document.get("created", ""))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ImageError(
            f"the config of image {image_id} is corrupt ({e}); remove and re-import it"
        ) from e


_NS = 1_000_000_000
_DURATIONS = (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period"),
              ("StartInterval", "start_interval"))


def healthcheck_json(check: Healthcheck) -> dict[str, Any]:
    """Docker's HealthConfig JSON: durations in nanoseconds, zero (left out) for the default."""
    out: dict[str, Any] = {"Test": list(check.test)}
    for key, attr in _DURATIONS:
        if getattr(check, attr):
            out[key] = round(getattr(check, attr) * _NS)
    if check.retries:
        out["Retries"] = check.retries
    return out


def parse_healthcheck(raw: Any) -> Healthcheck | None:
    """An image config's Healthcheck; None when it has none, or one with an empty Test
    (Docker: "inherit", which an image has nothing to inherit from)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TypeError(f"Healthcheck must be an object, not {raw!r}")
    test = tuple(raw.get("Test") or ())
    if not test:
        return None
    if test[0] not in ("NONE", "CMD", "CMD-SHELL") or not all(isinstance(t, str) for t in test):
        raise ValueError(f"Healthcheck.Test must start with NONE, CMD or CMD-SHELL, not {list(test)!r}")
    durations = {attr: (int(raw.get(key) or 0) / _NS) or None for key, attr in _DURATIONS}
    return Healthcheck(test=test, retries=int(raw.get("Retries") or 0) or None, **durations)
