"""/etc/passwd and /etc/group as the container's image has them."""

from __future__ import annotations

from runtime.errors import ContainerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


def entries(text: str, width: int) -> list[list[str]]:
    """The colon-separated rows of a passwd (width 7) or group (width 4) file."""
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split(":")
            if len(fields) >= width:
                rows.append(fields)
    return rows


def group_add_ids(groups: Iterable[str], group_text: str) -> tuple[int, ...]:
    """`group_add` entries (gids or names in the container's /etc/group) as gids, as runc."""
    rows = entries(group_text, 4)
    gids = []
    for group in groups:
        if group.isdigit():
            gids.append(int(group))
            continue
        match = next((g for g in rows if g[0] == group), None)
        if match is None:
            raise ContainerError(f"unable to find group {group}: no matching entries in group file")
        gids.append(int(match[2]))
    return tuple(gids)
