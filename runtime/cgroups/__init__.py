"""cgroups behind one interface: `detect()` picks the v1 or v2 driver once.

driver = detect()
cg = driver.create("pycompose", container_id, resources)
cg.add_process(pid)          # or, in the child: write "0" into each of cg.procs_files()
...
cg.remove()                  # kills what is left, removes the cgroup and an empty parent
"""

from runtime.cgroups.base import Cgroup, CgroupDriver, CgroupFS
from runtime.cgroups.detect import detect
from runtime.cgroups.v1 import V1Cgroup, V1Driver
from runtime.cgroups.v2 import V2Cgroup, V2Driver

__all__ = [
    "Cgroup",
    "CgroupDriver",
    "CgroupFS",
    "V1Cgroup",
    "V1Driver",
    "V2Cgroup",
    "V2Driver",
    "detect",
]
