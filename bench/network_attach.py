"""Benchmark: create_sandbox + attach + DNS record for one container (target: < 10 ms median).

Run as root:  python bench/network_attach.py [--rounds N] [--tmpfs-run-root] [--profile]

Like `up`, it wires N containers in a row, then removes them all (like `down`), and
reports per-container times; also the CPU time the calling process spent (user + system:
the kernel's netlink work is charged to it), a steadier figure on a loaded machine. Private temporary roots; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network import NetworkManager, NetworkSpec  # noqa: E402


def _line(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p90 = xs[max(0, int(len(xs) * 0.9) - 1)]
    return (
        f"{name:26s} median {statistics.median(xs):6.2f} ms   p90 {p90:6.2f} ms"
        f"   min {xs[0]:6.2f} ms"
    )


def _bench(mgr: NetworkManager, rounds: int, profile: bool) -> None:
    net = mgr.ensure_network(NetworkSpec("bench_default")).name
    create: list[float] = []
    attach: list[float] = []
    record: list[float] = []  # publishing the container's names to the embedded DNS server
    remove: list[float] = []
    cpu: list[float] = []  # CPU time (user + system, all threads) of create + attach + record
    try:
        mgr.create_sandbox("warmup")
        mgr.attach("warmup", net)
        mgr.remove_sandbox("warmup")
        time.sleep(0.2)  # let the kernel finish destroying the warm-up namespace
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for i in range(rounds):
            c0 = time.process_time()
            t0 = time.perf_counter()
            mgr.create_sandbox(f"bench-{i}")
            t1 = time.perf_counter()
            att = mgr.attach(f"bench-{i}", net)
            t2 = time.perf_counter()
            mgr.dns.publish(f"bench-{i}", net, att.address, (f"bench-web-{i}", "web"))
            t3 = time.perf_counter()
            cpu.append((time.process_time() - c0) * 1000)
            create.append((t1 - t0) * 1000)
            attach.append((t2 - t1) * 1000)
            record.append((t3 - t2) * 1000)
        for i in range(rounds):
            t0 = time.perf_counter()
            mgr.remove_sandbox(f"bench-{i}")
            remove.append((time.perf_counter() - t0) * 1000)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    finally:
        for sandbox in mgr.list_sandboxes():
            mgr.remove_sandbox(sandbox.id)
        mgr.remove_network(net)
    print(f"containers: {rounds}")
    print(_line("create_sandbox", create))
    print(_line("attach", attach))
    print(_line("DNS record", record))
    print(_line("create_sandbox + attach", [c + a for c, a in zip(create, attach, strict=True)]))
    print(_line("all (+ DNS record)", [c + a + r for c, a, r in zip(create, attach, record, strict=True)]))
    print(_line("remove_sandbox", remove))
    print(_line("CPU of all", cpu))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the setup")
    parser.add_argument(
        "--tmpfs-run-root",
        action="store_true",
        help="put the run root on a tmpfs, as /run is on most hosts (this VM's /run is ext4)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pycompose-bench-") as tmp:
        run_root = Path(tmp) / "run"
        if args.tmpfs_run_root:
            run_root.mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "bench-run", str(run_root)], check=True)
        try:
            _bench(NetworkManager(Path(tmp) / "data", run_root), args.rounds, args.profile)
        finally:
            if args.tmpfs_run_root:
                subprocess.run(["umount", "-l", str(run_root)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
