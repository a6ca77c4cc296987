"""A container's resolv.conf and the entries of its /etc/hosts (pure text work).

As Docker on a user-defined network: the nameserver is the embedded DNS server (here at
the gateway of the container's first network), which forwards what it does not know to
the service's `dns:` servers, else to the host's resolvers; `search` and `options` come
from `dns_search`/`dns_opt`, else from the host, and `ndots:0` is added unless an
`ndots` is given (so single-label names go to the embedded server first, not through
the search list). A container on no network gets the `dns:` servers, else the host's
resolvers minus loopback ones (unreachable from its namespace).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

HOST_GATEWAY = "host-gateway"


def container_resolv_conf(host: str, nameserver: str | None = None, dns: Sequence[str] = (),
                          search: Sequence[str] = (), options: Sequence[str] = ()) -> str:
    """The container's resolv.conf from the host's text and the service's settings."""
    host_servers, host_search, host_options = _parse(host)
    if nameserver:
        servers = [nameserver]
    elif dns:
        servers = list(dns)
    else:
        servers = host_servers
    lines = [f"nameserver {server}" for server in servers]
    domains = [d for d in (search or host_search) if d != "."]
    if domains:
        lines.append("search " + " ".join(domains))
    opts = list(options or host_options)
    if nameserver and not any(o.startswith("ndots:") for o in opts):
        opts.append("ndots:0")
    if opts:
        lines.append("options " + " ".join(opts))
    return "".join(f"{line}\n" for line in lines)


def _parse(text: str) -> tuple[list[str], list[str], list[str]]:
    servers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0].startswith(("#", ";")):
            continue
        if words[0] == "nameserver" and not (words[1].startswith("127.") or words[1] == "::1"):
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]  # the last of them wins, as in glibc
        elif words[0] == "options":
            options.extend(words[1:])
    return servers, search, options


def hosts_entries(hostname: str, address: str | None, gateway: str | None,
                  extra_hosts: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """The container's own line (hostname at its first address), then `extra_hosts`;
    `host-gateway` is the gateway of its first network (this host), 127.0.0.1 without one."""
    entries: list[tuple[str, list[str]]] = []
    if address and hostname:
        entries.append((address, [hostname]))
    for name, ips in extra_hosts.items():
        for ip in ips:
            entries.append((gateway or "127.0.0.1" if ip == HOST_GATEWAY else ip, [name]))
    return entries
