"""Network isolation in the host's forward path: one small nftables table per bridge.

The host routes between its bridges (a container's default route is its gateway), so
without a filter a container could reach every other network by address. As Docker's
isolation chains do, each bridge gets a table whose forward chain drops what enters on
it and leaves by another pycompose bridge; an internal network also drops everything
that enters on it for elsewhere, or arrives from elsewhere. Traffic inside one bridge is
untouched: even with br_netfilter both its in- and out-interface are the bridge.

A table of its own per bridge makes adding and removing atomic and independent of every
other network (no rule handles to look up, nothing shared to race on), and a leftover
table is found by name. Needs Debian's `nftables` (the `nft` command).
"""

from __future__ import annotations

import shutil
import subprocess

from network.errors import KernelError
from network.names import BRIDGE_PREFIX

FAMILY = "inet"


def table_name(bridge: str) -> str:
    """`pycompose_<hash>`: the table of bridge `pc-<hash>`."""
    return "pycompose_" + bridge.removeprefix(BRIDGE_PREFIX)


def ruleset(bridge: str, internal: bool) -> str:
    """The nft script that (re)creates the table of `bridge`."""
    table = f"{FAMILY} {table_name(bridge)}"
    rules = [f'iifname "{bridge}" oifname != "{bridge}" oifname "{BRIDGE_PREFIX}*" drop']
    if internal:
        rules += [
            f'iifname "{bridge}" oifname != "{bridge}" drop',
            f'oifname "{bridge}" iifname != "{bridge}" drop',
        ]
    lines = [
        f"table {table}",  # `add` then `delete` makes re-applying idempotent
        f"delete table {table}",
        f"table {table} {{",
        "  chain forward {",
        "    type filter hook forward priority filter; policy accept;",
        *(f"    {rule}" for rule in rules),
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def isolate(bridge: str, internal: bool) -> None:
    _nft(ruleset(bridge, internal), f"cannot isolate bridge {bridge}")


def release(bridge: str) -> None:
    """Remove the table of `bridge`; already gone is fine."""
    table = f"{FAMILY} {table_name(bridge)}"
    _nft(f"table {table}\ndelete table {table}\n", f"cannot remove the filter of bridge {bridge}")


def _nft(script: str, what: str) -> None:
    nft = shutil.which("nft") or "/usr/sbin/nft"
    try:
        result = subprocess.run(
            [nft, "-f", "-"], input=script, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KernelError(f"{what}: {exc}", hint="install nftables (Debian: nftables)") from exc
    if result.returncode != 0:
        raise KernelError(f"{what}: {result.stderr.strip()}")
