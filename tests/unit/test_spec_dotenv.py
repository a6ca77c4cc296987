"""`.env` files: syntax, precedence under the shell, and errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project
from composer.spec.dotenv import parse_dotenv


def test_syntax_as_docker_compose_reads_it() -> None:
    text = (
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "SPACED = padded \n"
        "INLINE=kept # dropped\n"
        "HASH=a#b\n"
        "SINGLE='literal ${PLAIN} \\n'\n"
        'DOUBLE="line\\nnext \\"q\\" ${PLAIN}"\n'
        "REF=${PLAIN}-${FROM_SHELL}\n"
        "EMPTY=\n"
    )
    assert parse_dotenv(text, ".env", {"FROM_SHELL": "sh"}) == {
        "PLAIN": "value", "EXPORTED": "yes", "SPACED": "padded", "INLINE": "kept", "HASH": "a#b",
        "SINGLE": "literal ${PLAIN} \\n", "DOUBLE": 'line\nnext "q" value', "REF": "value-sh", "EMPTY": "",
    }


@pytest.mark.parametrize(("text", "message"), [
    ("JUST_A_KEY\n", '.env:1: expected KEY=VALUE, got "JUST_A_KEY"'),
    ("OK=1\n9BAD=2\n", '.env:2: expected KEY=VALUE, got "9BAD=2"'),
    ("Q='open\n", ".env:1: unterminated single quote"),
    ('Q="open\n', ".env:1: unterminated double quote"),
])
def test_bad_lines_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_dotenv(text, ".env", {})
    assert error.value.render() == message


def stack(tmp_path: Path, dotenv: str | None) -> Path:
    (tmp_path / "stack.yaml").write_text('services:\n  app: {image: "busybox:${TAG}", environment: {MODE: "${MODE:-none}"}}\n')
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return tmp_path / "stack.yaml"


def test_the_project_env_file_interpolates_and_the_shell_wins(tmp_path: Path) -> None:
    path = stack(tmp_path, "TAG=1.0\nMODE=dev\n")
    project = load_project([path], env={"MODE": "prod"})
    assert project.services["app"].image == "busybox:1.0"
    assert project.services["app"].environment == {"MODE": "prod"}
    assert str(tmp_path / ".env") in project.sources


def test_env_file_option_replaces_dotenv_and_must_exist(tmp_path: Path) -> None:
    path = stack(tmp_path, "TAG=from-dotenv\n")
    (tmp_path / "other.env").write_text("TAG=from-other\n")
    assert load_project([path], env={}, env_file=tmp_path / "other.env").services["app"].image == "busybox:from-other"
    with pytest.raises(SpecError, match="env file .*missing.env not found"):
        load_project([path], env={}, env_file=tmp_path / "missing.env")


def test_no_dotenv_is_fine_and_still_a_source(tmp_path: Path) -> None:
    project = load_project([stack(tmp_path, None)], env={"TAG": "x"})
    assert project.services["app"].image == "busybox:x"
    assert str(tmp_path / ".env") in project.sources  # so a .env appearing later is noticed


def test_service_env_files_merge_under_environment(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=1\nSHARED=from-a\n")
    (tmp_path / "b.env").write_text("SHARED=from-b\nB=${A}-b\n")
    (tmp_path / "stack.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    image: busybox\n"
        "    env_file: [a.env, b.env, {path: optional.env, required: false, x-note: extensions are allowed}]\n"
        "    environment: {B: explicit}\n"
        "  one: {image: busybox, env_file: a.env}\n"
    )
    project = load_project([tmp_path / "stack.yaml"], env={"A": "shell"})
    assert project.services["app"].environment == {"A": "1", "SHARED": "from-b", "B": "explicit"}
    assert project.services["one"].environment == {"A": "1", "SHARED": "from-a"}
    assert {str(tmp_path / n) for n in ("a.env", "b.env", "optional.env")} <= set(project.sources)
    assert not [w for w in project.warnings if "env_file" in w]


def test_a_missing_required_env_file_points_at_the_key(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text("services:\n  app:\n    image: busybox\n    env_file: nope.env\n")
    with pytest.raises(SpecError) as error:
        load_project([tmp_path / "stack.yaml"], env={})
    assert error.value.render() == (
        f"{tmp_path / 'stack.yaml'}:4:15: services.app.env_file: env file {tmp_path / 'nope.env'} not found "
        "(set `required: false` to make it optional)"
    )
