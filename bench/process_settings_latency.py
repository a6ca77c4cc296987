"""What the process settings cost at start: create → start → exit of /bin/true with
read_only, a tmpfs, a sized /dev/shm, an rlimit, a sysctl, a device, a supplementary group
and `init` (tini as PID 1), next to the same container without them, and next to
`crun run` on OCI bundles configured the same two ways (readonly root, mounts, rlimits,
linux.sysctl, linux.devices, additionalGids, tini bind-mounted and run with `--`).
Run as root:  python bench/process_settings_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
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

from bench.start_latency import busybox_tar  # noqa: E402
from runtime.config import ContainerConfig, Device, Mount, Process, Rlimit, Root, User  # noqa: E402
from runtime.containers import ContainerStore  # noqa: E402
from runtime.images import ImageStore  # noqa: E402
from runtime.tini import INIT_PATH, find_init  # noqa: E402

SYSCTL = {"net.ipv4.ip_unprivileged_port_start": "80"}


def our_config(cid: str, layers: tuple[str, ...], settings: bool) -> ContainerConfig:
    if not settings:
        return ContainerConfig(id=cid, name=cid, process=Process(args=("/bin/true",)), root=Root(layers), hostname="b")
    return ContainerConfig(
        id=cid, name=cid, hostname="b", root=Root(layers, readonly=True),
        process=Process(args=("/bin/true",), user=User(0, 0, (33,)), rlimits=(Rlimit("RLIMIT_NOFILE", 512, 1024),)),
        mounts=(Mount("/run", "tmpfs", "tmpfs", ("noexec", "nosuid", "nodev")),
                Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", "size=16m"))),
        sysctls=SYSCTL, devices=(Device("/dev/zero", "/dev/myzero"),), init=True,
    )


def ours(work: Path, tar: Path, runs: int) -> dict[str, list[float]]:
    """Plain and with settings, interleaved so that the machine's load hits both alike."""
    data, run = work / "data", work / "run"
    parent = f"pycompose-bench-{uuid.uuid4().hex[:6]}"
    images = ImageStore(data)
    layers = tuple(images.layer_dirs(images.import_tar(tar, "busybox")))
    store = ContainerStore(data, run, parent)
    times: dict[str, list[float]] = {"pycompose plain": [], "pycompose settings": []}
    for i in range(runs + 1):
        for name in times:
            cid = f"bench{i:04d}{uuid.uuid4().hex[:8]}"
            began = time.perf_counter()
            store.create(our_config(cid, layers, name.endswith("settings")))
            store.start(cid)
            state = store.wait(cid, timeout=10)
            if state.status != "exited" or state.exit_code != 0:
                raise SystemExit(f"container {cid}: {state.status} {state.exit_code} {state.error}")
            elapsed = time.perf_counter() - began
            store.remove(cid)
            if i:  # the first round warms caches
                times[name].append(elapsed)
    return times


def crun_bundle(work: Path, tar: Path, settings: bool) -> Path:
    bundle = work / ("bundle-settings" if settings else "bundle")
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run(["tar", "-C", str(bundle / "rootfs"), "-xf", str(tar)], check=True)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    if settings:
        zero = os.stat("/dev/zero").st_rdev
        config["root"]["readonly"] = True
        config["process"]["args"] = [INIT_PATH, "--", "/bin/true"]
        config["process"]["user"]["additionalGids"] = [33]
        config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}]
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/dev/shm"] + [
            {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "nosuid", "nodev"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=16m"]},
            {"destination": INIT_PATH, "type": "bind", "source": find_init(), "options": ["bind", "ro"]},
        ]
        config["linux"]["sysctl"] = SYSCTL
        config["linux"]["devices"] = [{"path": "/dev/myzero", "type": "c", "major": os.major(zero),
                                       "minor": os.minor(zero), "fileMode": 0o666, "uid": 0, "gid": 0}]
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "user"]
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def crun(work: Path, tar: Path, runs: int) -> dict[str, list[float]]:
    bundles = {f"crun {kind}": crun_bundle(work, tar, kind == "settings") for kind in ("plain", "settings")}
    times: dict[str, list[float]] = {name: [] for name in bundles}
    for i in range(runs + 1):
        for name, bundle in bundles.items():
            began = time.perf_counter()
            subprocess.run(["crun", "run", "--bundle", str(bundle), f"pcbench-{uuid.uuid4().hex[:8]}"], check=True)
            elapsed = time.perf_counter() - began
            if i:
                times[name].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pycompose-bench-"))
    try:
        tar = busybox_tar(work)
        results = ours(work, tar, args.runs)
        if shutil.which("crun"):
            results |= crun(work, tar, args.runs)
        print(f"{'runtime':<22} {'median ms':>10} {'p90 ms':>8}")
        for name, times in results.items():
            ms = sorted(t * 1000 for t in times)
            print(f"{name:<22} {statistics.median(ms):>10.1f} {ms[int(len(ms) * 0.9) - 1]:>8.1f}")
        for tool in ("pycompose", "crun"):
            if f"{tool} plain" in results:
                extra = statistics.median(results[f"{tool} settings"]) - statistics.median(results[f"{tool} plain"])
                print(f"{tool}: the settings add {extra * 1000:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
