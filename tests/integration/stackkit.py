"""Drive the real `pycompose` CLI against private state roots, and prove the host is left clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Roots


def host_links() -> set[str]:
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split(": ")[1].split("@")[0] for line in links.splitlines()}


def mounts_under(*roots: Path) -> list[str]:
    return [line for line in Path("/proc/mounts").read_text().splitlines()
            if any(f" {root}" in line for root in roots)]


def links_of(roots: Roots) -> set[str]:
    """The bridges and host-side veths our network manager recorded for these roots."""
    from network import NetworkManager

    manager = NetworkManager(roots.data, roots.run)
    names = {n.bridge for n in manager.list_networks()}
    names |= {a.host_interface for s in manager.list_sandboxes() for a in s.attachments}
    return names


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line or any open file's path contains `text`: helpers name
    their roots in argv; monitors (forked by the fork server, so argv says nothing) hold
    their container's exit.fifo and log open."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if text in cmdline or any(text in os.readlink(fd) for fd in (entry / "fd").iterdir()):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cgroup_dirs(parent: str) -> list[Path]:
    return [p for p in Path("/sys/fs/cgroup").glob(f"*/{parent}") if p.is_dir()] + [
        p for p in Path("/sys/fs/cgroup").glob(f"{parent}") if p.is_dir()
    ]


@dataclass
class Stack:
    """One project directory with its own roots; `run` invokes the CLI in it."""

    roots: Roots
    directory: Path
    project: str

    def write(self, text: str, name: str = "stack.yaml") -> Path:
        path = self.directory / name
        path.write_text(textwrap.dedent(text))
        return path

    def run(self, *args: str, check: bool = True, timeout: float = 120, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "composer", "-p", self.project, *args],
            cwd=self.directory, env={**self.roots.env(), **(env or {})}, capture_output=True, text=True,
            timeout=timeout, input=input,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pycompose {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def ps(self) -> list[dict[str, object]]:
        out = self.run("ps", "-a", "--format", "json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def by_service(self) -> dict[str, dict[str, object]]:
        return {str(row["Service"]): row for row in self.ps()}

    def exec(self, service: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("exec", "-T", service, *command, check=check)

    def force_cleanup(self) -> None:
        """Last resort after a failed `down`: remove by hand whatever these roots made."""
        from network import NetworkManager
        from runtime.cgroups import detect

        for pid in processes_mentioning(str(self.roots.run)) + processes_mentioning(str(self.roots.data)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        networks = NetworkManager(self.roots.data, self.roots.run)
        for sandbox in networks.list_sandboxes():
            networks.remove_sandbox(sandbox.id)
        for network in networks.list_networks():
            networks.remove_network(network.name)
        driver = detect()
        for directory in cgroup_dirs(self.roots.cgroup_parent)[:1]:
            for child in directory.iterdir():
                cgroup = driver.open(self.roots.cgroup_parent, child.name) if child.is_dir() else None
                if cgroup is not None:
                    cgroup.remove()
