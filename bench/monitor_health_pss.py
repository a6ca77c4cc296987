"""The monitor's memory (PSS) without and with a healthcheck, next to podman's conmon.

A container with a healthcheck makes its monitor import runtime/health.py (and the exec
machinery it reuses) and fork a probe every interval; one without must cost what it did
before healthchecks existed. Runs N sleeping busybox containers of each kind through the
runtime API, lets the probes run a few rounds, then reads /proc/<monitor>/smaps_rollup.
Run as root:  python bench/monitor_health_pss.py [--containers 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.config import ContainerConfig, Healthcheck, Process, Root  # noqa: E402
from runtime.containers import ContainerStore  # noqa: E402
from runtime.images import ImageStore  # noqa: E402

SLEEP = ("sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait")
CHECK = Healthcheck(test=("CMD-SHELL", "test -d /proc"), interval=0.2)


def pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def measure(work: Path, count: int) -> dict[str, list[int]]:
    data, run = work / "data", work / "run"
    tar = work / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    images = ImageStore(data)
    layers = images.layer_dirs(images.import_tar(tar, "busybox"))
    store = ContainerStore(data, run, f"pycompose-bench-{uuid.uuid4().hex[:6]}")
    made: dict[str, list[str]] = {"no healthcheck": [], "healthcheck": []}
    try:
        for kind, check in (("no healthcheck", None), ("healthcheck", CHECK)):
            for i in range(count):
                cid = f"pss{i}{uuid.uuid4().hex[:8]}"
                store.create(ContainerConfig(id=cid, name=cid, process=Process(args=SLEEP), root=Root(layers),
                                             hostname="b", healthcheck=check))
                store.start(cid)
                made[kind].append(cid)
        time.sleep(3)  # ~15 probe rounds
        out = {}
        for kind, ids in made.items():
            out[kind] = [pss_kib(pid) for pid in (store.state(c).monitor_pid for c in ids) if pid]
        health = [store.state(c).health for c in made["healthcheck"]]
        assert all(h is not None and h.status == "healthy" for h in health), health
        return out
    finally:
        for ids in made.values():
            for cid in ids:
                store.remove(cid, force=True)


def conmon_pss() -> list[int]:
    pids = subprocess.run(["pgrep", "-x", "conmon"], capture_output=True, text=True).stdout.split()
    return [pss_kib(int(p)) for p in pids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--containers", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pycompose-bench-"))
    try:
        results = measure(work, args.containers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if conmons := conmon_pss():
        results["podman conmon (running now)"] = conmons
    for kind, values in results.items():
        print(f"{kind:<28} monitor PSS median {statistics.median(values) / 1024:.2f} MB (n={len(values)})")


if __name__ == "__main__":
    main()
