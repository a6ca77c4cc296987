"""Container start latency: create → start → exit of /bin/true, ours next to `crun run`.

Both run the same busybox root filesystem with new pid, mount, uts, ipc and network
namespaces. Ours goes through the runtime API (a monitor from the fork server, overlayfs,
cgroup): with Docker's security defaults (14 capabilities, seccomp profile, masked and
read-only paths, devices cgroup: the default `Security`), with none of them (what
confinement costs), and "cold": with the fork server stopped before each start, as the
first start of a CLI process pays its interpreter boot. Rounds are interleaved (each
variant once per round), so that load changes on a shared host hit every variant alike,
in a new random order each round: a write into cgroup.procs (crun's and runc's on this
cgroup v1 host; ours only on v2) waits for an RCU grace period unless another such write
ended moments before, so a fixed order would hand one runtime the other's warm lock. crun (and runc) run an OCI bundle made by `crun spec` (no
overlay: a plain rootfs directory; crun's default capabilities and masked paths, no
seccomp). Also printed: compiling Docker's profile with libseccomp, which a create pays
only when the program cache (data root) does not have it yet.
Run as root:  python bench/start_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.config import ContainerConfig, Process, Resources, Root, Security  # noqa: E402
from runtime.containers import ContainerStore  # noqa: E402
from runtime.images import ImageStore  # noqa: E402
from runtime.monitor_spawn import fork_server  # noqa: E402
from runtime.security.caps import CAPABILITIES  # noqa: E402
from runtime.security.devices import ALLOW_ALL  # noqa: E402

UNCONFINED = Security(capabilities=CAPABILITIES, seccomp="unconfined", masked_paths=(), readonly_paths=())


def busybox_tar(work: Path) -> Path:
    tar = work / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    return tar


class Ours:
    """Starts through the runtime API. `cold`: the fork server is stopped before each start,
    so the start pays its interpreter boot (what the first start of a CLI process pays)."""

    def __init__(self, work: Path, tar: Path, confined: bool = True, cold: bool = False) -> None:
        data, run = work / "data", work / "run"
        image = ImageStore(data).import_tar(tar, "busybox")
        self.layers = ImageStore(data).layer_dirs(image)
        self.store = ContainerStore(data, run, f"pycompose-bench-{uuid.uuid4().hex[:6]}")
        self.confined, self.cold = confined, cold

    def __call__(self) -> float:
        cid = f"bench{uuid.uuid4().hex[:12]}"
        config = ContainerConfig(id=cid, name=cid, process=Process(args=("/bin/true",)), root=Root(self.layers),
                                 hostname="b")
        if not self.confined:
            config = replace(config, security=UNCONFINED, resources=Resources(device_rules=ALLOW_ALL))
        if self.cold:
            fork_server().close()
        began = time.perf_counter()
        self.store.create(config)
        self.store.start(cid)
        if self.store.wait(cid, timeout=10).status != "exited":
            raise SystemExit(f"container {cid} did not exit within 10 s")
        elapsed = time.perf_counter() - began
        self.store.remove(cid)
        return elapsed


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


def oci_bundle(work: Path, tar: Path) -> Path:
    bundle = work / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    subprocess.run(["tar", "-C", str(bundle / "rootfs"), "-xf", str(tar)], check=True)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def oci_run(binary: str, bundle: Path) -> Callable[[], float]:
    def run_once() -> float:
        began = time.perf_counter()
        subprocess.run([binary, "run", "--bundle", str(bundle), f"pcbench-{uuid.uuid4().hex[:8]}"], check=True)
        return time.perf_counter() - began

    return run_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pycompose-bench-"))
    try:
        tar = busybox_tar(work)
        variants: dict[str, Callable[[], float]] = {
            "pycompose runtime": Ours(work, tar),
            "pycompose unconfined": Ours(work, tar, confined=False),
            "pycompose, cold": Ours(work, tar, cold=True),
        }
        bundle = oci_bundle(work, tar)
        for binary in ("crun", "runc"):
            if shutil.which(binary):
                variants[f"{binary} run"] = oci_run(binary, bundle)
        results: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for round_ in range(args.runs + 1):  # interleaved: load changes hit every variant alike
            random.shuffle(order)  # see the module docstring: who follows a cgroup.procs writer
            for name in order:
                elapsed = variants[name]()
                if round_:  # the first round warms caches
                    results[name].append(elapsed)
        print(f"{'runtime':<22} {'median ms':>10} {'p90 ms':>8}")
        for name, times in results.items():
            ms = sorted(t * 1000 for t in times)
            print(f"{name:<22} {statistics.median(ms):>10.1f} {ms[int(len(ms) * 0.9) - 1]:>8.1f}")
        for peer in ("crun run", "runc run"):
            if peer in results:
                ratio = statistics.median(results["pycompose runtime"]) / statistics.median(results[peer])
                print(f"ratio pycompose/{peer.split()[0]}: {ratio:.2f}x")
        print(f"compiling Docker's seccomp profile (a create's cache miss): {profile_compile_ms():.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
