"""JSON for the helper processes (monitor, exec helper) without the `json` package.

`import json` pulls in `re` (compiling its scanners), `enum`, `functools` and `collections`:
under `python -I -S` that measured ≈15 ms per process and part of the monitor's PSS.
The C accelerator `_json` that `json` itself wraps is all these processes need: its
scanner decodes, its string escaper encodes. Output is byte-for-byte what `json.dumps`
writes with the same `indent`/`sort_keys`, so files stay interchangeable with the CLI's.
Only malformed input takes the slow path: `_json` then imports `json.decoder` to raise
`JSONDecodeError` (a ValueError).
"""

from __future__ import annotations

import _json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"
_INFINITY = float("inf")
_CONSTANTS = {"-Infinity": -_INFINITY, "Infinity": _INFINITY, "NaN": float("nan")}
_escape = _json.encode_basestring_ascii


class _ScannerContext:
    """The attributes `_json.make_scanner` reads from `json.JSONDecoder`, at its defaults."""

    __slots__ = ("strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant", "memo")

    def __init__(self) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = _CONSTANTS.__getitem__
        self.memo: dict[str, str] = {}


_scan = _json.make_scanner(_ScannerContext())  # type: ignore[arg-type]  # duck-typed JSONDecoder


def loads(text: str) -> Any:
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"invalid JSON at character {e.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value


def dumps(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    out: list[str] = []
    _encode(value, out, indent, sort_keys, 0)
    return "".join(out)


def _encode(value: Any, out: list[str], indent: int | None, sort_keys: bool, level: int) -> None:
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        _container(out, "{", "}", [(_escape(str(k)) + ": ", v) for k, v in items], indent, sort_keys, level)
    elif isinstance(value, list | tuple):
        _container(out, "[", "]", [("", v) for v in value], indent, sort_keys, level)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (_INFINITY, -_INFINITY):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _container(out: list[str], open_: str, close: str, entries: list[tuple[str, Any]],
               indent: int | None, sort_keys: bool, level: int) -> None:
    if not entries:
        out.append(open_ + close)
        return
    if indent is None:
        inner, separator, outer = "", ", ", ""
    else:
        inner = "\n" + " " * (indent * (level + 1))
        separator, outer = "," + inner, "\n" + " " * (indent * level)
    out.append(open_ + inner)
    for i, (prefix, item) in enumerate(entries):
        if i:
            out.append(separator)
        out.append(prefix)
        _encode(item, out, indent, sort_keys, level + 1)
    out.append(outer + close)


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as f:
        return loads(f.read())


def write_json_atomic(path: str | os.PathLike[str], data: dict[str, Any]) -> None:
    """Temp file, then swapped in: readers see the old or the new file, never a torn one.

    No fsync: these files live on tmpfs (run_root) or describe state a crash makes moot.
    """
    path = os.fspath(path)
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(dumps(data, indent=1, sort_keys=True) + "\n")
    replace(tmp, path)


def replace(tmp: str, path: str) -> None:
    """`os.replace(tmp, path)`, without ext4's write-out of a file renamed over another.

    ext4 (auto_da_alloc) starts writing a file's data out when a rename replaces an
    existing file: ~2 ms a rename on an ext4 run root (network/state.py measured it too),
    several times per container start. Exchanging the two names (renameat2) is as atomic
    for readers and is not flushed; the old content, now at `tmp`, is deleted. With no
    file to exchange with, or a filesystem that cannot: a plain rename.
    """
    from runtime.syscalls import rename_exchange  # ctypes: the monitor has it loaded already

    try:
        rename_exchange(tmp, path)
    except OSError:
        os.replace(tmp, path)
        return
    try:
        os.unlink(tmp)  # the old content; the write itself is done
    except FileNotFoundError:
        pass
