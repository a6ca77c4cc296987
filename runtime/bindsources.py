"""Bind mount sources, settled when a container is created (as Docker does).

A missing source is created as a directory when the mount asks for it (`create_source`:
Docker's `-v` binds, compose's short syntax) and is an error otherwise, in Docker's
words ("bind source path does not exist"), so a container that could never start is
not created at all.
"""

from __future__ import annotations

import os

from runtime.config import ContainerConfig
from runtime.errors import ContainerError


def prepare_bind_sources(config: ContainerConfig) -> None:
    for m in config.mounts:
        if m.type != "bind" or os.path.exists(m.source):
            continue
        if not m.create_source:
            raise ContainerError(f'container {config.name}: invalid mount config for type "bind": '
                                 f"bind source path does not exist: {m.source}")
        try:
            os.makedirs(m.source, 0o755, exist_ok=True)
        except OSError as e:
            raise ContainerError(f"container {config.name}: error while creating mount source path "
                                 f"'{m.source}': {e.strerror or e}") from e
