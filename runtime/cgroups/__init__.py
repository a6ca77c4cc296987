"""cgroups behind one interface: `detect()` picks the v1 or v2 driver once.

driver = detect()
cg = driver.create("pycompose", container_id, resources)
cg.add_process(pid)          # or, in the child: write "0" into each of cg.procs_files()
...
cg.remove()                  # kills what is left, removes the cgroup and an empty parent

No submodule is named like an exported name: importing a submodule sets it as an
attribute of this package, which would shadow the name for other threads (a module
`detect` once replaced the function `detect` under a parallel `up`).

The names are loaded on first use (PEP 562): the monitor imports only
`runtime.cgroups.joined`, and importing a submodule runs this file first; the drivers
(pathlib, dataclasses via runtime.config) would add ≈40 ms to every container start.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.cgroups.base import Cgroup, CgroupDriver, CgroupFS
    from runtime.cgroups.detection import detect
    from runtime.cgroups.v1 import V1Cgroup, V1Driver
    from runtime.cgroups.v2 import V2Cgroup, V2Driver

_WHERE = {
    "Cgroup": "base", "CgroupDriver": "base", "CgroupFS": "base", "detect": "detection",
    "V1Cgroup": "v1", "V1Driver": "v1", "V2Cgroup": "v2", "V2Driver": "v2",
}
__all__ = ["Cgroup", "CgroupDriver", "CgroupFS", "V1Cgroup", "V1Driver", "V2Cgroup", "V2Driver", "detect"]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value
