"""The network package's exception hierarchy. Messages are written for users.

Every error raised by `network` is a `NetworkError`; composer wraps it into its own root.
"""

from __future__ import annotations


class NetworkError(Exception):
    """Root of every error the network package raises.

    `hint` says what the user can do about it, when we know.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidNameError(NetworkError):
    """A network name or sandbox id cannot be used (empty, too long, or unsafe as a file name)."""


class NetworkNotFoundError(NetworkError):
    """No network with that name is recorded."""


class SandboxNotFoundError(NetworkError):
    """No sandbox with that id is recorded."""


class NetworkInUseError(NetworkError):
    """A network cannot be removed while sandboxes are attached to it (`users`)."""

    def __init__(self, message: str, hint: str | None = None, users: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.users = users


class PoolExhaustedError(NetworkError):
    """No free subnet is left in the pool, or no free address in a subnet."""


class StateError(NetworkError):
    """The network state files cannot be read or written."""


class KernelError(NetworkError):
    """The kernel refused a netlink request, a mount or a namespace operation."""


class AddressInUseError(NetworkError):
    """A requested static address is held by another sandbox (`holder`)."""

    def __init__(self, message: str, holder: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.holder = holder


class MacAddressInUseError(AddressInUseError):
    """A requested MAC address is held on the same network by another sandbox (`holder`)."""
