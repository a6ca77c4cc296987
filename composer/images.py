"""`pycompose images`: Docker's columns (REPOSITORY TAG IMAGE ID CREATED SIZE)."""

from __future__ import annotations

from datetime import UTC, datetime

from composer.ps import human_duration, render_table
from runtime.images import Image

COLUMNS = ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")


def human_size(size: int) -> str:
    """Docker's units: decimal, three significant digits (`2.14MB`)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.3g}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


def image_rows(images: list[Image], quiet: bool = False) -> str:
    if quiet:
        return "\n".join(sorted({image.id.removeprefix("sha256:")[:12] for image in images}))
    now = datetime.now(UTC)
    rows = []
    for image in images:
        if image.created:
            created = datetime.fromisoformat(image.created.replace("Z", "+00:00"))
            age = f"{human_duration((now - created).total_seconds())} ago"
        else:
            age = "N/A"  # a loaded config without "created", as docker images shows it
        short = image.id.removeprefix("sha256:")[:12]
        for tag in image.repo_tags or ("<none>:<none>",):
            repository, _, name = tag.rpartition(":")
            rows.append((repository, name, short, age, human_size(image.size)))
    return render_table(COLUMNS, sorted(rows))
