"""Image and ImageConfig, and their OCI image-config JSON (whose sha256 is the image id)."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

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
        )
        return config, tuple(document["rootfs"]["diff_ids"]), str(document.get("created", ""))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ImageError(
            f"the config of image {image_id} is corrupt ({e}); remove and re-import it"
        ) from e
