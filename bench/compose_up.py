"""`up -d`, no-op `up -d` and `down` of 1, 5 and 20 services: pycompose next to podman-compose.

Same stack files (the peers' busybox sleep stacks, a depends_on chain), same run,
alternating tools per repetition. Also reports the memory (PSS) of the per-container
supervisor: our monitor next to podman's conmon. Run as root after
`../shared/peers/setup.sh` (podman, podman-compose, the localhost/busybox:peers image):

    python bench/compose_up.py [--reps 3] [--sizes 1,5,20]
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO.parent / "shared" / "peers" / "stacks"
PODMAN_COMPOSE = Path(os.environ.get("PEERS_VENV", "/var/tmp/peers-venv")) / "bin" / "podman-compose"
IMAGE = "localhost/busybox:peers"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    began = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def our_monitor_pss(env: dict[str, str], project: str, stack: Path) -> list[int]:
    sys.path.insert(0, str(REPO))
    from runtime.containers import ContainerStore

    store = ContainerStore(Path(env["PYCOMPOSE_ROOT"]), Path(env["PYCOMPOSE_RUN_ROOT"]), env["PYCOMPOSE_CGROUP_PARENT"])
    return [pss_kib(s.monitor_pid) for s in store.list() if s.monitor_pid and s.status == "running"]


def conmon_pss() -> list[int]:
    pids = subprocess.run(["pgrep", "-x", "conmon"], capture_output=True, text=True).stdout.split()
    return [pss_kib(int(p)) for p in pids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--sizes", default="1,5,20")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pycompose-bench-"))
    env = {**os.environ, "PYCOMPOSE_ROOT": str(work / "data"), "PYCOMPOSE_RUN_ROOT": str(work / "run"),
           "PYCOMPOSE_CGROUP_PARENT": "pycompose-bench"}
    ours = [sys.executable, "-m", "composer"]
    tar = work / "busybox.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(tar)], check=True)
    subprocess.run([*ours, "image", "import", str(tar), IMAGE], env=env, check=True, capture_output=True)
    tools = {"pycompose": (ours, env)}
    if PODMAN_COMPOSE.exists():
        tools["podman-compose"] = ([str(PODMAN_COMPOSE)], dict(os.environ))
    results: dict[tuple[str, int, str], list[float]] = {}
    memory: dict[str, list[int]] = {}
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            stack = STACKS / f"sleep-{size}.yml"
            for rep in range(args.reps):
                for tool, (cmd, tool_env) in tools.items():
                    base = [*cmd, "-f", str(stack), "-p", f"bench{size}"]
                    results.setdefault((tool, size, "up -d"), []).append(timed([*base, "up", "-d"], tool_env))
                    results.setdefault((tool, size, "no-op up -d"), []).append(timed([*base, "up", "-d"], tool_env))
                    if size == max(int(s) for s in args.sizes.split(",")) and rep == 0:
                        pss = our_monitor_pss(env, f"bench{size}", stack) if tool == "pycompose" else conmon_pss()
                        memory[tool] = pss
                    results.setdefault((tool, size, "down"), []).append(timed([*base, "down"], tool_env))
    finally:
        for cmd, tool_env in tools.values():
            for size in args.sizes.split(","):
                subprocess.run([*cmd, "-f", str(STACKS / f"sleep-{size}.yml"), "-p", f"bench{size}", "down"],
                               env=tool_env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'tool':<16} {'services':>8} {'operation':<12} {'median ms':>10}")
    for (tool, size, op), times in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        print(f"{tool:<16} {size:>8} {op:<12} {statistics.median(times) * 1000:>10.0f}")
    for tool, values in memory.items():
        if values:
            print(f"{tool}: supervisor PSS per container median {statistics.median(values) / 1024:.2f} MB "
                  f"(n={len(values)})")
    print(json.dumps({f"{t}|{s}|{o}": statistics.median(v) for (t, s, o), v in results.items()}))


if __name__ == "__main__":
    main()
