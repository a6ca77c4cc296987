from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from composer.lifecycle import container_resolv_conf, undo_create
from composer.resolvconf import hosts_entries

HOST = "# generated\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n"


def test_loopback_resolvers_and_comments_are_dropped() -> None:
    assert container_resolv_conf(HOST) == "nameserver 10.0.0.2\nsearch example.org\noptions edns0\n"


def test_on_a_network_the_embedded_server_is_the_nameserver_with_ndots_0() -> None:
    assert container_resolv_conf(HOST, nameserver="10.89.0.1", dns=("192.0.2.53",)) == (
        "nameserver 10.89.0.1\nsearch example.org\noptions edns0 ndots:0\n")


def test_dns_search_and_dns_opt_replace_the_hosts() -> None:
    text = container_resolv_conf(HOST, nameserver="10.89.0.1", search=("a.test", "b.test"),
                                 options=("ndots:2", "timeout:1"))
    assert text == "nameserver 10.89.0.1\nsearch a.test b.test\noptions ndots:2 timeout:1\n"
    assert "search" not in container_resolv_conf(HOST, nameserver="10.89.0.1", search=(".",))


def test_without_a_network_the_dns_servers_are_used_directly() -> None:
    assert container_resolv_conf(HOST, dns=("192.0.2.53", "192.0.2.54")) == (
        "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.org\noptions edns0\n")


def test_hosts_entries_own_name_then_extra_hosts_with_host_gateway() -> None:
    extra = {"db": ("10.0.0.2", "10.0.0.3"), "gw": ("host-gateway",)}
    assert hosts_entries("abc123", "10.89.0.5", "10.89.0.1", extra) == [
        ("10.89.0.5", ["abc123"]), ("10.0.0.2", ["db"]), ("10.0.0.3", ["db"]), ("10.89.0.1", ["gw"])]
    assert hosts_entries("abc123", None, None, {"gw": ("host-gateway",)}) == [("127.0.0.1", ["gw"])]


def test_name_table_publishes_service_names_except_for_one_offs() -> None:
    from types import SimpleNamespace
    from typing import Any

    from composer.lifecycle import NameTable
    from network import Attachment

    published: list[tuple[str, list[str], str]] = []
    dns = SimpleNamespace(publish=lambda cid, net, addr, names, up, pidfile: published.append((cid, list(names), pidfile)))
    containers = SimpleNamespace(pidfile=lambda cid: f"/run/c/{cid}/pid")
    engine: Any = SimpleNamespace(networks=SimpleNamespace(dns=dns), containers=containers)
    attachment = Attachment(network="p_default", interface="eth0", host_interface="vp-1", address="10.0.0.2", prefixlen=24,
                            gateway="10.0.0.1", mac="02:00:00:00:00:01")
    NameTable(engine).put("c1", "web", "p-web-1", "h1", (attachment,))
    NameTable(engine, oneoff=True).put("c2", "web", "p-web-run-0123456789ab", "h2", (attachment,))
    assert published == [("c1", ["p-web-1", "web", "h1"], "/run/c/c1/pid"),
                         ("c2", ["p-web-run-0123456789ab", "h2"], "/run/c/c2/pid")]


def test_a_failed_create_is_undone_even_when_removing_the_container_fails_too(tmp_path: Path) -> None:
    """The user sees the create's own error (the removal's as a note), and the sandbox, etc
    files and creating record still go."""
    done: list[str] = []

    def remove(cid: str, force: bool) -> None:
        raise RuntimeError("state file busy")

    engine = SimpleNamespace(
        containers=SimpleNamespace(remove=remove),
        networks=SimpleNamespace(remove_sandbox=lambda cid: done.append(f"sandbox {cid}")),
        remove_etc_dir=lambda cid: done.append(f"etc {cid}"))
    record = tmp_path / "cid"
    record.touch()
    cause = OSError("port 80 is taken")
    undo_create(cast(Any, engine), "cid", record, True, cause)
    assert done == ["sandbox cid", "etc cid"] and not record.exists()
    assert cause.__notes__ == ["removing the half-created container cid failed too: state file busy"]
