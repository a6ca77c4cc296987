"""Create-time checks of the process settings (rlimits, sysctls, devices, init).

Whatever the container could only fail on at start is refused here instead, with one
message naming the container and the setting, before anything is made on the host.
"""

from __future__ import annotations

from runtime import devices, limits, sysctls, tini
from runtime.config import ContainerConfig
from runtime.errors import ContainerError


def check_process_settings(config: ContainerConfig) -> None:
    problems = limits.current_problems(config.process.rlimits)
    types = [ns.type for ns in config.namespaces]
    problems += [p for key in config.sysctls if (p := sysctls.sysctl_problem(key, types))]
    if problems:
        raise ContainerError(f"container {config.name}: {'; '.join(problems)}")
    try:
        devices.check_devices(config.devices)
        if config.init:
            tini.find_init()
    except ContainerError as e:
        raise ContainerError(f"container {config.name}: {e}") from e
