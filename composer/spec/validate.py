"""Build models from raw mappings, turning pydantic errors into one-line SpecErrors.

A pydantic error's ``loc`` is a key path into the raw tree, so the position of the
offending node comes from the tree and the message from the error type.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from composer.errors import SpecError, spec_errors
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
    """``model.model_validate(data)``; on failure a SpecError at *path* + the error's loc,
    one line per key at fault (the first problem of each)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise spec_errors(to_spec_errors(exc, root, path, model)) from None


def to_spec_errors(exc: ValidationError, root: Any, path: tuple[PathPart, ...],
                   model: type[BaseModel] | None = None) -> list[SpecError]:
    """The first error of each top-level key (a union reports one problem many times)."""
    firsts: dict[object, Any] = {}
    for error in exc.errors(include_url=False):
        firsts.setdefault(error["loc"][0] if error["loc"] else None, error)
    return sorted((to_spec_error(error, root, path, model) for error in firsts.values()), key=_written_order)


def _written_order(error: SpecError) -> tuple[str, int, int]:
    """``file:line:col`` of an error, to list a mapping's problems as they are written."""
    match = re.match(r"^(.*?):(\d+):(\d+)", error.where or "")
    return (match[1], int(match[2]), int(match[3])) if match else ("", 0, 0)


def to_spec_error(error: Any, root: Any, path: tuple[PathPart, ...],
                  model: type[BaseModel] | None = None) -> SpecError:
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
        allowed = _keys_at(model, error["loc"]) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return spec_error(root, loc, "unknown key", f"did you mean `{close[0]}`?" if close else None, key=True)
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


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping holding the unknown key at *loc* (for a hint)."""
    current: list[type[BaseModel]] = [model]
    skip_name = False  # the next part names an entry of a mapping
    for part in loc[:-1]:
        if skip_name or isinstance(part, int):
            skip_name = False
            continue
        owner = next((m for m in current if part in m.model_fields), None)
        if owner is None:
            if any(part == m.__name__ for m in current):
                continue  # pydantic names the union member it tried
            return []
        annotation = owner.model_fields[part].annotation
        current, skip_name = _models_in(annotation), _is_mapping(annotation)
    return sorted({key for m in current for key in m.model_fields})


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _is_mapping(annotation: Any) -> bool:
    if get_origin(annotation) is dict:
        return True
    return any(_is_mapping(arg) for arg in get_args(annotation) if get_origin(arg) is not tuple)


def _is_key(part: object) -> bool:
    # pydantic adds validator/union member names such as "function-before[...]" to loc.
    return isinstance(part, str) and not any(c in part for c in "[]()")


def _got(value: object) -> str:
    if isinstance(value, str):
        return _quote(value)
    return describe(value)


def _quote(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else scalar_text(value)
