"""Content-addressed image store: import root-filesystem tarballs, name them, hand out layers."""

from runtime.images.model import Image, ImageConfig
from runtime.images.reference import normalize_reference
from runtime.images.store import ImageStore

__all__ = ["Image", "ImageConfig", "ImageStore", "normalize_reference"]
