"""Build models from raw mappings, turning pydantic errors into one-line SpecErrors.

A pydantic error's ``loc`` is a key path into the raw tree, so the position of the
offending node comes from the tree and the message from the error type.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from composer.errors import SpecError
from composer.spec.source import PathPart, spec_error
from composer.spec.values import InvalidValue, describe, scalar_text

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "string": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "dict": "a mapping",
    "model": "a mapping",
    "model_attributes": "a mapping",
    "tuple": "a list",
    "list": "a list",
}


def build(model: type[M], data: Any, root: Any, path: tuple[PathPart, ...]) -> M:
    """``model.model_validate(data)``; on failure a SpecError at *path* + the error's loc."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_spec_error(exc, root, path) from None


def to_spec_error(exc: ValidationError, root: Any, path: tuple[PathPart, ...]) -> SpecError:
    error = exc.errors(include_url=False)[0]
    loc = (*path, *(p for p in error["loc"] if isinstance(p, int) or _is_key(p)))
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        return spec_error(root, loc[:-1], f"missing required key `{loc[-1]}`")
    if kind in ("value_error", "assertion_error") and isinstance(ctx.get("error"), InvalidValue):
        problem: InvalidValue = ctx["error"]
        if problem.key is not None:
            loc = (*loc, problem.key)
        return spec_error(root, loc, problem.message, problem.hint)
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return spec_error(root, loc, f"invalid value {_quote(value)}", f"expected {expected}")
    if kind == "extra_forbidden":
        return spec_error(root, loc, "unknown key", key=True)
    base, _, suffix = kind.rpartition("_")
    if suffix in ("type", "parsing") and base.removesuffix("_from") in _EXPECTED:
        return spec_error(root, loc, f"expected {_EXPECTED[base]}, got {_got(value)}")
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return spec_error(root, loc, f"invalid value {_quote(value)} (must be at least {bound})")
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return spec_error(root, loc, f"invalid value {_quote(value)} (must be at most {bound})")
    message = str(error["msg"]).removeprefix("Value error, ")
    return spec_error(root, loc, message)


def _is_key(part: object) -> bool:
    # pydantic adds validator/union member names such as "function-before[...]" to loc.
    return isinstance(part, str) and not any(c in part for c in "[]()")


def _got(value: object) -> str:
    if isinstance(value, str):
        return _quote(value)
    return describe(value)


def _quote(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else scalar_text(value)
