"""The fast block-YAML reader reads exactly what the libyaml reader reads, or declines.

For every input, `blockyaml.read` either raises `Unsupported` or returns the very tree the
libyaml reader (`yamlevents.load_text`) builds: the same keys in the same order,
values of the same types, and the same position for every key, value and item. Checked
on the reference corpus, on thousands of deterministic mutations of it, and on cases
chosen by hand; an input the libyaml reader rejects must always be declined.
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Any

import pytest

from composer.errors import SpecError
from composer.spec import blockyaml
from composer.spec.source import PosDict, PosList
from composer.spec.yamlevents import load_text as libyaml_load_text
from composer.spec.yamlfile import load_text
from composer.spec.yamlscalars import MERGE_KEY, plain_scalar

CORPUS = Path(__file__).resolve().parents[1] / "data" / "reference" / "compose-corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml"))


def difference(ours: Any, theirs: Any, path: tuple[Any, ...] = ()) -> str | None:
    """Where two trees differ (values, types, order or positions), or None."""
    if type(ours) is not type(theirs):
        return f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
    if isinstance(ours, PosDict):
        for attribute in ("pos", "key_pos", "value_pos"):
            if getattr(ours, attribute) != getattr(theirs, attribute):
                return f"{path}: {attribute} {getattr(ours, attribute)} vs {getattr(theirs, attribute)}"
        if list(ours) != list(theirs):
            return f"{path}: keys {list(ours)} vs {list(theirs)}"
        children = [(key, ours[key], theirs[key]) for key in ours]
    elif isinstance(ours, PosList):
        if (ours.pos, ours.item_pos, len(ours)) != (theirs.pos, theirs.item_pos, len(theirs)):
            return f"{path}: list {ours.pos} {ours.item_pos} vs {theirs.pos} {theirs.item_pos}"
        children = [(index, a, b) for index, (a, b) in enumerate(zip(ours, theirs, strict=True))]
    elif isinstance(ours, float) and math.isnan(ours):
        return None if math.isnan(theirs) else f"{path}: nan vs {theirs!r}"
    else:
        return None if ours == theirs else f"{path}: {ours!r} vs {theirs!r}"
    for key, a, b in children:
        found = difference(a, b, (*path, key))
        if found:
            return found
    return None


def outcome(text: str) -> str:
    """"fast" (read here, identical to libyaml's tree) or "declined"; fails on a mismatch."""
    try:
        ours = blockyaml.read(text, "s.yaml")
    except blockyaml.Unsupported:
        return "declined"
    try:
        theirs = libyaml_load_text(text, "s.yaml")
    except SpecError as error:
        pytest.fail(f"read {text!r}, which libyaml rejects: {error}")
    assert difference(ours, theirs) is None, (text, difference(ours, theirs))
    return "fast"


# Every shape of line the fast lanes take (and some near them), in one file: mutated too.
FAST_SHAPES = """\
services:
  web:
    image: registry.local/app:1.0
    command: sh -c 'echo hi && sleep 1'
    environment:
      A_1: value-1
      B: ${TAG:-latest}
      C: '$$literal'
      D: null
      E: ~
      F: TRUE
      G: ''
      H: 'a b'
      I: 08
      J: .5
      K: +1
    labels:
    - com.example.index=0
    - 'quoted item'
    - 12
    volumes:
    - data:/var/lib/data
    - ./conf:/etc/app:ro
    - /tmp/cache
    ports:
    - target: 80
      published: 8080
      host_ip: 127.0.0.1
    - target: 443
    healthcheck:
      test:
      - CMD
      - true
      retries: 3
      interval: 20s
    deploy:
      resources:
        limits:
          memory: 256m
          cpus: '0.5'
    user: 1000:1000
    x-extension:
      com.example.label: "double quoted"
      a key: "8080:80"
    networks:
      front:
      back: Null
"""


def test_corpus_files_read_the_same() -> None:
    outcomes = {str(path.relative_to(CORPUS)): outcome(path.read_text(encoding="utf-8")) for path in CORPUS_FILES}
    # Most real files are plain block YAML: the fast reader must not decline them all.
    assert sum(result == "fast" for result in outcomes.values()) >= 35, outcomes


def _mutations(text: str, rng: random.Random, count: int) -> list[str]:
    """Small edits of *text*: the characters and indentations that change YAML's meaning."""
    tricky = [" ", "  ", "-", "- ", ":", ": ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "&a", "*a",
              "!", "|", ">", "?", "%", "@", "`", "\t", "\\", "<<", "0", "08", "1.5", "true", "~", "$", "\n",
              "---", "...", "\ufeff", "\x00", "é"]
    lines = text.split("\n")
    out = []
    for _ in range(count):
        edited = list(lines)
        for _ in range(rng.randint(1, 3)):
            if not edited:
                break
            index = rng.randrange(len(edited))
            line = edited[index]
            kind = rng.randrange(6)
            at = rng.randint(0, len(line))
            if kind == 0:
                edited[index] = line[:at] + rng.choice(tricky) + line[at:]
            elif kind == 1 and line:
                edited[index] = line[:at] + line[at + 1:]
            elif kind == 2:
                edited[index] = " " * rng.randint(1, 3) + line
            elif kind == 3:
                edited[index] = line.lstrip(" ")[: rng.randint(0, 2)] + line.lstrip(" ")
            elif kind == 4:
                edited.insert(index, edited[rng.randrange(len(edited))])
            else:
                del edited[index]
        out.append("\n".join(edited))
    return out


def test_the_fast_shapes_read_the_same_without_the_regular_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    assert outcome(FAST_SHAPES) == "fast"

    class NoExpression:
        def fullmatch(self, line: str) -> None:
            pytest.fail(f"{line!r} was left to the regular expression")

    monkeypatch.setattr(blockyaml, "_LINE", NoExpression())
    assert blockyaml.read(FAST_SHAPES, "s.yaml") is not None


# BLOCKYAML_MUTATIONS=1000 (mutations of each file per seed; 25 by default) for a longer run.
MUTATIONS = int(os.environ.get("BLOCKYAML_MUTATIONS", "25"))


@pytest.mark.parametrize("seed", range(4))
def test_mutated_files_read_the_same_or_are_declined(seed: int) -> None:
    rng = random.Random(seed)
    sources = [p.read_text(encoding="utf-8") for p in CORPUS_FILES] + [FAST_SHAPES]
    results = [outcome(text) for source in sources for text in _mutations(source, rng, MUTATIONS)]
    # Many edits keep the file plain block YAML: those must really be read here.
    assert results.count("fast") > len(results) // 4


CASES = [
    # (text, read here?)
    ("a: 1\nb: x # c\n# only a comment\n\nc:\n", True),
    ("---\na: 1\n", True),
    ("--- # start\na: 1\n", True),
    ("  a: 1\n  b:\n    - x\n    -   y\n", True),
    ("a:\n- 1\n- b: 2\n  c:\n  d: [x, 'y z', \"w\", 3,]\nz: {}\n", True),
    ("a: 'it''s' \nb: \"# not a comment\"\nc: http://x:80/y#z\nd: -1\ne: a:b\n", True),
    ("'q': 1\n\"r s\": 2\n", True),
    ("a: 08\nb: 017\nc: .5\nd: TRUE\ne: yes\nf: ~\ng: 1_000\n", True),
    ("a: []\nb: [ ]\nc: ['a, b', c d]\n", True),
    # Lines near the fast lanes' edges (`name: word`, `name:`, `- word`).
    ("a_b: c #d\ne: f  g\nh: i:j\nk: true\nl: x#y\nm:\n- n #o\n- 'p'\n- q r\n- s:\n- t: u\n", True),
    ("a: b:\n", False),
    ("a: b \n", True),
    ("- a\n", False),
    ("a:\n-  b\n- c:d\n- e: f: g\n", False),
    ("a: [1, [2]]\n", False),  # nested flow
    ("a: {b: 1}\n", False),  # a flow mapping with entries
    ("a: |\n  text\n", False),  # block scalar
    ("a: &x 1\nb: *x\n", False),  # anchors and aliases
    ("a: !reset\n", False),  # tags
    ("a: b\n  c\n", False),  # a plain scalar over two lines
    ("a: 'b\n  c'\n", False),  # a quoted one
    ("a: \"b\\tc\"\n", False),  # double-quoted escapes
    ("a: 1\na: 2\n", False),  # a duplicate key: libyaml's error
    ("1: a\n", False),  # a key that is not a string
    ("<<: {a: 1}\n", False),
    ("a:\tb\n", False),
    ("a: 1\r\nb: 2\r\n", False),
    ("a: b: c\n", False),
    ("- a\n- b\n", False),  # not a mapping
    ("a\n", False),
    ("a: 1\n---\nb: 2\n", False),
    ("%YAML 1.2\n---\na: 1\n", False),
    ("a:\n  b: 1\n c: 2\n", False),
    ("a:\n  - x\n  b: 1\n", False),
    ("a: 'x'#c\n", False),
    ("a :b\n", False),
    ("a: -\n", False),
    ("a:\n  -\n    b: 1\n", False),
    # In a flow sequence `?` starts a mapping entry, and `:` a value (libyaml's errors).
    ("a: [?b]\n", False),
    ("a: [x, ?b]\n", False),
    ("a: [:b]\n", False),
    ("a: [x, :b]\n", False),
    ("a: [b:?c]\n", False),
    ("a: [b c:?d]\n", False),
    ("a: [-b, b:c]\n", True),
    # The fast lanes' shapes, and lines near their edges.
    ("a:\n- b:c\n- ./d:/e:ro\n- f:g h\n- i:#j\n- 'k'\n- ''\n- 1:2\n- .5\n- +1\n- true\n- l:\n", True),
    ("a:\n- b: c\n  d: 1\n- e:\n    f: g\n-   h: i\n- j:\n  - k\n", True),
    ("a: 'b c'\nd: ''\ne: 'f#g'\nh: 'i: j'\nk: 'l''m'\nn: 'o' # p\n", True),
    ("a: 256m\nb: 20s\nc: 1000:1000\nd: 0x1F\ne: 1e3\nf: 1_000\ng: 1.\nh: +.inf\ni: .nan\nj: .x\n", True),
    ("a: null\nb: Null\nc: ~\nd: True\ne: nulls\nf: t\ng: FALSE\n", True),
    ("a: +\nb: .\nc: +.\nd: ..\ne: 1:\n", False),
    ("a: +\nb: .\nc: +.\nd: ..\ne: 1.2.3\nf: 0o8\ng: 1$x\n", True),
    ("a_b:\n  c: d\n_e: f\n", True),
    # Plain keys that are not identifiers, and double-quoted values.
    ("x-a:\n  com.example.b: c\n  d e: f\n  g,h: i\n  j#k: l\n  m:n: o\n  p-1: 'q'\n  ~r: s\n  t]: u\n", True),
    ("a:\n- x-b: c\n  d.e:\n    f: g\n", True),
    ("a: \"b c\"\nd: \"\"\ne: \"8080:80\"\nf: \"g#h\"\ni: \"j\" # k\nl:\n- \"m\"\n", True),
    ("a: \"b\"c\"\n", False),
    ("a: \"b\\\"c\"\n", False),
    ("a: \"b\n", False),
    ("a b :\n", False),
    ("a: b:\n", False),
    ("a::\n", True),  # the key `a:` (left to the regular expression)
    (":\n", False),
    ("a #b:\n", False),
    ("-a: b\n", True),
    ("?a: b\n", True),
    ("~: a\n", False),
    ("a:\n  Null: b\n", False),
    ("a: b \nc:  d\n", True),
    ("a: 1\n- e\n", False),  # a sequence item where a key was
    ("a:\n- b \n-  c\n- d  # e\n", True),
    ("a: 'b'c'\n", False),
    ("a: 'b\n", False),
    ("a: <<\n", False),
    ("a:\n- <<\n", False),
    ("a: - b\n", False),
    ("a: -\n", False),
    ("null: a\n", False),
    ("a:\n- true: b\n", False),
    ("a:\n- \n", False),
    ("a:\n-\n", False),
    ("a:\n- b: 1\n  b: 2\n", False),
    ("a:\n- b: 1\n c: 2\n", False),
    ("a:\n  - b: 1\n - c\n", False),
    ("a: 1\n---\n", False),
    ("...\na: 1\n", False),
    ("a: b\x7f\n", False),
    ("a: b\x00\n", False),
    ("a: é\nb: \u00e9t\u00e9\n\u00e9: c\n", True),
    ("a: b\u00a0c\n", False),  # a separator other than space
    ("\ufeffa: 1\n", False),
]


@pytest.mark.parametrize(("text", "fast"), CASES)
def test_cases(text: str, fast: bool) -> None:
    assert outcome(text) == ("fast" if fast else "declined")


def test_empty_and_comment_only_documents_are_none() -> None:
    for text in ("", "\n\n", "# nothing\n", "---\n"):
        assert blockyaml.read(text, "s.yaml") is None and load_text(text, "s.yaml") is None


def test_load_text_reports_libyaml_errors_for_declined_input() -> None:
    with pytest.raises(SpecError, match='duplicate key "a"'):
        load_text("a: 1\na: 2\n", "s.yaml")
    tree = load_text("a: [x, y]\n", "s.yaml")
    assert tree == {"a": ["x", "y"]} and tree.merge_tags is False


def test_plain_scalars_resolve_as_the_core_schema() -> None:
    expected = {
        "017": 15, "0o17": 15, "0x1F": 31, "+1": 1, "-0": 0, "08": 8.0, "-09": -9.0, ".5": 0.5, "1.": 1.0,
        "1e3": 1000.0, "-.inf": -math.inf, "TRUE": True, "False": False, "~": None, "null": None, "": None,
        "yes": "yes", "on": "on", "22:22": "22:22", "0x": "0x", "0b2": "0b2", "1e400": "1e400", "1_0e400": "1_0e400", "-1e4_00": "-1e4_00", "0x1.8p1": "0x1.8p1",
        # go-yaml v3 drops underscores, then parses as Go's ParseInt with base 0 (a sign before
        # 0x/0o/0b, upper-case prefixes), ParseUint, then a float (resolve.go).
        "1_000": 1000, "1_0.5": 10.5, "0_8": 8.0, "0x_1F": 31, "0b1": 1, "-0b11": -3, "+0x1F": 31, "-0x1F": -31,
        "0X1F": 31, "0O17": 15, "+0o17": 15, "0B1": 1, "9223372036854775807": 2**63 - 1,
        "18446744073709551615": 2**64 - 1, "18446744073709551616": 2.0**64, "-9223372036854775809": -(2.0**63),
        "0x" + "0" * 5000 + "1": 1, "0x" + "f" * 5000: "0x" + "f" * 5000, "1" * 5000: "1" * 5000,
    }
    for text, value in expected.items():
        resolved = plain_scalar(text)
        assert resolved == value and type(resolved) is type(value), text
    assert math.isnan(plain_scalar(".NaN")) and plain_scalar("<<") is MERGE_KEY


def test_both_readers_resolve_plain_scalars_alike() -> None:
    rng = random.Random(7)
    alphabet = "0123456789+-.eEoOxXabBf_:<~INFlun"
    words = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(3000)})
    # Not those that are not a plain scalar in block context (`-x` is, `- x` is not).
    words = [w for w in words if not w.startswith(("<<", ":")) and not w.endswith(":") and w != "-"]
    text = "".join(f"k{index}: {word}\n" for index, word in enumerate(words))
    assert outcome(text) == "fast"


INTERPOLATED = (
    "services:\n  web:\n    image: ${IMAGE:-nginx}:$TAG\n    command: ['$$HOME', \"${A}\", plain]\n"
    "    environment:\n      X: '${UNSET}'\n      Y: $$literal\n    labels:\n    - a=${A:+set}\n"
)


def test_interpolating_while_reading_gives_the_walks_tree_and_warnings() -> None:
    from composer.spec.interpolate import Interpolator, interpolate_tree

    env = {"TAG": "1", "A": "a"}
    while_reading, walking = Interpolator(env), Interpolator(env)
    ours = blockyaml.read(INTERPOLATED, "s.yaml", while_reading.substitute)
    theirs = interpolate_tree(libyaml_load_text(INTERPOLATED, "s.yaml"), walking)
    assert difference(ours, theirs) is None, difference(ours, theirs)
    assert ours is not None and ours["services"]["web"]["image"] == "nginx:1"
    assert while_reading.warnings() == walking.warnings() == [
        'The "UNSET" variable is not set. Defaulting to a blank string.']


def test_interpolation_errors_are_all_reported_with_their_key_paths(tmp_path: Path) -> None:
    from composer.spec.interpolate import Interpolator
    from composer.spec.yamlfile import load_file

    path = tmp_path / "s.yaml"
    path.write_text("services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n    user: ${BAD\n")
    with pytest.raises(SpecError) as caught:
        load_file(path, Interpolator({}))
    message = str(caught.value)
    assert "s.yaml:3:12: services.web.image: required variable IMAGE is missing a value: set IMAGE" in message
    assert "s.yaml:4:11: services.web.user" in message


@pytest.mark.parametrize(("text", "got"), [("- $X\n", "a list"), ("$X\n", "a string"), ("[$X]\n", "a list")])
def test_documents_that_are_not_mappings_are_reported_when_interpolated(tmp_path: Path, text: str, got: str) -> None:
    from composer.spec import load_project

    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=f"expected a mapping of top-level keys, got {got}"):
        load_project([path], env={"X": "1"})
