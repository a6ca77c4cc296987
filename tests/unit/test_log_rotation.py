"""json-file log rotation (Docker's max-size / max-file) and reading across rotated files."""

from __future__ import annotations

import threading
from pathlib import Path

from runtime.jsonlog import LogWriter, rotated_paths
from runtime.logs import follow_log, read_log


def _write(writer: LogWriter, first: int, count: int) -> None:
    for i in range(first, first + count):
        writer.write("stdout", [f"line {i:04d}\n"])


def test_no_rotation_without_max_size(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    writer = LogWriter(str(log))
    _write(writer, 0, 200)
    writer.close()
    assert rotated_paths(str(log)) == []
    assert len(read_log(log)) == 200


def test_rotation_keeps_max_files_and_each_under_max_size(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    writer = LogWriter(str(log), max_size=1000, max_files=3)
    _write(writer, 0, 200)
    writer.close()
    files = [*rotated_paths(str(log)), str(log)]
    assert [Path(f).name for f in files] == ["c.log.2", "c.log.1", "c.log"]
    assert all(Path(f).stat().st_size <= 1000 for f in files)
    lines = [r.line for r in read_log(log)]
    # The newest records survive, in order, with nothing missing between them.
    assert lines[-1] == "line 0199\n"
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], 200)) and numbers[0] > 0
    assert read_log(log, tail=3) == read_log(log)[-3:]


def test_max_files_one_drops_old_records(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    writer = LogWriter(str(log), max_size=500, max_files=1)
    _write(writer, 0, 100)
    writer.close()
    assert rotated_paths(str(log)) == []
    assert log.stat().st_size <= 500
    assert read_log(log)[-1].line == "line 0099\n"


def test_rotated_paths_ignores_other_files(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    for name in ("c.log", "c.log.1", "c.log.10", "c.log.tmp", "c.logx.2"):
        (tmp_path / name).write_text("")
    assert [Path(p).name for p in rotated_paths(str(log))] == ["c.log.10", "c.log.1"]


def test_follow_survives_rotation_and_misses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    writer = LogWriter(str(log), max_size=600, max_files=20)  # enough files: nothing is dropped
    _write(writer, 0, 5)
    done = threading.Event()

    def produce() -> None:
        _write(writer, 5, 45)  # several rotations while the reader follows
        writer.close()
        done.set()

    reader = follow_log(log, lambda: not done.is_set())
    first = next(reader)
    threading.Thread(target=produce).start()
    lines = [first.line, *(r.line for r in reader)]
    assert len(rotated_paths(str(log))) >= 4
    assert [int(line.split()[1]) for line in lines] == list(range(50))


def test_one_batch_larger_than_max_size_is_rotated_record_by_record(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    writer = LogWriter(str(log), max_size=1000, max_files=50)
    writer.write("stdout", [f"line {i:04d}\n" for i in range(100)])  # ~6 KB in one call
    writer.close()
    files = [*rotated_paths(str(log)), str(log)]
    assert len(files) > 5 and all(Path(f).stat().st_size <= 1000 for f in files)
    assert [r.line for r in read_log(log)] == [f"line {i:04d}\n" for i in range(100)]
