"""Image archives as `docker save` writes them, or OCI image layouts in a tar: read one
image's config, layers and names (for `image load`).

`docker save` (up to Docker 24, and still alongside the OCI files since 25): `manifest.json`
is a list of {"Config": path, "RepoTags": [...], "Layers": [paths]}. An OCI layout has
`index.json` → manifest blob → config and layer blobs under `blobs/sha256/`, names in the
`org.opencontainers.image.ref.name` annotation (or containerd's `io.containerd.image.name`).
Layers may be gzip-compressed; their diff ids come from the uncompressed bytes and must
match the config's `rootfs.diff_ids`, as `docker load` checks.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tarfile
from dataclasses import dataclass
from typing import IO, Any

from runtime.errors import ImageError

_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


@dataclass(frozen=True)
class ArchivedImage:
    """One image of an archive, its files extracted to a scratch directory."""

    config: bytes  # the image config JSON, verbatim (its sha256 is the image id)
    layers: tuple[str, ...]  # paths of the layer tars, lowest first
    tags: tuple[str, ...]


def read_archive(path: str, scratch: str) -> list[ArchivedImage]:
    """The images in the archive at `path`; their files are extracted under `scratch`."""
    try:
        with tarfile.open(path) as archive:
            names = set(archive.getnames())
            if "manifest.json" in names:
                entries = _docker_manifest(archive)
            elif "index.json" in names:
                entries = _oci_layout(archive)
            else:
                raise ImageError(f"{path} is not an image archive: it has neither manifest.json (docker save) "
                                 "nor index.json (OCI layout); for a root filesystem use `image import`")
            return [_extract(archive, config, layers, tags, scratch) for config, layers, tags in entries]
    except tarfile.ReadError as e:
        raise ImageError(f"cannot read image archive {path}: not a tar archive (plain, gzip, bzip2 or xz)") from e
    except (tarfile.TarError, OSError) as e:
        raise ImageError(f"cannot read image archive {path}: {e}") from e
    except (AttributeError, TypeError) as e:  # a JSON document of the wrong shape
        raise ImageError(f"image archive {path} is malformed: {e}") from e


def _open(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    name = posixpath.normpath(name)
    try:
        member = archive.extractfile(name)
    except KeyError:
        member = None
    except RecursionError as e:  # symlink members pointing at each other
        raise ImageError(f"the archive's {name} is a loop of symbolic links") from e
    if member is None:
        raise ImageError(f"the archive lacks {name}, which its manifest names")
    return member


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    with _open(archive, name) as member:
        return member.read()


def _json(archive: tarfile.TarFile, name: str) -> Any:
    try:
        return json.loads(_member(archive, name))
    except ValueError as e:
        raise ImageError(f"{name} in the archive is not valid JSON: {e}") from None


def _docker_manifest(archive: tarfile.TarFile) -> list[tuple[str, list[str], list[str]]]:
    manifest = _json(archive, "manifest.json")
    if not isinstance(manifest, list) or not all(isinstance(m, dict) for m in manifest):
        raise ImageError("manifest.json in the archive is not a list of images")
    try:
        return [(str(m["Config"]), [str(layer) for layer in m["Layers"]], [str(t) for t in m.get("RepoTags") or ()])
                for m in manifest]
    except (KeyError, TypeError) as e:
        raise ImageError(f"manifest.json in the archive lacks {e}") from None


def _blob(digest: Any) -> str:
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        raise ImageError(f"unsupported blob digest {digest!r} in the OCI layout")
    return f"blobs/sha256/{digest.removeprefix('sha256:')}"


def _oci_layout(archive: tarfile.TarFile) -> list[tuple[str, list[str], list[str]]]:
    out = []
    pending = [(d, None) for d in _json(archive, "index.json").get("manifests") or ()]
    expanded: set[str] = set()  # indexes: one that lists itself (or a cycle) would never end
    while pending:
        descriptor, name = pending.pop(0)
        annotations = descriptor.get("annotations") or {}
        name = (annotations.get("io.containerd.image.name") or annotations.get("org.opencontainers.image.ref.name")
                or name)
        document = _json(archive, _blob(descriptor.get("digest")))
        if descriptor.get("mediaType") in _INDEX_TYPES or "manifests" in document:
            if descriptor.get("digest") in expanded:
                raise ImageError(f"the OCI layout's index {descriptor.get('digest')} refers back to itself")
            expanded.add(descriptor.get("digest"))
            pending += [(d, name) for d in document.get("manifests") or () if _native(d)]
            continue
        layers = [_blob(layer.get("digest")) for layer in document.get("layers") or ()]
        tags = [name] if name and (":" in name or "/" in name) else []  # not a bare ref.name like "latest"
        out.append((_blob((document.get("config") or {}).get("digest")), layers, tags))
    return out


def _native(descriptor: dict[str, Any]) -> bool:
    """A multi-platform index entry this host can run (or one without a platform)."""
    platform = descriptor.get("platform")
    if not platform:
        return True
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    return bool(platform.get("os") == "linux" and platform.get("architecture") == machine)


def _extract(archive: tarfile.TarFile, config: str, layers: list[str], tags: list[str],
             scratch: str) -> ArchivedImage:
    paths = []
    for layer in layers:
        target = os.path.join(scratch, f"layer-{len(os.listdir(scratch))}.tar")
        with _open(archive, layer) as member, open(target, "wb") as out:
            shutil.copyfileobj(member, out, 1 << 20)
        paths.append(target)
    return ArchivedImage(_member(archive, config), tuple(paths), tuple(tags))
