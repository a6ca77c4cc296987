"""A read-only view of config.json for the helper processes (monitor, exec helper).

`runtime.config.ContainerConfig` is the public, typed boundary the CLI builds; its
dataclasses (with `typing.Literal`) cost a helper ≈45 ms of imports (dataclasses pulls in
inspect, ast, dis, enum) under `python -I -S`, measured with -X importtime. The helpers only
read the file, so these plain `__slots__` classes mirror the attributes they use, under
the same names, and `read_config` fills them the way `ContainerConfig.from_dict` does.
"""

from __future__ import annotations

from runtime import jsonio
from runtime.security.caps import DEFAULT_CAPABILITIES
from runtime.security.paths import MASKED_PATHS, READONLY_PATHS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class UserView:
    __slots__ = ("uid", "gid", "additional_gids")

    def __init__(self, d: dict[str, Any]) -> None:
        self.uid: int = d.get("uid", 0)
        self.gid: int = d.get("gid", 0)
        self.additional_gids: tuple[int, ...] = tuple(d.get("additional_gids", ()))


class ProcessView:
    __slots__ = ("args", "env", "cwd", "user", "user_spec", "rlimits", "group_add", "terminal")

    def __init__(self, d: dict[str, Any]) -> None:
        self.args: tuple[str, ...] = tuple(d["args"])
        self.env: tuple[str, ...] = tuple(d.get("env", ()))
        self.cwd: str = d.get("cwd", "/")
        self.user = UserView(d.get("user", {}))
        self.user_spec: str | None = d.get("user_spec")
        self.rlimits: tuple[tuple[str, int, int], ...] = tuple(
            (r["type"], r["soft"], r["hard"]) for r in d.get("rlimits", ()))
        self.group_add: tuple[str, ...] = tuple(d.get("group_add", ()))
        self.terminal: bool = bool(d.get("terminal", False))


class MountView:
    __slots__ = ("destination", "type", "source", "options", "create_source")

    def __init__(self, d: dict[str, Any]) -> None:
        self.destination: str = d["destination"]
        self.type: str = d.get("type", "bind")
        self.source: str = d.get("source", "")
        self.options: tuple[str, ...] = tuple(d.get("options", ()))
        self.create_source: bool = d.get("create_source", False)


class NamespaceView:
    __slots__ = ("type", "path")

    def __init__(self, d: dict[str, Any]) -> None:
        self.type: str = d["type"]
        self.path: str | None = d.get("path")


class DeviceView:
    __slots__ = ("source", "path", "permissions")

    def __init__(self, d: dict[str, Any]) -> None:
        self.source: str = d["source"]
        self.path: str = d["path"]
        self.permissions: str = d.get("permissions", "rwm")


class RootView:
    __slots__ = ("layers", "readonly")

    def __init__(self, d: dict[str, Any]) -> None:
        self.layers: tuple[str, ...] = tuple(d["layers"])
        self.readonly: bool = d.get("readonly", False)


class SecurityView:
    __slots__ = ("capabilities", "no_new_privileges", "seccomp", "masked_paths", "readonly_paths", "privileged")

    def __init__(self, d: dict[str, Any]) -> None:
        self.capabilities: tuple[str, ...] = tuple(d.get("capabilities", DEFAULT_CAPABILITIES))
        self.no_new_privileges: bool = d.get("no_new_privileges", False)
        self.seccomp: str | dict[str, Any] = d.get("seccomp", "default")
        self.masked_paths: tuple[str, ...] = tuple(d.get("masked_paths", MASKED_PATHS))
        self.readonly_paths: tuple[str, ...] = tuple(d.get("readonly_paths", READONLY_PATHS))
        self.privileged: bool = d.get("privileged", False)


class ConfigView:
    """What the monitor and PID 1 read of a container's config.json (no resources: the
    caller creates the cgroup)."""

    __slots__ = ("id", "name", "process", "root", "hostname", "mounts", "namespaces",
                 "stop_signal", "stop_timeout", "restart", "restart_max_retries", "log_max_size",
                 "log_max_files", "healthcheck", "security", "sysctls", "devices", "init")

    def __init__(self, d: dict[str, Any]) -> None:
        self.id: str = d["id"]
        self.name: str = d["name"]
        self.process = ProcessView(d["process"])
        self.root = RootView(d["root"])
        self.hostname: str = d["hostname"]
        self.mounts = tuple(MountView(m) for m in d.get("mounts", ()))
        self.namespaces = tuple(NamespaceView(n) for n in d.get("namespaces", ()))
        self.stop_signal: str = d.get("stop_signal", "SIGTERM")
        self.stop_timeout: float = d.get("stop_timeout", 10.0)
        self.restart: str = d.get("restart", "no")
        self.restart_max_retries: int | None = d.get("restart_max_retries")
        self.security = SecurityView(d.get("security", {}))
        self.sysctls: dict[str, str] = dict(d.get("sysctls", {}))
        self.devices = tuple(DeviceView(v) for v in d.get("devices", ()))
        self.init: bool = d.get("init", False)
        log = d.get("log", {})
        self.log_max_size: int | None = log.get("max_size")
        self.log_max_files: int = log.get("max_files", 1)
        self.healthcheck: dict[str, Any] | None = d.get("healthcheck")  # read by runtime/health.py


def read_config(path: str) -> ConfigView:
    return ConfigView(jsonio.read_json(path))
