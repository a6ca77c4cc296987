"""Interpolation exactly as the Compose spec defines it."""

from __future__ import annotations

import pytest

from composer.spec.interpolate import Interpolator
from composer.spec.values import InvalidValue

ENV = {"SET": "v", "EMPTY": "", "B": "b"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$SET", "v"),
        ("${SET}", "v"),
        ("x${SET}y$SET.z", "xvyv.z"),
        ("${UNSET:-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${SET:-d}", "v"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${UNSET:-${B}}", "b"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${SET:?boom}", "v"),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("a $$ b", "a $ b"),
        ("no dollars", "no dollars"),
        ("${UNSET:-a}}", "a}"),
    ],
)
def test_substitute(template: str, expected: str) -> None:
    assert Interpolator(ENV).substitute(template) == expected


def test_unset_is_blank_and_warned_once() -> None:
    interpolator = Interpolator(ENV)
    assert interpolator.substitute("a${NOPE}b$NOPE") == "ab"
    assert interpolator.warnings() == [
        'The "NOPE" variable is not set. Defaulting to a blank string.'
    ]


def test_default_is_evaluated_only_when_used() -> None:
    interpolator = Interpolator(ENV)
    assert interpolator.substitute("${SET:-${NOPE}}") == "v"
    assert interpolator.warnings() == []


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${UNSET:?please set it}", "required variable UNSET is missing a value: please set it"),
        ("${EMPTY:?}", "required variable EMPTY is missing a value"),
        ("${UNSET?msg ${B}}", "required variable UNSET is missing a value: msg b"),
        ("${}", 'invalid interpolation "${}"'),
        ("$1", 'invalid interpolation "$1"'),
        ("cost: 5$", 'invalid interpolation "cost: 5$"'),
        ("${A", 'invalid interpolation "${A"'),
        ("${A:-x", 'invalid interpolation "${A:-x": missing "}"'),
        ("${A!x}", 'invalid interpolation "${A!x}"'),
    ],
)
def test_errors(template: str, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Interpolator(ENV).substitute(template)
    assert caught.value.message == message


def test_required_in_empty_set_variable_is_fine_without_colon() -> None:
    assert Interpolator(ENV).substitute("${EMPTY?x}") == ""
