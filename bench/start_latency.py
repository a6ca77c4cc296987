"""Container start latency: create → start → exit of /bin/true, ours next to `crun run`.

Both run the same busybox root filesystem with new pid, mount, uts, ipc and network
namespaces. Ours goes through the runtime API (the monitor process, overlayfs, cgroup);
crun runs an OCI bundle made by `crun spec` (no overlay: a plain rootfs directory).
Run as root:  python bench/start_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
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

from runtime.config import ContainerConfig, Process, Root  # noqa: E402
from runtime.containers import ContainerStore  # noqa: E402
from runtime.images import ImageStore  # noqa: E402


def busybox_tar(work: Path) -> Path:
    tar = work / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    return tar


def ours(work: Path, tar: Path, runs: int) -> list[float]:
    data, run = work / "data", work / "run"
    parent = f"pycompose-bench-{uuid.uuid4().hex[:6]}"
    image = ImageStore(data).import_tar(tar, "busybox")
    layers = ImageStore(data).layer_dirs(image)
    store = ContainerStore(data, run, parent)
    times = []
    for i in range(runs + 1):
        cid = f"bench{i:04d}{uuid.uuid4().hex[:8]}"
        config = ContainerConfig(id=cid, name=cid, process=Process(args=("/bin/true",)), root=Root(layers), hostname="b")
        began = time.perf_counter()
        store.create(config)
        store.start(cid)
        if store.wait(cid, timeout=10).status != "exited":
            raise SystemExit(f"container {cid} did not exit within 10 s")
        elapsed = time.perf_counter() - began
        store.remove(cid)
        if i:  # the first run warms caches
            times.append(elapsed)
    return times


def crun(work: Path, tar: Path, runs: int) -> list[float]:
    bundle = work / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run(["tar", "-C", str(bundle / "rootfs"), "-xf", str(tar)], check=True)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    (bundle / "config.json").write_text(json.dumps(config))
    times = []
    for i in range(runs + 1):
        name = f"pcbench-{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        subprocess.run(["crun", "run", "--bundle", str(bundle), name], check=True)
        elapsed = time.perf_counter() - began
        if i:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pycompose-bench-"))
    try:
        tar = busybox_tar(work)
        results = {"pycompose runtime": ours(work, tar, args.runs)}
        if shutil.which("crun"):
            results["crun run"] = crun(work, tar, args.runs)
        print(f"{'runtime':<20} {'median ms':>10} {'p90 ms':>8}")
        for name, times in results.items():
            ms = sorted(t * 1000 for t in times)
            print(f"{name:<20} {statistics.median(ms):>10.1f} {ms[int(len(ms) * 0.9) - 1]:>8.1f}")
        if "crun run" in results:
            ratio = statistics.median(results["pycompose runtime"]) / statistics.median(results["crun run"])
            print(f"ratio pycompose/crun: {ratio:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
