"""`ps` output shapes: Docker's status texts and Compose's JSON keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from composer.ps import command_text, human_duration, json_row, render_table, status_text
from runtime.containers import ContainerState

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def state(status: str, exit_code: int | None = None, started: float = 5, finished: float = 3) -> ContainerState:
    at = lambda seconds: (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")  # noqa: E731
    return ContainerState(
        id="abc", name="demo-web-1", status=status, pid=None, monitor_pid=None, exit_code=exit_code,
        oom_killed=exit_code == 137, created_at=at(60), started_at=at(started), finished_at=at(finished),
        labels={"com.docker.compose.project": "demo", "com.docker.compose.service": "web",
                "io.pycompose.image": "busybox"},
    )


def test_human_durations_match_docker() -> None:
    assert [human_duration(s) for s in (0.2, 1, 5, 59, 60, 150, 3600, 7200, 86400 * 3, 86400 * 20)] == [
        "Less than a second", "1 second", "5 seconds", "59 seconds", "About a minute", "2 minutes",
        "About an hour", "2 hours", "3 days", "2 weeks",
    ]


def test_status_texts() -> None:
    assert status_text(state("running"), NOW) == "Up 5 seconds"
    assert status_text(state("exited", 137), NOW) == "Exited (137) 3 seconds ago"
    assert status_text(state("created"), NOW) == "Created"


def test_json_row_has_compose_keys() -> None:
    row = json_row(state("exited", 137), ("sh", "-c", "sleep 1"), NOW, ("demo_default",))
    assert {k: row[k] for k in ("Name", "Service", "Project", "State", "ExitCode", "Image", "Networks")} == {
        "Name": "demo-web-1", "Service": "web", "Project": "demo", "State": "exited", "ExitCode": 137,
        "Image": "busybox", "Networks": "demo_default",
    }
    assert row["OOMKilled"] is True and row["Command"] == '"sh -c sleep 1"'


def test_command_is_truncated_like_docker_ps() -> None:
    assert command_text(("sh", "-c", "trap 'exit 0' TERM; sleep 3600")) == "\"sh -c trap 'exit 0'…\""


def test_table_aligns_columns() -> None:
    assert render_table(("A", "LONGER"), [("xx", "y")]) == "A    LONGER\nxx   y"


def test_a_paused_container_shows_as_docker_shows_it() -> None:
    from dataclasses import replace

    paused = replace(state("running"), paused=True)
    assert status_text(paused, NOW) == "Up 5 seconds (Paused)"
    assert json_row(paused, ("sh",), NOW)["State"] == "paused"


def test_running_status_shows_health_as_docker_does() -> None:
    import dataclasses

    from runtime.state import Health

    for status, suffix in (("starting", " (health: starting)"), ("healthy", " (healthy)"),
                           ("unhealthy", " (unhealthy)")):
        with_health = dataclasses.replace(state("running"), health=Health(status, 0, ()))
        assert status_text(with_health, NOW) == f"Up 5 seconds{suffix}"
        assert json_row(with_health, ("true",), NOW)["Health"] == status
    assert json_row(state("running"), ("true",), NOW)["Health"] == ""
    exited = dataclasses.replace(state("exited", 0), health=Health("healthy", 0, ()))
    assert status_text(exited, NOW) == "Exited (0) 3 seconds ago"  # no health once it is not running
