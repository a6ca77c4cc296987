"""The configuration hash that decides keep vs recreate (as Docker Compose's config-hash label)."""

from __future__ import annotations

import hashlib
import json

from composer.models import Service

# Fields that do not change the container itself: changing them must not recreate it.
_NOT_HASHED = {"depends_on", "profiles"}


def config_hash(service: Service, image_id: str) -> str:
    """sha256 over the canonical JSON of the service and the id of the image it runs."""
    document = {
        "service": service.model_dump(mode="json", exclude=_NOT_HASHED),
        "image_id": image_id,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
