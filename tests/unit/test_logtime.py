"""`logs --since/--until` parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from composer.errors import PycomposeError
from composer.logtime import parse_log_time

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-05-01T10:00:00Z", "2026-05-01T10:00:00.000000000Z"),
    ("2026-05-01T10:00:00.25+02:00", "2026-05-01T08:00:00.250000000Z"),
    ("1777629600", "2026-05-01T10:00:00.000000000Z"),
    ("1777629600.5", "2026-05-01T10:00:00.500000000Z"),
    ("10m", "2026-05-01T11:50:00.000000000Z"),
    ("1h30m", "2026-05-01T10:30:00.000000000Z"),
    ("1.5h", "2026-05-01T10:30:00.000000000Z"),
    ("90s", "2026-05-01T11:58:30.000000000Z"),
])
def test_values_docker_accepts(value: str, expected: str) -> None:
    assert parse_log_time("--since", value, NOW) == expected


def test_a_time_without_zone_is_local() -> None:
    local = datetime(2026, 5, 1, 10, 0, 0).astimezone()
    assert parse_log_time("--until", "2026-05-01T10:00:00", NOW) == \
        local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


@pytest.mark.parametrize("value", ["yesterday", "10x", "", "1h-5m"])
def test_unreadable_values_name_the_flag(value: str) -> None:
    with pytest.raises(PycomposeError, match='--since: cannot read'):
        parse_log_time("--since", value, NOW)
