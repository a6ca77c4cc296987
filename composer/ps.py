"""`ps` rows: Docker Compose's columns and JSON keys, from runtime container states (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from composer.naming import LABEL_IMAGE_REFERENCE, LABEL_PROJECT, LABEL_SERVICE
from runtime.containers import ContainerState

if TYPE_CHECKING:
    from network import SandboxPorts

Publisher = dict[str, object]  # {"URL", "TargetPort", "PublishedPort", "Protocol"}, as Compose

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


def health_text(state: ContainerState) -> str:
    """Docker's suffix of a running container's status: " (healthy)", " (health: starting)"."""
    if state.health is None:
        return ""
    if state.health.status == "starting":
        return " (health: starting)"
    return f" ({state.health.status})"


def status_text(state: ContainerState, now: datetime) -> str:
    if state.status == "running":
        up = f"Up {human_duration(_age(state.started_at, now))}"
        return f"{up} (Paused)" if state.paused else f"{up}{health_text(state)}"  # as Docker: paused wins
    if state.status == "exited":
        return f"Exited ({state.exit_code}) {human_duration(_age(state.finished_at, now))} ago"
    return "Created"


def command_text(args: tuple[str, ...], width: int | None = 20) -> str:
    text = " ".join(args)  # as Docker: joined, not shell-quoted
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return f'"{text}"'


def publishers(state: ContainerState, ports: SandboxPorts | None) -> list[Publisher]:
    """A running container's ports as Docker Compose lists them, by target port: each host
    binding (while its proxy serves it), then each port only exposed (URL "", port 0)."""
    if ports is None or state.status != "running":
        return []
    found: list[Publisher] = []
    if ports.serving:
        found += [{"URL": p.host_ip, "TargetPort": p.target, "PublishedPort": p.host_port, "Protocol": p.protocol}
                  for p in ports.ports]
    bound = {(p["TargetPort"], p["Protocol"]) for p in found}
    for entry in ports.exposed:
        port, _, protocol = entry.partition("/")
        if (int(port), protocol) not in bound:
            found.append({"URL": "", "TargetPort": int(port), "PublishedPort": 0, "Protocol": protocol})
    return sorted(found, key=lambda p: int(str(p["TargetPort"])))


def ports_text(found: list[Publisher]) -> str:
    """Docker's DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9002/tcp"; runs of ports published
    on the same port number on one address are grouped."""
    def key(p: Publisher) -> tuple[int, str, int, str]:
        return int(str(p["TargetPort"])), str(p["URL"]), int(str(p["PublishedPort"])), str(p["Protocol"])

    groups: dict[str, list[int]] = {}  # "ip/proto" or "proto" -> [first, last]
    singles: list[str] = []
    out: list[str] = []
    for target, url, published, protocol in sorted(key(p) for p in found):
        group_key = protocol
        if url:
            if published != target:
                singles.append(f"{_host(url)}:{published}->{target}/{protocol}")
                continue
            group_key = f"{url}/{protocol}"
        group = groups.get(group_key)
        if group is not None and target == group[1] + 1:
            group[1] = target
            continue
        if group is not None:
            out.append(_port_group(group_key, *group))
        groups[group_key] = [target, target]
    out += [_port_group(k, *g) for k, g in groups.items()]
    return ", ".join(out + singles)


def _port_group(key: str, first: int, last: int) -> str:
    url, _, protocol = key.rpartition("/")
    ports = str(first) if first == last else f"{first}-{last}"
    return f"{_host(url)}:{ports}->{ports}/{protocol}" if url else f"{ports}/{protocol}"


def _host(url: str) -> str:
    return f"[{url}]" if ":" in url else url


def json_row(state: ContainerState, args: tuple[str, ...], now: datetime,
             networks: tuple[str, ...] = (), ports: list[Publisher] | None = None) -> dict[str, object]:
    labels = state.labels
    return {
        "Command": command_text(args, None),
        "CreatedAt": state.created_at,
        "ExitCode": state.exit_code if state.exit_code is not None else 0,
        "Health": state.health.status if state.health is not None else "",
        "ID": state.id,
        "Image": labels.get(LABEL_IMAGE_REFERENCE, ""),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "LocalVolumes": "0",
        "Mounts": "",
        "Name": state.name,
        "Names": state.name,
        "Networks": ",".join(networks),
        "OOMKilled": state.oom_killed,
        "Ports": ports_text(ports or []),
        "Project": labels.get(LABEL_PROJECT, ""),
        "Publishers": ports or [],
        "RunningFor": f"{human_duration(_age(state.created_at, now))} ago",
        "Service": labels.get(LABEL_SERVICE, ""),
        "Size": "0B",
        "State": "paused" if state.paused else state.status,
        "Status": status_text(state, now),
    }


def table_row(state: ContainerState, args: tuple[str, ...], now: datetime,
              ports: list[Publisher] | None = None) -> tuple[str, ...]:
    return (
        state.name,
        state.labels.get(LABEL_IMAGE_REFERENCE, ""),
        command_text(args),
        state.labels.get(LABEL_SERVICE, ""),
        f"{human_duration(_age(state.created_at, now))} ago",
        status_text(state, now),
        ports_text(ports or []),
    )


def render_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [columns, *rows]) for i in range(len(columns))]
    lines = ["   ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in [columns, *rows]]
    return "\n".join(lines)


def utcnow() -> datetime:
    return datetime.now(UTC)
