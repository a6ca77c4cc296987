"""The configuration hash that decides keep vs recreate (as Docker Compose's config-hash label)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composer.models import Service

# Fields that do not change the container itself: changing them must not recreate it.
_NOT_HASHED = {"depends_on", "profiles"}


def service_document(service: Service) -> dict[str, Any]:
    """The JSON form of what a container is made from (kept by the no-op cache).

    Settings left at their defaults are left out, so a pycompose that models one more key
    does not change the hash of every existing container (and recreate it on `up`).
    """
    return service.model_dump(mode="json", exclude=_NOT_HASHED, exclude_defaults=True)


def config_hash_of(document: dict[str, Any], image_id: str) -> str:
    """sha256 over the canonical JSON of the service document and the id of its image."""
    canonical = json.dumps({"service": document, "image_id": image_id}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def config_hash(service: Service, image_id: str) -> str:
    return config_hash_of(service_document(service), image_id)
