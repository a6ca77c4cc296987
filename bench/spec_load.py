"""Loading and validating stack files: pycompose next to docker-compose 1.29, same files, same run.

Files: a generated one-service stack, the corpus' full-example.yml reduced to what
docker-compose 1.29 (Debian's, Python) accepts, so both tools do the same work on it (its
newer keys removed, its dangling references defined), and a generated 200-service stack. Also pycompose alone on the
unreduced full-example.yml (cross-reference checks off, as it is a field fixture).

- in process: median time of a load after a warm-up one, so interpreter start and
  imports are excluded, each file in an interpreter of its own (docker-compose's
  `config.load` in /usr/bin/python3; with --against, another checkout's too);
- end to end: `pycompose config -q` next to `docker-compose config -q`, taking turns;
  pycompose with its schema cache (composer.models.schemacache; written by the first run),
  and without it (PYCOMPOSE_NO_SCHEMA_CACHE=1: pydantic builds the models in every run);
- the largest cumulative items of `python -X importtime -m composer config -q`.

Each time is the median wall time and, in brackets, the median CPU time (user+system),
which a busy machine inflates less.

    python bench/spec_load.py [--reps 20] [--e2e-reps 5] [--against OTHER_CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
LOADER_DIR = REPO / "tests" / "data" / "reference" / "compose-corpus" / "compose-go" / "loader"
DOCKER_COMPOSE = shutil.which("docker-compose")
SYSTEM_PYTHON = "/usr/bin/python3"  # docker-compose 1.29's interpreter (Debian package)
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
       "PYTHONPATH": str(REPO), "COMPOSE_PROJECT_NAME": "bench"}

# Runs under docker-compose's own interpreter: time its loader in process.
DOCKER_COMPOSE_LOAD = """
import json, sys, time
from compose.config import config
from compose.config.environment import Environment
directory, name, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = Environment.from_env_file(directory)
times = []
for _ in range(reps + 1):
    began, cpu = time.perf_counter(), time.process_time()
    config.load(config.find(directory, [name], env))
    times.append((time.perf_counter() - began, time.process_time() - cpu))
print(json.dumps(times[1:]))
"""


def compatible_full_example(directory: Path) -> Path:
    """full-example.yml without what docker-compose 1.29 rejects (keys newer than it, the
    long env_file form, options beside `external`) or pycompose does (container_name with 6
    replicas, overlay networks, IPv6 subnets, an address outside
    its subnet), and with its dangling references defined."""
    for entry in LOADER_DIR.iterdir():
        if entry.is_file():
            shutil.copy(entry, directory / entry.name)
    (directory / "dir").mkdir()
    doc: dict[str, Any] = yaml.safe_load((LOADER_DIR / "full-example.yml").read_text())
    doc.pop("name")
    services = doc["services"]
    services.pop("bar")  # only a dockerfile_inline build
    foo = services["foo"]
    for key in ("annotations", "label_file", "devices", "uts", "network_mode",
                "container_name"):  # the last with 6 replicas: pycompose refuses it, as Compose v2
        foo.pop(key)
    for key in ("dockerfile_inline", "ssh", "additional_contexts", "secrets", "tags", "platforms"):
        foo["build"].pop(key, None)
    foo["healthcheck"].pop("start_interval")
    foo["env_file"] = [e for e in foo["env_file"] if isinstance(e, str)]
    foo["networks"]["other-network"].pop("mac_address")
    foo["networks"]["other-network"]["ipv4_address"] = "172.28.5.10"  # inside its subnet
    services["db"] = {"image": "postgres"}
    services["redis"] = {"image": "redis"}
    doc["networks"]["other-other-network"] = None
    doc["networks"]["other-network"]["driver"] = "bridge"  # pycompose makes bridges only
    doc["networks"]["other-network"]["ipam"].pop("driver")
    del doc["networks"]["other-network"]["ipam"]["config"][1]  # IPv6: not in pycompose yet
    doc["volumes"]["datavolume"] = None
    doc["secrets"]["secret4"].pop("environment")
    for section in ("volumes", "networks", "secrets", "configs"):
        for entry in doc[section].values():
            if isinstance(entry, dict) and entry.get("external"):
                for key in [k for k in entry if k != "external"]:
                    entry.pop(key)
    path = directory / "full-example-1.29.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def generated_stack(directory: Path, count: int) -> Path:
    """*count* services in a depends_on chain, each with the everyday keys."""
    services: dict[str, Any] = {}
    for i in range(count):
        service: dict[str, Any] = {
            "image": f"registry.local/app{i % 7}:1.{i}",
            "command": f"sh -c 'echo service {i} && sleep 3600'",
            "environment": {f"VAR_{k}": f"value-{i}-{k}" for k in range(5)} | {"TAG": "${TAG:-latest}"},
            "labels": [f"com.example.index={i}", "com.example.tier=backend", "com.example.team=core"],
            "volumes": [f"data{i % 10}:/var/lib/data", f"./conf/{i}:/etc/app:ro", "/tmp/cache"],
            "networks": {"front": {"aliases": [f"alias{i}"]}, "back": None},
            "deploy": {"resources": {"limits": {"memory": "256m", "cpus": "0.5"}}},
            "restart": "on-failure:3",
            "stop_grace_period": "20s",
            "working_dir": "/srv",
            "user": "1000:1000",
        }
        if i:
            service["depends_on"] = {f"svc{i - 1}": {"condition": "service_started"}}
        services[f"svc{i}"] = service
    doc = {"services": services, "networks": {"front": None, "back": None},
           "volumes": {f"data{k}": None for k in range(10)}}
    path = directory / f"stack-{count}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


Timings = list[tuple[float, float]]  # (wall, CPU) seconds per repetition


def ms(values: Timings) -> str:
    wall = statistics.median(w for w, _ in values) * 1000
    cpu = statistics.median(c for _, c in values) * 1000
    return f"{wall:7.1f} ms ({cpu:6.1f} CPU)"


# Runs in a new interpreter with a checkout on PYTHONPATH: warm loads of one file, each
# measured the same way (a process of its own per file and checkout, so no load weighs on
# another's, through the garbage collector say).
PYCOMPOSE_LOAD = """
import json, sys, time
from pathlib import Path
from composer.spec import load_project
path, reps, home, consistency = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
env = {"HOME": home, "COMPOSE_PROJECT_NAME": "bench"}
load_project([path], env=env, consistency=consistency)  # warm-up
times = []
for _ in range(reps):
    began, cpu = time.perf_counter(), time.process_time()
    load_project([path], env=env, consistency=consistency)
    times.append((time.perf_counter() - began, time.process_time() - cpu))
print(json.dumps(times))
"""


def pycompose_in_process(path: Path, reps: int, checkout: Path = REPO, consistency: bool = True) -> Timings | str:
    result = subprocess.run(
        [sys.executable, "-c", PYCOMPOSE_LOAD, str(path), str(reps), ENV["HOME"], "1" if consistency else "0"],
        capture_output=True, text=True, env={**ENV, "PYTHONPATH": str(checkout)}, cwd=path.parent)
    if result.returncode != 0:
        return "failed: " + (result.stderr.strip().splitlines() or [""])[-1][:100]
    return [(wall, cpu) for wall, cpu in json.loads(result.stdout)]


def docker_compose_in_process(path: Path, reps: int) -> Timings | str:
    result = subprocess.run([SYSTEM_PYTHON, "-c", DOCKER_COMPOSE_LOAD, str(path.parent), path.name, str(reps)],
                            capture_output=True, text=True, env=ENV)
    if result.returncode != 0:
        return "rejected: " + result.stderr.strip().splitlines()[-1][:100]
    return [(wall, cpu) for wall, cpu in json.loads(result.stdout)]


def _ms(values: Timings | str) -> str:
    return ms(values) if isinstance(values, list) else values


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def end_to_end(runs: list[tuple[list[str], dict[str, str]]], reps: int, cwd: Path) -> list[Timings | str]:
    """Each (command, environment) *reps* times, taking turns, so a change of load on the
    host weighs on them alike; one that fails is reported by its last line instead. They run
    in *cwd*: `python -m` would import composer from the caller's directory first."""
    times: list[Timings] = [[] for _ in runs]
    failed: dict[int, str] = {}
    for _ in range(reps):
        for i, (cmd, env) in enumerate(runs):
            if i in failed:
                continue
            began, cpu = time.perf_counter(), children_cpu()
            result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
            times[i].append((time.perf_counter() - began, children_cpu() - cpu))
            if result.returncode != 0:
                failed[i] = "failed: " + (result.stderr.strip().splitlines() or [""])[-1][:100]
    return [failed.get(i, timings) for i, timings in enumerate(times)]


def import_times(path: Path, top: int) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports of `pycompose config -q`."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "composer", "-f", str(path), "config", "-q"],
                            capture_output=True, text=True, env=ENV, cwd=path.parent)
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def report(label: str, ours: Timings, theirs: Timings | str) -> None:
    other = ms(theirs) if isinstance(theirs, list) else theirs
    print(f"  {label:34s} pycompose {ms(ours)}   docker-compose 1.29 {other}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--e2e-reps", type=int, default=5)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="another pycompose checkout to time in the same run (in process) and turns (end to end)")
    args = parser.parse_args()
    if DOCKER_COMPOSE is None:
        print("docker-compose not found: install it with ../shared/peers/setup.sh", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        full = compatible_full_example(directory)
        big = generated_stack(directory, args.services)
        small = generated_stack(directory, 1)
        files = {"generated 1 service": small, "full-example (1.29-compatible)": full,
                 f"generated {args.services} services": big}
        print(f"in process, median of {args.reps} (interpreter start and imports excluded):")
        print(f"  {'full-example.yml as is':34s} pycompose "
              f"{_ms(pycompose_in_process(LOADER_DIR / 'full-example.yml', args.reps, consistency=False))}"
              "   (docker-compose 1.29 rejects it: keys newer than 1.29)")
        for label, path in files.items():
            theirs = docker_compose_in_process(path, args.reps) if DOCKER_COMPOSE else "not installed"
            ours = pycompose_in_process(path, args.reps)
            assert isinstance(ours, list), ours
            report(label, ours, theirs)
            if args.against:
                against = pycompose_in_process(path, args.reps, args.against)
                print(f"  {'':34s} pycompose at {args.against}: {_ms(against)}")
        print(f"end to end `config -q`, median of {args.e2e_reps}:")
        for checkout in (REPO, args.against) if args.against else (REPO,):  # the schema cache written
            subprocess.run([sys.executable, "-m", "composer", "-f", str(small), "config", "-q"],
                           env={**ENV, "PYTHONPATH": str(checkout)}, cwd=directory, capture_output=True)
        for label, path in files.items():
            command = ["-f", str(path), "config", "-q"]
            runs = [([sys.executable, "-m", "composer", *command], ENV),
                    ([sys.executable, "-m", "composer", *command], {**ENV, "PYCOMPOSE_NO_SCHEMA_CACHE": "1"})]
            if args.against:
                runs.append(([sys.executable, "-m", "composer", *command], {**ENV, "PYTHONPATH": str(args.against)}))
            if DOCKER_COMPOSE:
                runs.append(([DOCKER_COMPOSE, *command], ENV))
            ours, uncached, *others = end_to_end(runs, args.e2e_reps, directory)
            assert isinstance(ours, list), ours
            report(label, ours, others[-1] if DOCKER_COMPOSE else "not installed")
            print(f"  {'':34s} pycompose without the schema cache: {_ms(uncached)}")
            if args.against:
                against = others[0]
                print(f"  {'':34s} pycompose at {args.against}: {_ms(against)}")
        print("largest imports of `pycompose config -q` (cumulative):")
        for micros, name in import_times(full, 12):
            print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
