"""Which stack files a command reads: -f, COMPOSE_FILE, or the defaults of the directory."""

from __future__ import annotations

from pathlib import Path

from composer.inputs import stack_inputs_from


def _files(tmp_path: Path, files: list[Path], environ: dict[str, str]) -> tuple[str, ...]:
    inputs = stack_inputs_from(files, None, None, (), None, environ, tmp_path)
    assert inputs is not None
    return inputs.files


def test_compose_file_is_read_when_no_file_is_given(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    assert _files(tmp_path, [], {}) == (str(tmp_path / "compose.yaml"),)
    env = {"COMPOSE_FILE": "a.yaml:/abs/b.yaml"}
    assert _files(tmp_path, [], env) == (str(tmp_path / "a.yaml"), "/abs/b.yaml")
    assert _files(tmp_path, [], {"COMPOSE_FILE": "a.yaml;b.yaml", "COMPOSE_PATH_SEPARATOR": ";"}) == (
        str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert _files(tmp_path, [Path("c.yaml")], env) == (str(tmp_path / "c.yaml"),)  # -f wins
