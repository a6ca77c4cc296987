"""Benchmark: create_sandbox + attach for one container (target: < 10 ms median).

Run as root:  python bench/network_attach.py [--rounds N]
Uses private temporary state roots and removes everything it creates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network import NetworkManager, NetworkSpec  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the loop")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pycompose-bench-") as tmp:
        mgr = NetworkManager(Path(tmp) / "data", Path(tmp) / "run")
        net = mgr.ensure_network(NetworkSpec("bench_default")).name
        setup: list[float] = []
        teardown: list[float] = []
        try:
            mgr.remove_sandbox("warmup") if mgr.create_sandbox("warmup") else None
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            for i in range(args.rounds):
                sid = f"bench-{i}"
                t0 = time.perf_counter()
                mgr.create_sandbox(sid)
                mgr.attach(sid, net)
                t1 = time.perf_counter()
                mgr.remove_sandbox(sid)
                t2 = time.perf_counter()
                setup.append((t1 - t0) * 1000)
                teardown.append((t2 - t1) * 1000)
            if profiler is not None:
                profiler.disable()
                import pstats

                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        finally:
            for sandbox in mgr.list_sandboxes():
                mgr.remove_sandbox(sandbox.id)
            mgr.remove_network(net)

    def line(name: str, xs: list[float]) -> str:
        xs = sorted(xs)
        p90 = xs[int(len(xs) * 0.9) - 1] if len(xs) >= 10 else xs[-1]
        return f"{name:28s} median {statistics.median(xs):6.2f} ms  p90 {p90:6.2f} ms  min {xs[0]:6.2f} ms"

    print(f"rounds: {args.rounds}")
    print(line("create_sandbox + attach", setup))
    print(line("remove_sandbox", teardown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
