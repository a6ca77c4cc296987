"""`ps` rows: Docker Compose's columns and JSON keys, from runtime container states (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from composer.naming import LABEL_IMAGE_REFERENCE, LABEL_PROJECT, LABEL_SERVICE
from runtime.containers import ContainerState

TABLE_COLUMNS = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")


def human_duration(seconds: float) -> str:
    """go-units HumanDuration, which `docker ps` uses ("Up 5 seconds", "About a minute")."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = round(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def _age(timestamp: str | None, now: datetime) -> float:
    if not timestamp:
        return 0.0
    return max(0.0, (now - datetime.fromisoformat(timestamp.replace("Z", "+00:00"))).total_seconds())


def status_text(state: ContainerState, now: datetime) -> str:
    if state.status == "running":
        up = f"Up {human_duration(_age(state.started_at, now))}"
        return f"{up} (Paused)" if state.paused else up
    if state.status == "exited":
        return f"Exited ({state.exit_code}) {human_duration(_age(state.finished_at, now))} ago"
    return "Created"


def command_text(args: tuple[str, ...], width: int | None = 20) -> str:
    text = " ".join(args)  # as Docker: joined, not shell-quoted
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return f'"{text}"'


def json_row(state: ContainerState, args: tuple[str, ...], now: datetime,
             networks: tuple[str, ...] = ()) -> dict[str, object]:
    labels = state.labels
    return {
        "Command": command_text(args, None),
        "CreatedAt": state.created_at,
        "ExitCode": state.exit_code if state.exit_code is not None else 0,
        "Health": "",
        "ID": state.id,
        "Image": labels.get(LABEL_IMAGE_REFERENCE, ""),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "LocalVolumes": "0",
        "Mounts": "",
        "Name": state.name,
        "Names": state.name,
        "Networks": ",".join(networks),
        "OOMKilled": state.oom_killed,
        "Ports": "",
        "Project": labels.get(LABEL_PROJECT, ""),
        "Publishers": [],
        "RunningFor": f"{human_duration(_age(state.created_at, now))} ago",
        "Service": labels.get(LABEL_SERVICE, ""),
        "Size": "0B",
        "State": "paused" if state.paused else state.status,
        "Status": status_text(state, now),
    }


def table_row(state: ContainerState, args: tuple[str, ...], now: datetime) -> tuple[str, ...]:
    return (
        state.name,
        state.labels.get(LABEL_IMAGE_REFERENCE, ""),
        command_text(args),
        state.labels.get(LABEL_SERVICE, ""),
        f"{human_duration(_age(state.created_at, now))} ago",
        status_text(state, now),
        "",
    )


def render_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    lines = ["   ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in [columns, *rows]]
    return "\n".join(lines)


def utcnow() -> datetime:
    return datetime.now(UTC)
