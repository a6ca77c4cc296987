"""The one exception hierarchy users see.

Every error pycompose reports is a `PycomposeError`: a message for users, where it
happened (``file:line:column`` and/or a key path such as ``services.web.ports[1]``),
and an optional hint. The CLI prints `render()` as one line and exits non-zero; a
traceback is shown only with ``--debug``. Errors from `runtime` and `network` (which
have their own roots) are wrapped into `ApplyError` by composer.
"""

from __future__ import annotations


class PycomposeError(Exception):
    def __init__(self, message: str, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def __str__(self) -> str:
        return self.render()


class SpecError(PycomposeError):
    """The stack file is unreadable or invalid."""


class GraphError(PycomposeError):
    """The dependency graph is invalid (cycle, unknown service)."""


class PlanError(PycomposeError):
    """The desired state cannot be reached from what is observed (e.g. missing image)."""


class ApplyError(PycomposeError):
    """Carrying out the plan failed on the host."""


class SpecErrors(SpecError):
    """Several independent problems in the stack, reported together: one line each."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__(errors[0].message, errors[0].where, errors[0].hint)
        self.errors = errors

    def render(self) -> str:
        return "\n".join(error.render() for error in self.errors)


def spec_errors(errors: list[SpecError]) -> SpecError:
    """The one error, or all of them together (duplicates dropped, order kept)."""
    unique = list({error.render(): error for error in errors}.values())
    return unique[0] if len(unique) == 1 else SpecErrors(unique)
