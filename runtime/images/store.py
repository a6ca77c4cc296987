"""The content-addressed image store (like `docker import`, without a registry).

    <data_root>/images/
      layers/sha256/<hex>/        extracted layer trees, shared by every image that has them
      layerdb/sha256/<hex>.json   {"size": bytes on disk} of each layer
      configs/sha256/<hex>.json   image configs (OCI); the image id is the sha256 of this file
      repositories.json           {"tags": {"name:tag": "sha256:<id>"}}
      tmp/                        extractions in progress (same filesystem, renamed into place)
      lock                        flock'ed by every change, so imports and removals never interleave

Commit points are renames: a crash leaves at worst unreferenced files that the next change
collects. Readers take no lock: every file they read is replaced atomically.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from runtime.errors import ImageError
from runtime.images import layers as layer_tar
from runtime.images.archive import ArchivedImage, read_archive
from runtime.images.model import Image, ImageConfig, config_json, parse_config
from runtime.images.reference import MIN_ID_PREFIX, id_prefix, normalize_reference


class ImageStore:
    def __init__(self, data_root: Path) -> None:
        self.root = Path(data_root) / "images"

    # ---- reading ----

    def get(self, reference: str) -> Image:
        image = self.find(reference)
        if image is None:
            shown = reference if id_prefix(reference) else normalize_reference(reference)
            raise ImageError(
                f'image "{shown}" not found; import it with `pycompose image import <tarball> {shown}` '
                "or see `pycompose image ls`"
            )
        return image

    def find(self, reference: str) -> Image | None:
        """By name[:tag] first, then by full id or unambiguous id prefix (≥ 4 hex digits)."""
        hex_prefix = id_prefix(reference)
        if hex_prefix is None or not reference.startswith("sha256:"):
            try:
                ref = normalize_reference(reference)
            except ImageError:
                if hex_prefix is None:
                    raise
            else:
                image_id = self._tags().get(ref)
                if image_id is not None:
                    return self._load(image_id)
        if hex_prefix is None or len(hex_prefix) < MIN_ID_PREFIX:
            return None
        matches = [h for h in self._config_hexes() if h.startswith(hex_prefix)]
        if len(matches) > 1:
            raise ImageError(
                f"image id prefix {reference!r} is ambiguous: it matches {len(matches)} images; give more digits"
            )
        return self._load(f"sha256:{matches[0]}") if matches else None

    def list(self) -> list[Image]:
        """Every image, tagged or not, newest first."""
        images = [self._load(f"sha256:{h}") for h in self._config_hexes()]
        found = [i for i in images if i is not None]
        return sorted(found, key=lambda i: (i.created, i.id), reverse=True)

    def layer_dirs(self, image: Image) -> tuple[str, ...]:
        """Absolute layer directories, top layer first (overlayfs lowerdir order)."""
        dirs = tuple(str(self._layer_dir(d)) for d in reversed(image.layers))
        for d in dirs:
            if not os.path.isdir(d):
                raise ImageError(
                    f"image {image.id[:19]} is damaged: its layer {d} is missing; re-import it"
                )
        return dirs

    # ---- changing ----

    def import_tar(
        self, tar_path: Path, reference: str, config: ImageConfig | None = None
    ) -> Image:
        """Import a root filesystem tarball (.tar, .tar.gz, .tar.xz) as a one-layer image."""
        ref = normalize_reference(reference)
        config = config or ImageConfig()
        if not Path(tar_path).is_file():
            raise ImageError(f"cannot import {tar_path}: no such file")
        with self._locked():
            layer = self._add_layer(str(tar_path))
            same = [i for i in self._all_configs() if i.layers == (layer,) and i.config == config]
            if same:  # identical content: the same image (and id) gets the tag, no new one
                image_id = same[0].id
            else:
                created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                raw = config_json(config, (layer,), created)
                image_id = _sha256_id(raw)
                _atomic_write(self._config_path(image_id), raw)
            tags = self._tags()
            tags[ref] = image_id
            self._write_tags(tags)
            self._collect()
        image = self._load(image_id)
        assert image is not None
        return image

    def load_archive(self, archive_path: Path) -> builtins.list[tuple[Image, tuple[str, ...]]]:
        """`docker load`: every image of a `docker save` archive or OCI layout tar, with its
        config kept verbatim (so its id is Docker's), and the names the archive gave it."""
        if not Path(archive_path).is_file():
            raise ImageError(f"cannot load {archive_path}: no such file")
        self.root.mkdir(parents=True, exist_ok=True)
        loaded = []
        with tempfile.TemporaryDirectory(prefix="load-", dir=self.root) as scratch:
            for archived in read_archive(str(archive_path), scratch):
                loaded.append(self._add_archived(archived))
        return loaded

    def _add_archived(self, archived: ArchivedImage) -> tuple[Image, tuple[str, ...]]:
        image_id = _sha256_id(archived.config)
        _config, diff_ids, _created = parse_config(archived.config, image_id)
        if len(diff_ids) != len(archived.layers):
            raise ImageError(f"image {image_id[:19]}: its config lists {len(diff_ids)} layers, "
                             f"the archive has {len(archived.layers)}")
        refs = [normalize_reference(_familiar(tag)) for tag in archived.tags]
        with self._locked():
            for expected, layer in zip(diff_ids, archived.layers, strict=True):
                if self._add_layer(layer) != expected:
                    self._collect()
                    raise ImageError(f"image {image_id[:19]}: a layer's content does not match the "
                                     f"diff id {expected} its config gives; the archive is damaged")
            _atomic_write(self._config_path(image_id), archived.config)
            tags = self._tags()
            tags.update({ref: image_id for ref in refs})
            self._write_tags(tags)
            self._collect()
        image = self._load(image_id)
        assert image is not None
        return image, tuple(refs)

    def remove(self, reference: str) -> None:
        """By name: untag; the image goes with its last tag. By id: the image and all its tags.
        Layers no image uses any more are deleted."""
        with self._locked():
            image = self.get(reference)
            tags = self._tags()
            by_name = normalize_reference(reference) if _is_name(reference) else None
            if by_name is not None and tags.get(by_name) == image.id:
                del tags[by_name]
            else:
                tags = {t: i for t, i in tags.items() if i != image.id}
            self._write_tags(tags)
            if image.id not in tags.values():
                self._config_path(image.id).unlink(missing_ok=True)
            self._collect()

    # ---- internals ----

    def _add_layer(self, tar_path: str) -> str:
        """The layer's diff id; extracted only when no layer with that content exists yet."""
        digest = layer_tar.diff_id(tar_path)
        final = self._layer_dir(digest)
        if final.is_dir():
            return digest
        tmp_root = self.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="layer-", dir=tmp_root)
        try:
            os.chmod(tmp, 0o755)  # the layer root, unless the tar has a "./" entry saying otherwise
            if layer_tar.extract(tar_path, tmp) != digest:
                raise ImageError(f"{tar_path} changed while it was being imported; try again")
            meta = json.dumps({"size": layer_tar.disk_usage(tmp)}).encode()
            _atomic_write(self._layer_meta(digest), meta)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp, final)
        except OSError as e:
            raise ImageError(f"cannot extract {tar_path} into {tmp}: {e}") from e
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp)
            with contextlib.suppress(OSError):
                tmp_root.rmdir()
        return digest

    def _collect(self) -> None:
        """Delete layers no image references, and leftovers of interrupted extractions."""
        used = {d for i in self._all_configs() for d in i.layers}
        for base, suffix in (
            (self.root / "layers/sha256", ""),
            (self.root / "layerdb/sha256", ".json"),
        ):
            for entry in base.glob("*") if base.is_dir() else ():
                if f"sha256:{entry.name.removesuffix(suffix)}" in used:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink(missing_ok=True)
        shutil.rmtree(self.root / "tmp", ignore_errors=True)

    def _all_configs(self) -> Iterator[Image]:
        for h in self._config_hexes():
            image = self._load(f"sha256:{h}", with_size=False)
            if image is not None:
                yield image

    def _load(self, image_id: str, with_size: bool = True) -> Image | None:
        try:
            raw = self._config_path(image_id).read_bytes()
        except FileNotFoundError:
            return None  # removed while we looked
        tags = tuple(sorted(t for t, i in self._tags().items() if i == image_id))
        config, diff_ids, created = parse_config(raw, image_id)
        size = sum(self._layer_size(d) for d in diff_ids) if with_size else 0
        return Image(image_id, tags, diff_ids, config, created, size)

    def _layer_size(self, digest: str) -> int:
        try:
            return int(json.loads(self._layer_meta(digest).read_bytes())["size"])
        except (OSError, ValueError, KeyError):
            return layer_tar.disk_usage(str(self._layer_dir(digest)))

    def _tags(self) -> dict[str, str]:
        path = self.root / "repositories.json"
        try:
            return dict(json.loads(path.read_bytes())["tags"])
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError) as e:
            raise ImageError(f"the image tag file {path} is corrupt ({e}); fix or delete it") from e

    def _write_tags(self, tags: dict[str, str]) -> None:
        raw = json.dumps({"tags": dict(sorted(tags.items()))}, indent=2).encode()
        _atomic_write(self.root / "repositories.json", raw)

    def _config_hexes(self) -> builtins.list[str]:
        base = self.root / "configs/sha256"
        return sorted(p.stem for p in base.glob("*.json")) if base.is_dir() else []

    def _config_path(self, image_id: str) -> Path:
        return self.root / "configs/sha256" / f"{_hex(image_id)}.json"

    def _layer_dir(self, digest: str) -> Path:
        return self.root / "layers/sha256" / _hex(digest)

    def _layer_meta(self, digest: str) -> Path:
        return self.root / "layerdb/sha256" / f"{_hex(digest)}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise ImageError(f"cannot open the image store at {self.root}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _familiar(name: str) -> str:
    """Docker Hub's long names as `docker images` shows them: docker.io/library/busybox → busybox."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def _is_name(reference: str) -> bool:
    try:
        normalize_reference(reference)
    except ImageError:
        return False
    return not reference.startswith("sha256:")


def _hex(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if (
        algorithm != "sha256"
        or len(hexpart) != 64
        or any(c not in "0123456789abcdef" for c in hexpart)
    ):
        raise ImageError(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return hexpart


def _sha256_id(raw: bytes) -> str:
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
