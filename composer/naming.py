"""Names users see, as Docker Compose v2 makes them."""

from __future__ import annotations

# Labels Compose puts on its containers; we use the same keys so tooling and
# habits carry over (`docker compose` users grep for these).
LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_NUMBER = "com.docker.compose.container-number"
LABEL_CONFIG_HASH = "com.docker.compose.config-hash"
LABEL_ONEOFF = "com.docker.compose.oneoff"
LABEL_WORKING_DIR = "com.docker.compose.project.working_dir"
LABEL_CONFIG_FILES = "com.docker.compose.project.config_files"
LABEL_NETWORK = "com.docker.compose.network"
LABEL_VOLUME = "com.docker.compose.volume"
LABEL_IMAGE = "com.docker.compose.image"
# The image reference as written in the stack (Compose keeps it in the container config).
LABEL_IMAGE_REFERENCE = "io.pycompose.image"


def container_name(project: str, service: str, number: int = 1) -> str:
    return f"{project}-{service}-{number}"


def scoped_name(project: str, name: str) -> str:
    """Networks and volumes are `<project>_<name>` unless the file gives a `name:`."""
    return f"{project}_{name}"
