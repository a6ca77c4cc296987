"""Scalars tagged !!int, !!float, !!bool or !!null mean what go-yaml v3 (Docker Compose)
makes of them: the plain scalar's own value when it is of that type (an int is a float
too), else a positioned error; not PyYAML's YAML 1.1 readings (``yes``, ``1:30``)."""

from __future__ import annotations

import pytest

from composer.errors import SpecError
from composer.spec.yamlfile import load_text


@pytest.mark.parametrize(("written", "value"), [
    ("!!int 017", 15), ("!!int 1_000", 1000), ("!!int '0x1F'", 31), ("!!float 1", 1.0), ("!!float 1_0.5", 10.5),
    ("!!bool TRUE", True), ("!!null ~", None), ("!!null", None), ("!!str 1", "1"),
])
def test_tagged_scalars_of_their_type(written: str, value: object) -> None:
    tree = load_text(f"a: {written}\n", "s.yaml")
    assert tree["a"] == value and type(tree["a"]) is type(value)


@pytest.mark.parametrize("written", ["!!int 08", "!!int 1.5", "!!int 1:30", "!!float 1:30", "!!float x",
                                     "!!bool yes", "!!bool 1", "!!null x", "!!int true", "!!int 1e400"])
def test_tagged_scalars_of_another_type_are_positioned_errors(written: str) -> None:
    value = written.split(" ", 1)[1]
    tag = written.split(" ", 1)[0]
    with pytest.raises(SpecError, match=f'^s.yaml:1:4: invalid YAML: invalid value "{value}" for {tag}$'):
        load_text(f"a: {written}\n", "s.yaml")


def test_binary_scalars_are_their_text() -> None:
    """As go-yaml gives a string for `!!binary` (never Python's b'...')."""
    assert load_text("a: !!binary aGVsbG8=\n", "s.yaml") == {"a": "hello"}
    with pytest.raises(SpecError, match='^s.yaml:1:4: invalid YAML: invalid value "/w==" for !!binary$'):
        load_text("a: !!binary /w==\n", "s.yaml")  # not UTF-8 text
