"""`.env` files: the variables a stack is interpolated with, under the shell's own.

Syntax as Docker Compose reads it: `KEY=VALUE` lines, an optional `export ` prefix,
`#` comments (whole lines, or after a space in an unquoted value), 'single quotes'
(literal), "double quotes" (escapes \\n \\t \\r \\" \\\\ and `${VAR}` expansion), and
`${VAR}` expansion in unquoted values from the environment and earlier lines.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from composer.errors import SpecError
from composer.spec.interpolate import Interpolator
from composer.spec.source import PathPart, spec_error

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$$"}


def read_dotenv(path: Path, env: Mapping[str, str]) -> dict[str, str] | None:
    """The variables of `path`, or None when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror}") from error
    return parse_dotenv(text, str(path), env)


def parse_dotenv(text: str, where: str, env: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not _KEY.match(key):
            raise SpecError(f'expected KEY=VALUE, got "{raw.strip()}"', where=f"{where}:{number}")
        # `${VAR}` looks in the shell first, then at earlier lines (as compose-go); by lookups
        # only, never a walk of `env` (composer.upcache records which variables were read).
        values[key] = _value(value.strip(), f"{where}:{number}", ChainMap(env, values))  # type: ignore[arg-type]
    return values


def _value(text: str, where: str, known: Mapping[str, str]) -> str:
    if text.startswith("'"):
        end = text.find("'", 1)
        if end < 0:
            raise SpecError("unterminated single quote", where=where)
        return text[1:end]
    if text.startswith('"'):
        out: list[str] = []
        index = 1
        while index < len(text):
            char = text[index]
            if char == "\\" and index + 1 < len(text):
                out.append(_ESCAPES.get(text[index + 1], "\\" + text[index + 1]))
                index += 2
                continue
            if char == '"':
                return Interpolator(known).substitute("".join(out))
            out.append(char)
            index += 1
        raise SpecError("unterminated double quote", where=where)
    comment = re.search(r"\s#", text)
    if comment:
        text = text[: comment.start()].rstrip()
    return Interpolator(known).substitute(text)


def read_env_files(root: Any, where: tuple[PathPart, ...], spec: Any, project_dir: str,
                   env: Mapping[str, str], read: list[str]) -> dict[str, str]:
    """A service's `env_file` (a path, a list of them, or `{path, required}` entries),
    relative to the project directory; later files win. Each path read is appended to
    `read` (also a missing optional one: its appearing changes the stack)."""
    entries = spec if isinstance(spec, list) else [spec]
    values: dict[str, str] = {}
    for index, entry in enumerate(entries):
        here = (*where, "env_file", index) if isinstance(spec, list) else (*where, "env_file")
        if isinstance(entry, str):
            relative, required = entry, True
        elif isinstance(entry, dict) and "format" in entry:
            raise spec_error(root, (*here, "format"), "env_file format is not supported yet")
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str) and _keys(entry) <= {"path", "required"}:
            relative, required = entry["path"], bool(entry.get("required", True))
        else:
            raise spec_error(root, here, "expected a path or {path, required}")
        path = Path(project_dir, relative)
        read.append(str(path))
        found = read_dotenv(path, env)
        if found is None and required:
            raise spec_error(root, here, f"env file {path} not found", "set `required: false` to make it optional")
        values.update(found or {})
    return values


def _keys(entry: dict[Any, Any]) -> set[str]:
    """An `env_file` entry's keys but its `x-*` extensions (the spec allows them there)."""
    return {str(key) for key in entry if not str(key).startswith("x-")}


def read_label_files(root: Any, where: tuple[PathPart, ...], spec: Any, project_dir: str,
                     env: Mapping[str, str], read: list[str]) -> dict[str, str]:
    """A service's `label_file` (a path or a list of them, `KEY=VALUE` lines as in `.env`),
    relative to the project directory; later files win. Each path read is appended to `read`."""
    entries = spec if isinstance(spec, list) else [spec]
    values: dict[str, str] = {}
    for index, entry in enumerate(entries):
        here = (*where, "label_file", index) if isinstance(spec, list) else (*where, "label_file")
        if not isinstance(entry, str):
            raise spec_error(root, here, "expected a file path")
        path = Path(project_dir, entry)
        read.append(str(path))
        found = read_dotenv(path, env)
        if found is None:
            raise spec_error(root, here, f"label file {path} not found")
        values.update(found)
    return values
