"""OCI-shaped container configuration: the boundary between composer and runtime.

Shaped after the OCI runtime spec's config.json (process, root, mounts, namespaces,
linux.resources) so the same bundle could be run by crun/runc for comparison.
Everything here is plain data and round-trips through JSON (`to_dict`/`from_dict`),
because the CLI hands it to the per-container monitor process as a file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

NamespaceType = Literal["pid", "mount", "uts", "ipc", "network", "cgroup"]
RestartPolicy = Literal["no", "always", "on-failure", "unless-stopped"]


@dataclass(frozen=True)
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Process:
    args: tuple[str, ...]
    env: tuple[str, ...] = ()  # "KEY=value" entries, as OCI
    cwd: str = "/"
    user: User = field(default_factory=User)
    # `user` as written by the user ("nobody", "1000:1000"): resolved against the
    # image's /etc/passwd inside the container when uid/gid are not numeric.
    user_spec: str | None = None


@dataclass(frozen=True)
class Root:
    """The image layers, read-only, lowest last (overlayfs lowerdir order: top first)."""

    layers: tuple[str, ...]
    readonly: bool = False


@dataclass(frozen=True)
class Mount:
    destination: str
    type: str = "bind"  # "bind", "tmpfs", ...
    source: str = ""
    options: tuple[str, ...] = ()  # e.g. ("rbind", "ro")


@dataclass(frozen=True)
class Namespace:
    type: NamespaceType
    path: str | None = None  # join this namespace instead of creating a new one


@dataclass(frozen=True)
class Resources:
    memory_limit: int | None = None  # bytes
    cpu_quota: int | None = None  # microseconds per period
    cpu_period: int = 100_000  # microseconds
    pids_limit: int | None = None
    # Docker's semantics: memory + swap in bytes, -1 = unlimited swap; None = no swap at all
    # when memory_limit is set (composer passes Docker's default of twice the memory).
    memory_swap: int | None = None
    memory_reservation: int | None = None  # soft limit (v1 soft_limit_in_bytes, v2 memory.low)
    cpu_shares: int | None = None  # relative weight, v1 scale (2..262144, default 1024)
    cpuset_cpus: str | None = None  # e.g. "0-1,3"
    oom_kill_disable: bool = False


@dataclass(frozen=True)
class LogConfig:
    """The json-file log's rotation (Docker's `max-size` / `max-file`); no rotation by default."""

    max_size: int | None = None  # bytes
    max_files: int = 1


@dataclass(frozen=True)
class ContainerConfig:
    """Everything needed to create and run one container.

    `id` is unique on the host and also used as its directory and cgroup name.
    `name` is what users see (`<project>-<service>-1`).
    `labels` are opaque to the runtime; composer uses them to find its containers.
    """

    id: str
    name: str
    process: Process
    root: Root
    hostname: str
    mounts: tuple[Mount, ...] = ()
    namespaces: tuple[Namespace, ...] = (
        Namespace("pid"),
        Namespace("mount"),
        Namespace("uts"),
        Namespace("ipc"),
        Namespace("network"),
    )
    resources: Resources = field(default_factory=Resources)
    stop_signal: str = "SIGTERM"
    stop_timeout: float = 10.0  # seconds before SIGKILL
    restart: RestartPolicy = "no"
    restart_max_retries: int | None = None  # on-failure:N (Docker's MaximumRetryCount); None = no limit
    labels: dict[str, str] = field(default_factory=dict)
    log: LogConfig = field(default_factory=LogConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerConfig:
        process = dict(data["process"])
        process["user"] = User(**{**process["user"], "additional_gids": tuple(process["user"].get("additional_gids", ()))})
        process["args"] = tuple(process["args"])
        process["env"] = tuple(process["env"])
        return cls(
            id=data["id"],
            name=data["name"],
            process=Process(**process),
            root=Root(layers=tuple(data["root"]["layers"]), readonly=data["root"].get("readonly", False)),
            hostname=data["hostname"],
            mounts=tuple(Mount(**{**m, "options": tuple(m.get("options", ()))}) for m in data.get("mounts", ())),
            namespaces=tuple(Namespace(**n) for n in data.get("namespaces", ())),
            resources=Resources(**data.get("resources", {})),
            stop_signal=data.get("stop_signal", "SIGTERM"),
            stop_timeout=data.get("stop_timeout", 10.0),
            restart=data.get("restart", "no"),
            restart_max_retries=data.get("restart_max_retries"),
            labels=dict(data.get("labels", {})),
            log=LogConfig(**data.get("log", {})),
        )
