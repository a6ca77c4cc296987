"""Container start latency: create → start → exit of /bin/true, ours next to `crun run`.

Both run the same busybox root filesystem with new pid, mount, uts, ipc and network
namespaces. Ours goes through the runtime API (the monitor process, overlayfs, cgroup),
twice: with Docker's security defaults (14 capabilities, seccomp profile, masked and
read-only paths, devices cgroup: the default `Security`) and with none of them, to show
what confinement costs. crun (and runc) run an OCI bundle made by `crun spec` (no
overlay: a plain rootfs directory; crun's default capabilities and masked paths, no
seccomp). Also printed: compiling Docker's profile with libseccomp, which a create pays
only when the program cache (data root) does not have it yet.
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
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.config import ContainerConfig, Process, Resources, Root, Security  # noqa: E402
from runtime.containers import ContainerStore  # noqa: E402
from runtime.images import ImageStore  # noqa: E402
from runtime.security.caps import CAPABILITIES  # noqa: E402
from runtime.security.devices import ALLOW_ALL  # noqa: E402

UNCONFINED = Security(capabilities=CAPABILITIES, seccomp="unconfined", masked_paths=(), readonly_paths=())


def busybox_tar(work: Path) -> Path:
    tar = work / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    return tar


def ours(work: Path, tar: Path, runs: int, confined: bool = True) -> list[float]:
    data, run = work / "data", work / "run"
    parent = f"pycompose-bench-{uuid.uuid4().hex[:6]}"
    image = ImageStore(data).import_tar(tar, "busybox")
    layers = ImageStore(data).layer_dirs(image)
    store = ContainerStore(data, run, parent)
    times = []
    for i in range(runs + 1):
        cid = f"bench{i:04d}{uuid.uuid4().hex[:8]}"
        config = ContainerConfig(id=cid, name=cid, process=Process(args=("/bin/true",)), root=Root(layers), hostname="b")
        if not confined:
            config = replace(config, security=UNCONFINED, resources=Resources(device_rules=ALLOW_ALL))
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


def profile_compile_ms(runs: int = 5) -> float:
    """Median time to compile Docker's default profile (what a cache miss costs a create)."""
    from runtime.security.caps import DEFAULT_CAPABILITIES
    from runtime.security.seccomp import compile_bpf, filter_for

    times = []
    for _ in range(runs):
        began = time.perf_counter()
        resolved = filter_for("default", DEFAULT_CAPABILITIES)
        assert resolved is not None
        compile_bpf(resolved)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def oci_runtime(binary: str, work: Path, tar: Path, runs: int) -> list[float]:
    bundle = work / "bundle"
    if (bundle / "config.json").exists():
        return _run_bundle(binary, bundle, runs)
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run(["tar", "-C", str(bundle / "rootfs"), "-xf", str(tar)], check=True)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    (bundle / "config.json").write_text(json.dumps(config))
    return _run_bundle(binary, bundle, runs)


def _run_bundle(binary: str, bundle: Path, runs: int) -> list[float]:
    times = []
    for i in range(runs + 1):
        name = f"pcbench-{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        subprocess.run([binary, "run", "--bundle", str(bundle), name], check=True)
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
        results = {
            "pycompose runtime": ours(work, tar, args.runs),
            "pycompose unconfined": ours(work, tar, args.runs, confined=False),
        }
        for binary in ("crun", "runc"):
            if shutil.which(binary):
                results[f"{binary} run"] = oci_runtime(binary, work, tar, args.runs)
        print(f"{'runtime':<22} {'median ms':>10} {'p90 ms':>8}")
        for name, times in results.items():
            ms = sorted(t * 1000 for t in times)
            print(f"{name:<22} {statistics.median(ms):>10.1f} {ms[int(len(ms) * 0.9) - 1]:>8.1f}")
        if "crun run" in results:
            ratio = statistics.median(results["pycompose runtime"]) / statistics.median(results["crun run"])
            print(f"ratio pycompose/crun: {ratio:.2f}x")
        print(f"compiling Docker's seccomp profile (a create's cache miss): {profile_compile_ms():.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
