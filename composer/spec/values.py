"""Parsers for the scalar mini-languages of the Compose spec.

Sizes (``512m``), durations (``1m30s``), CPU counts, signals, restart policies and
shell-like command strings. Pure standard library, so `composer.models` can use them
as pydantic validators and the loader can use them on raw YAML values alike. Every
parser raises `InvalidValue` carrying a message and a hint for the user.
"""

from __future__ import annotations

import math
import re
import shlex
import signal
from collections.abc import Mapping
from typing import Any


class InvalidValue(ValueError):
    """A value the user wrote is malformed; `hint` says what would be accepted."""

    def __init__(self, message: str, hint: str | None = None, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.key = key  # the sub-key at fault, when raised for a whole mapping


def describe(value: object) -> str:
    """The YAML kind of *value*, for "expected X, got Y" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def scalar_text(value: object) -> str:
    """Render a YAML scalar as Compose does when a string is wanted (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- sizes ------------------------------------------------------------------

# Docker's RAMInBytes: binary units, optional "i" and "b" ("512m", "1.5GiB", "100").
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$", re.IGNORECASE)
_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_SCALES = frozenset("kmgtp")
SIZE_HINT = "use a number with b, k, m or g"


def parse_size(value: object) -> int:
    """Bytes from ``512m``, ``1g``, ``1.5G``, ``100`` or an integer."""
    if isinstance(value, bool):
        raise InvalidValue(f"invalid size {value!r}", SIZE_HINT)
    if isinstance(value, int):
        if value < 0:
            raise InvalidValue(f"invalid size {value} (must not be negative)")
        return value
    if isinstance(value, float) and value >= 0 and value.is_integer():
        return int(value)
    if isinstance(value, str) and value[:-1].isdecimal() and value[-1:].lower() in _SCALES:
        return _bytes(value, value[:-1], _UNIT[value[-1].lower()])  # "256m": what the pattern gives
    text = value.strip() if isinstance(value, str) else None
    match = _SIZE.match(text) if text else None
    if match is None:
        raise InvalidValue(f"invalid size {_quote(value)}", SIZE_HINT)
    number, unit = match.groups()
    return _bytes(value, number, _UNIT[(unit or "").lower()])


def _bytes(value: object, number: str, unit: int) -> int:
    size = float(number) * unit
    if size == math.inf:  # (hundreds of digits: no int for it)
        raise InvalidValue(f"invalid size {_quote(value)} (too large)", SIZE_HINT)
    return int(size)


# --- durations --------------------------------------------------------------

# Go's time.ParseDuration units, as Compose uses them.
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_HINT = "use a duration such as 10s, 1m30s or 500ms"


def parse_duration(value: object) -> float:
    """Seconds from a Go-style duration (``10s``, ``1m30s``, ``500ms``)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str):
        raise InvalidValue(f"invalid duration {_quote(value)}", DURATION_HINT)
    if value[:-1].isdecimal() and value[-1] in "smh":
        total = float(value[:-1]) * _SECONDS[value[-1]]  # "20s": what the loop below gives
        if total != math.inf:
            return total
        raise InvalidValue(f"invalid duration {_quote(value)} (too long)", DURATION_HINT)
    text = value.strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise InvalidValue(f"invalid duration {_quote(value)}", DURATION_HINT)
        total += float(match.group(1)) * _SECONDS[match.group(2)]
        pos = match.end()
    if not text:
        raise InvalidValue(f"invalid duration {_quote(value)}", DURATION_HINT)
    if total == math.inf:  # (hundreds of digits: no duration to run, nor to print)
        raise InvalidValue(f"invalid duration {_quote(value)} (too long)", DURATION_HINT)
    return total


def format_duration(seconds: float) -> str:
    """The shortest Go-style duration for *seconds* (``90`` → ``1m30s``)."""
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    if abs(seconds * 1000 - millis) > 1e-6:
        return f"{seconds:g}s"
    if millis % 1000:
        return f"{millis}ms" if millis < 1000 else f"{millis / 1000:g}s"
    whole = millis // 1000
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts)


# --- CPUs, signals, restart ------------------------------------------------------

CPUS_HINT = "use a positive number of CPUs such as 0.5 or 2"


def parse_cpus(value: object) -> float:
    """A positive CPU count from ``0.5``, ``"1.5"`` or ``2``."""
    try:
        if isinstance(value, bool):
            raise ValueError
        cpus = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValue(f"invalid CPU count {_quote(value)}", CPUS_HINT) from None
    if not math.isfinite(cpus) or cpus <= 0:
        raise InvalidValue(f"invalid CPU count {_quote(value)}", CPUS_HINT)
    return cpus


_RT_SIGNAL = re.compile(r"^SIGRTM(IN\+\d+|AX-\d+)$")


def parse_signal(value: object) -> str:
    """A canonical ``SIGNAME`` from ``SIGTERM``, ``TERM``, ``15`` or ``sigterm``."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().upper()
    else:
        raise InvalidValue(f"invalid signal {_quote(value)}", "use a name such as SIGTERM")
    if text.isdigit():
        try:
            return signal.Signals(int(text)).name
        except ValueError:
            raise InvalidValue(f"unknown signal number {text}") from None
    name = text if text.startswith("SIG") else f"SIG{text}"
    if name in signal.Signals.__members__ or _RT_SIGNAL.match(name):
        return name
    raise InvalidValue(f"unknown signal {_quote(value)}", "use a name such as SIGTERM or SIGINT")


RESTART_POLICIES = ("no", "always", "on-failure", "unless-stopped")


def parse_restart(value: object) -> tuple[str, int | None]:
    """(policy, max_retries) from ``always`` or ``on-failure:3``."""
    if value is False:  # YAML 1.1 habit: `restart: no` unquoted
        return "no", None
    if not isinstance(value, str):
        raise InvalidValue(f"invalid restart policy {_quote(value)}", _restart_hint())
    policy, sep, count = value.partition(":")
    if policy not in RESTART_POLICIES:
        raise InvalidValue(f"invalid restart policy {_quote(value)}", _restart_hint())
    if not sep:
        return policy, None
    if policy != "on-failure" or not count.isdigit():
        raise InvalidValue(
            f"invalid restart policy {_quote(value)}", "only on-failure takes a count: on-failure:3"
        )
    return policy, int(count)


def _restart_hint() -> str:
    return "expected one of " + ", ".join(RESTART_POLICIES) + " or on-failure:N"


# --- commands and list-or-dict ------------------------------------------------------


def split_command(value: object) -> tuple[str, ...] | None:
    """A command as argv: a string is split as a POSIX shell would, a list is taken as is."""
    if value is None:
        return None
    if isinstance(value, str):
        words = shell_split(value)
        if words is not None:
            return words
        try:
            return tuple(shlex.split(value))  # to raise its error
        except ValueError as exc:  # "No closing quotation"
            raise InvalidValue(f"cannot split command {_quote(value)}: {exc}") from None
    if isinstance(value, list | tuple):
        bad = [item for item in value if isinstance(item, Mapping | list | tuple) or item is None]
        if bad:
            raise InvalidValue(f"command arguments must be strings, got {describe(bad[0])}")
        return tuple(scalar_text(item) for item in value)
    raise InvalidValue(f"expected a string or a list of strings, got {describe(value)}")


# A word: unquoted characters, an escaped character, '...', "..." (where \\ escapes only " and \\).
_WORD = re.compile(r"""(?:[^ \t\r\n'"\\]+|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""", re.DOTALL)
_PART = re.compile(r"[^'\"\\]+|\\(.)|'([^']*)'|\"((?:[^\"\\]|\\.)*)\"", re.DOTALL)
_QUOTED_ESCAPE = re.compile(r'\\(["\\])')
_BLANKS = re.compile(r"[ \t\r\n]+")
# A word of a text without double quotes and backslashes: unquoted characters and '...'.
_SIMPLE_WORD = re.compile(r"(?:[^ \t\r\n']+|'[^']*')+")


def shell_split(text: str) -> tuple[str, ...] | None:
    """``shlex.split(text)`` (POSIX rules, no comments), several times faster; None where
    shlex raises (an unclosed quote, a trailing backslash)."""
    if '"' not in text and "\\" not in text:
        # The common case: single quotes at most, each one opening or closing a quoted run.
        if text.count("'") % 2:
            return None  # an unclosed quote
        simple = _SIMPLE_WORD.findall(text)
        return tuple([word.replace("'", "") for word in simple]) if "'" in text else tuple(simple)
    words: list[str] = []
    position, end = 0, len(text)
    while True:
        blank = _BLANKS.match(text, position)
        if blank:
            position = blank.end()
        if position >= end:
            return tuple(words)
        word = _WORD.match(text, position)
        if word is None:
            return None
        written = word[0]
        if "'" in written or '"' in written or "\\" in written:
            written = "".join([_unquote(part) for part in _PART.finditer(written)])
        words.append(written)
        position = word.end()


def _unquote(part: re.Match[str]) -> str:
    escaped, single, double = part.groups()
    if escaped is not None:
        return escaped
    if single is not None:
        return single
    if double is not None:
        return _QUOTED_ESCAPE.sub(r"\1", double)
    return part[0]


def list_or_dict(value: object) -> dict[str, Any]:
    """``[K=V, K]`` or ``{K: V}`` as a dict; a bare ``K`` maps to None."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list | tuple):
        out: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, str):
                raise InvalidValue(f"each entry must be a KEY=VALUE string, got {describe(item)}")
            key, sep, val = item.partition("=")
            out[key] = val if sep else None
        return out
    raise InvalidValue(f"expected a mapping or a list of KEY=VALUE strings, got {describe(value)}")


def _quote(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return scalar_text(value) if value is not None else "null"


# --- keys kept for fidelity ----------------------------------------------------------

_PULL_POLICY = re.compile(r"^(always|never|build|missing|refresh|daily|weekly|every_(\d+[wdhms])+)$")


def parse_pull_policy(value: object) -> object:
    """A pull policy; ``if_not_present`` is the old spelling of ``missing``."""
    if value is None or not isinstance(value, str):
        return value
    if value == "if_not_present":
        return "missing"
    if not _PULL_POLICY.match(value):
        raise InvalidValue(
            f"invalid pull policy {_quote(value)}",
            "expected always, never, missing, build, daily, weekly or every_<duration>",
        )
    return value


def parse_micros(value: object) -> int:
    """Microseconds from an integer (already microseconds) or a duration (``10ms``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return round(parse_duration(value) * 1_000_000)


def parse_file_mode(value: object) -> object:
    """A file mode: an integer, or an octal string (``"0440"``)."""
    if isinstance(value, str):
        try:
            return int(value, 8)
        except ValueError:
            raise InvalidValue(f"invalid file mode {_quote(value)}", "use an octal mode such as 0440") from None
    return value


def string_or_list(value: object) -> object:
    """``x`` → ``[x]``; lists are kept (``dns``-like keys that take one value or several)."""
    return [value] if isinstance(value, str) else value
