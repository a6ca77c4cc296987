"""Project names, normalised as Docker Compose does."""

from __future__ import annotations

import re

_INVALID = re.compile(r"[^a-z0-9_-]")
NAME_HINT = "use lowercase letters, digits, dashes and underscores, starting with a letter or digit"


def normalize_project_name(raw: str) -> str:
    """Lowercase, keep only ``[a-z0-9_-]``, drop leading ``_``/``-``; "" if nothing is left."""
    return _INVALID.sub("", raw.lower()).lstrip("_-")
