"""`shell_split` splits commands exactly as shlex.split (POSIX), faster."""

from __future__ import annotations

import random
import shlex

import pytest

from composer.spec.values import InvalidValue, shell_split, split_command

_PIECES = ["a", "b", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\\", "'", '"', '\\"', "x y", "$", "=", "\\\n"]


def _shlex(text: str) -> tuple[str, ...] | None:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return None


@pytest.mark.parametrize("text", [
    "sh -c 'echo a && sleep 1'", 'echo "a \\" b" c\\ d', "a''b ''", 'say "\\$HOME \\\\ \\x"', "  ", "",
    "unclosed 'quote", 'trailing \\', "a\x0cb\x0bc", 'mixed"a b"\'c d\'e',
])
def test_known_strings(text: str) -> None:
    assert shell_split(text) == _shlex(text)


def test_random_strings_against_shlex() -> None:
    rng = random.Random(5)
    for _ in range(20000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14)))
        assert shell_split(text) == _shlex(text), repr(text)


def test_split_command_reports_what_shlex_reports() -> None:
    with pytest.raises(InvalidValue, match="No closing quotation"):
        split_command("echo 'a")
    assert split_command("a 'b c'") == ("a", "b c")
