"""Named volumes: directories under the data root, bind-mounted into containers.

Like Docker's `local` driver: a volume is `<data_root>/volumes/<name>/_data` plus a
small metadata file holding its labels, so a project can find the volumes it made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from runtime.errors import ContainerError

_VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


class VolumeError(ContainerError):
    """A volume could not be created, found or removed."""


@dataclass(frozen=True)
class Volume:
    name: str
    mountpoint: str
    labels: dict[str, str] = field(default_factory=dict)
    created_at: str = ""


class VolumeStore:
    def __init__(self, data_root: Path) -> None:
        self.root = data_root / "volumes"

    def create(self, name: str, labels: dict[str, str] | None = None) -> Volume:
        """Create the volume, or return it unchanged if it exists (as `docker volume create`)."""
        if not _VALID_NAME.match(name):
            raise VolumeError(f'invalid volume name "{name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
        existing = self.get(name)
        if existing is not None:
            return existing
        directory = self.root / name
        (directory / "_data").mkdir(parents=True, exist_ok=True)
        volume = Volume(name, str(directory / "_data"), dict(labels or {}),
                        datetime.now(UTC).isoformat(timespec="seconds"))
        tmp = directory / "volume.json.tmp"
        tmp.write_text(json.dumps({"name": name, "labels": volume.labels, "created_at": volume.created_at}))
        os.replace(tmp, directory / "volume.json")
        return volume

    def get(self, name: str) -> Volume | None:
        meta = self.root / name / "volume.json"
        try:
            data = json.loads(meta.read_text())
        except FileNotFoundError:
            return None
        return Volume(name, str(self.root / name / "_data"), data.get("labels", {}), data.get("created_at", ""))

    def list(self) -> list[Volume]:
        if not self.root.is_dir():
            return []
        found = (self.get(entry.name) for entry in sorted(self.root.iterdir()))
        return [v for v in found if v is not None]

    def remove(self, name: str) -> None:
        """Delete the volume and its data; a missing volume is not an error."""
        directory = self.root / name
        if directory.exists():
            shutil.rmtree(directory)
