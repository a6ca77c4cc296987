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

from runtime.security.caps import DEFAULT_CAPABILITIES
from runtime.security.devices import DEFAULT_DEVICE_RULES
from runtime.security.paths import MASKED_PATHS, READONLY_PATHS

NamespaceType = Literal["pid", "mount", "uts", "ipc", "network", "cgroup"]
RestartPolicy = Literal["no", "always", "on-failure", "unless-stopped"]


@dataclass(frozen=True)
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Rlimit:
    """One process rlimit as OCI's process.rlimits; `type` like "RLIMIT_NOFILE", -1 unlimited."""

    type: str
    soft: int
    hard: int


@dataclass(frozen=True)
class Device:
    """A host device node recreated in the container (mknod with the host's major/minor,
    mode and owner, read when the container starts, as OCI's linux.devices)."""

    source: str  # on the host
    path: str  # in the container
    permissions: str = "rwm"  # devices-cgroup access; see runtime/devices.py


@dataclass(frozen=True)
class Process:
    args: tuple[str, ...]
    env: tuple[str, ...] = ()  # "KEY=value" entries, as OCI
    cwd: str = "/"
    user: User = field(default_factory=User)
    # `user` as written by the user ("nobody", "1000:1000"): resolved against the
    # image's /etc/passwd inside the container when uid/gid are not numeric.
    user_spec: str | None = None
    rlimits: tuple[Rlimit, ...] = ()
    group_add: tuple[str, ...] = ()  # group names or gids; names resolved in the container
    terminal: bool = False  # a pty as stdin, stdout and stderr (OCI process.terminal; console.py)


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
    # Not OCI: a missing bind source directory is created at container create, as Docker
    # does for `-v` binds (compose's short syntax); otherwise a missing source is an error.
    create_source: bool = False


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
    # devices-cgroup allow rules in v1 syntax ("c 1:3 rwm"); everything else is denied.
    device_rules: tuple[str, ...] = DEFAULT_DEVICE_RULES

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_rules", tuple(self.device_rules))  # a list after JSON


@dataclass(frozen=True)
class Security:
    """What confines the container's processes; after OCI's process.capabilities,
    process.noNewPrivileges, linux.seccomp, linux.maskedPaths and linux.readonlyPaths.

    `capabilities`: the one list Docker puts in the bounding, effective and permitted sets
    (inheritable and ambient stay empty). `seccomp`: "default" (Docker's profile,
    runtime/security/default.json), "unconfined", or a profile in Docker's JSON format,
    inline as `docker run --security-opt seccomp=FILE` sends it. `privileged`: what only
    Docker's privileged mode adds beyond these fields: the host's devices, /sys writable.
    """

    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    no_new_privileges: bool = False
    seccomp: str | dict[str, Any] = "default"
    masked_paths: tuple[str, ...] = MASKED_PATHS
    readonly_paths: tuple[str, ...] = READONLY_PATHS
    privileged: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Security:
        values: dict[str, Any] = dict(data)
        for key in ("capabilities", "masked_paths", "readonly_paths"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class LogConfig:
    """The json-file log's rotation (Docker's `max-size` / `max-file`); no rotation by default."""

    max_size: int | None = None  # bytes
    max_files: int = 1


@dataclass(frozen=True)
class Healthcheck:
    """Docker's HealthConfig: `test` is ("CMD", arg...) or ("CMD-SHELL", command).

    Durations in seconds; None (or 0) means Docker's default, applied by the monitor
    (runtime/health.py), so `inspect` shows only what was configured, as Docker does.
    """

    test: tuple[str, ...]
    interval: float | None = None
    timeout: float | None = None
    start_period: float | None = None
    start_interval: float | None = None
    retries: int | None = None


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
    security: Security = field(default_factory=Security)
    # Process settings: sysctls written in the container's namespaces, device nodes,
    # and `init` (tini as PID 1, like `docker run --init`).
    sysctls: dict[str, str] = field(default_factory=dict)
    devices: tuple[Device, ...] = ()
    init: bool = False
    log: LogConfig = field(default_factory=LogConfig)
    healthcheck: Healthcheck | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContainerConfig:
        process = dict(data["process"])
        process["user"] = User(**{**process["user"], "additional_gids": tuple(process["user"].get("additional_gids", ()))})
        process["args"] = tuple(process["args"])
        process["env"] = tuple(process["env"])
        process["rlimits"] = tuple(Rlimit(**r) for r in process.get("rlimits", ()))
        process["group_add"] = tuple(process.get("group_add", ()))
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
            security=Security.from_dict(data.get("security", {})),
            sysctls=dict(data.get("sysctls", {})),
            devices=tuple(Device(**d) for d in data.get("devices", ())),
            init=data.get("init", False),
            log=LogConfig(**data.get("log", {})),
            healthcheck=_healthcheck(data.get("healthcheck")),
        )


def _healthcheck(data: dict[str, Any] | None) -> Healthcheck | None:
    if data is None:
        return None
    return Healthcheck(**{**data, "test": tuple(data["test"])})
