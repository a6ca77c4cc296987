"""`pycompose inspect`: containers as `docker inspect` shows them, limited to what we know.

`document` is pure (state + config + network attachments → one JSON object); fields the
runtime does not track are left out rather than filled with made-up values. Not shown
yet: Config.Cmd/Entrypoint (the container keeps only the resolved argv: `Path`/`Args`),
and network IDs (our networks have none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from composer.engine import Engine
from composer.errors import PycomposeError
from composer.naming import LABEL_IMAGE, LABEL_IMAGE_REFERENCE, LABEL_SERVICE
from composer.observe import project_containers
from network import Attachment
from runtime.config import ContainerConfig, Healthcheck
from runtime.containers import ContainerState

ZERO_TIME = "0001-01-01T00:00:00Z"  # Docker's value for a time that never happened
NANOS = 1_000_000_000


def document(state: ContainerState, config: ContainerConfig, attachments: Sequence[Attachment]) -> dict[str, Any]:
    labels = config.labels
    return {
        "Id": state.id,
        "Created": state.created_at,
        "Path": config.process.args[0],
        "Args": list(config.process.args[1:]),
        "State": _state(state),
        "Image": labels.get(LABEL_IMAGE, ""),
        "Name": f"/{state.name}",
        "RestartCount": state.restart_count,
        "HostConfig": _host_config(config),
        "Config": _config(config),
        "NetworkSettings": {"Networks": {a.network: _endpoint(a, state.name, labels.get(LABEL_SERVICE))
                                         for a in attachments}},
    }


def _state(state: ContainerState) -> dict[str, Any]:
    restarting = state.status == "exited" and state.monitor_pid is not None  # in the policy's back-off
    out: dict[str, Any] = {
        "Status": "restarting" if restarting else state.status,
        "Running": state.status == "running",
        "Paused": str(state.status) == "paused",
        "Restarting": restarting,
        "OOMKilled": state.oom_killed,
        "Dead": False,
        "Pid": state.pid or 0,
        "ExitCode": state.exit_code or 0,
        "Error": state.error or "",
        "StartedAt": state.started_at or ZERO_TIME,
        "FinishedAt": state.finished_at or ZERO_TIME,
    }
    if state.health is not None:
        out["Health"] = {
            "Status": state.health.status,
            "FailingStreak": state.health.failing_streak,
            "Log": [{"Start": r.start, "End": r.end, "ExitCode": r.exit_code, "Output": r.output}
                    for r in state.health.log],
        }
    return out


def _config(config: ContainerConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Hostname": config.hostname,
        "User": config.process.user_spec or "",
        "Env": list(config.process.env),
        "Image": config.labels.get(LABEL_IMAGE_REFERENCE, ""),
        "WorkingDir": config.process.cwd,
        "Labels": dict(sorted(config.labels.items())),
        "StopSignal": config.stop_signal,
        "StopTimeout": config.stop_timeout,
    }
    if config.healthcheck is not None:
        out["Healthcheck"] = healthcheck(config.healthcheck)
    return out


def healthcheck(check: Healthcheck) -> dict[str, Any]:
    """Docker's HealthConfig: durations in nanoseconds, only the fields that were set."""
    out: dict[str, Any] = {"Test": list(check.test)}
    for key, seconds in (("Interval", check.interval), ("Timeout", check.timeout),
                         ("StartPeriod", check.start_period), ("StartInterval", check.start_interval)):
        if seconds:
            out[key] = round(seconds * NANOS)
    if check.retries:
        out["Retries"] = check.retries
    return out


def _host_config(config: ContainerConfig) -> dict[str, Any]:
    resources = config.resources
    nano_cpus = round(resources.cpu_quota * NANOS / resources.cpu_period) if resources.cpu_quota else 0
    return {
        "RestartPolicy": {"Name": config.restart, "MaximumRetryCount": config.restart_max_retries or 0},
        "Memory": resources.memory_limit or 0,
        "NanoCpus": nano_cpus,
        "PidsLimit": resources.pids_limit,
    }


def _endpoint(attachment: Attachment, name: str, service: str | None) -> dict[str, Any]:
    return {
        "IPAddress": attachment.address,
        "IPPrefixLen": attachment.prefixlen,
        "Gateway": attachment.gateway,
        "MacAddress": attachment.mac,
        "Aliases": [name, service] if service else [name],  # what the hosts files resolve
    }


def resolve(engine: Engine, project: str, names: Sequence[str]) -> list[str]:
    """Container ids for service names of `project`, then container names or id prefixes."""
    mine = project_containers(engine, project, include_oneoff=True)
    everything = engine.containers.list()
    ids: list[str] = []
    for name in names:
        found = [s.id for s in mine if s.labels.get(LABEL_SERVICE) == name]
        found = found or [s.id for s in everything if s.name == name]
        found = found or [s.id for s in everything if s.id.startswith(name)]
        if not found:
            raise PycomposeError(f"no such service or container: {name}")
        if len(found) > 1 and not any(s.labels.get(LABEL_SERVICE) == name for s in mine):
            raise PycomposeError(f'"{name}" matches {len(found)} containers', hint="give more of the id")
        ids.extend(i for i in found if i not in ids)
    return ids


def inspect(engine: Engine, project: str, names: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for cid in resolve(engine, project, names):
        sandbox = engine.networks.get_sandbox(cid)
        out.append(document(engine.containers.state(cid), engine.containers.config(cid),
                            sandbox.attachments if sandbox else ()))
    return out
