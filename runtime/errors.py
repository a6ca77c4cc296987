"""The runtime's exception hierarchy. Messages are written for users."""

from __future__ import annotations


class ContainerError(Exception):
    """Root of every error the runtime raises."""


class ImageError(ContainerError):
    """An image is missing, or a tarball cannot be imported."""


class RootfsError(ContainerError):
    """The overlay root filesystem or a mount inside it could not be set up."""


class CgroupError(ContainerError):
    """A cgroup could not be created, configured, joined or removed."""


class SecurityError(ContainerError):
    """Capabilities, seccomp or other security settings could not be applied."""


class StartError(ContainerError):
    """The container process failed before or at exec (bad command, setup failure)."""


class NotFoundError(ContainerError):
    """No container with that id exists in the store."""
