"""Process settings: parsing the stack file's short syntax, translating to the runtime's
config, and the runtime's pure checks (rlimits, sysctls, groups, devices, /dev/shm)."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project
from composer.spec.process_values import parse_device, parse_group_add, parse_tmpfs, parse_ulimit
from composer.spec.values import InvalidValue
from composer.support import unsupported_settings
from composer.translate import ContainerPlacement, container_config
from runtime import limits, rootfs, sysctls, tini
from runtime.config import ContainerConfig, Device, Mount, Rlimit
from runtime.configview import ConfigView
from runtime.errors import ContainerError
from runtime.images import ImageConfig
from runtime.syscalls import RecordingSyscalls
from runtime.users import group_add_ids

PLACEMENT = ContainerPlacement(
    container_id="ab" * 32, name="demo-app-1", layer_dirs=("/layers/a",), netns_path="/run/netns/x",
    etc_dir="/run/etc/x", volume_paths={}, labels={},
)


def load(tmp_path: Path, settings: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "stack.yaml"
    path.write_text("services:\n  app:\n    image: busybox\n    command: [sh]\n"
                    + "".join(f"    {line}\n" for line in settings.strip().splitlines()))
    return load_project([path], env={}, project_name="demo")


def translate(tmp_path: Path, settings: str) -> ContainerConfig:
    return container_config("app", load(tmp_path, settings).services["app"], ImageConfig(), PLACEMENT)


# --- parsing -----------------------------------------------------------------------------


def test_ulimits_single_value_pair_and_unlimited() -> None:
    assert parse_ulimit(1024, "nofile") == {"soft": 1024, "hard": 1024}
    assert parse_ulimit({"soft": "10", "hard": 20}, "nproc") == {"soft": 10, "hard": 20}
    assert parse_ulimit(-1, "memlock") == {"soft": -1, "hard": -1}
    assert parse_ulimit({"soft": 5, "hard": -1}, "core") == {"soft": 5, "hard": -1}


@pytest.mark.parametrize(("value", "name", "message"), [
    ({"soft": 20, "hard": 10}, "nofile", "soft limit must be less than or equal to hard limit: 20 > 10"),
    ({"soft": -1, "hard": 10}, "nofile", "soft limit must be less than or equal to hard limit: -1 > 10"),
    (1, "nofiles", "invalid ulimit type: nofiles"),
    ({"soft": 1}, "nofile", "needs exactly soft and hard"),
    ("many", "nofile", "expected a number"),
    (True, "nofile", "invalid ulimit nofile"),
    (-2, "nofile", "use -1 for unlimited"),
])
def test_bad_ulimits(value: object, name: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_ulimit(value, name)


def test_tmpfs_string_or_list_with_options() -> None:
    assert parse_tmpfs("/run") == [{"target": "/run", "options": ()}]
    assert parse_tmpfs(["/run", "/tmp:size=64m,mode=1777,uid=1000,gid=1000,exec"]) == [
        {"target": "/run", "options": ()},
        {"target": "/tmp", "options": ("size=64m", "mode=1777", "uid=1000", "gid=1000", "exec")},
    ]


@pytest.mark.parametrize(("value", "message"), [
    ("run", "must be an absolute path"),
    ("/x:bogus", 'invalid tmpfs option "bogus"'),
    ("/x:size=lots", 'invalid tmpfs option "size=lots"'),
    ("/x:mode=999", 'invalid tmpfs option "mode=999"'),
    ("/x:relatime", 'invalid tmpfs option "relatime"'),
    (3, "expected a path or a list"),
    ([""], "expected a tmpfs path"),
])
def test_bad_tmpfs(value: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_tmpfs(value)


def test_device_short_syntax_like_docker() -> None:
    assert parse_device("/dev/fuse") == {"source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"}
    assert parse_device("/dev/sda:/dev/xvda:rw") == {"source": "/dev/sda", "target": "/dev/xvda", "permissions": "rw"}
    assert parse_device("/dev/sda:r") == {"source": "/dev/sda", "target": "/dev/sda", "permissions": "r"}
    assert parse_device({"source": "/dev/x"}) == {"source": "/dev/x"}  # the long form: the model checks it
    for bad, message in (("dev/x", "not an absolute path"), ("/a:/b:x", "invalid device permissions"),
                         ("/a:/b:r:w", "invalid device"), ("", "invalid device")):
        with pytest.raises(InvalidValue, match=message):
            parse_device(bad)


def test_group_add_names_and_ids() -> None:
    assert parse_group_add(["staff", 5]) == ("staff", "5")
    for bad in ([True], [""], [-1], [[1]]):
        with pytest.raises(InvalidValue):
            parse_group_add(bad)


def test_stack_file_forms_and_errors_point_at_the_line(tmp_path: Path) -> None:
    service = load(tmp_path, """
read_only: true
tmpfs: /run
shm_size: 1g
group_add: [www-data, 4242]
ulimits: {nofile: {soft: 512, hard: 1024}, nproc: 64}
sysctls: [net.core.somaxconn=1024, kernel.shmmni=100]
init: true
devices: [/dev/fuse, {source: /dev/zero, target: /dev/z, permissions: r}]
""").services["app"]
    assert (service.read_only, service.shm_size, service.init) == (True, 1 << 30, True)
    assert service.sysctls == {"net.core.somaxconn": "1024", "kernel.shmmni": "100"}
    assert [(d.source, d.target, d.permissions) for d in service.devices] == [
        ("/dev/fuse", "/dev/fuse", "rwm"), ("/dev/zero", "/dev/z", "r")]
    with pytest.raises(SpecError, match=r"stack.yaml:5:22: services.app.sysctls.c.d: sysctl c.d needs a value"):
        load(tmp_path, "sysctls: [a.b=1, c.d]")
    with pytest.raises(SpecError, match=r"stack.yaml:5:\d+: services.app.ulimits.nofile: ulimit soft limit"):
        load(tmp_path, "ulimits: {nofile: {soft: 20, hard: 10}}")


def test_sysctl_lists_merge_with_override_maps(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("services:\n  app: {image: busybox, sysctls: [net.a=1, net.b=2]}\n")
    (tmp_path / "b.yaml").write_text("services:\n  app: {sysctls: {net.b: 3}}\n")
    project = load_project([tmp_path / "a.yaml", tmp_path / "b.yaml"], env={})
    assert project.services["app"].sysctls == {"net.a": "1", "net.b": "3"}


def test_device_permissions_become_devices_cgroup_rules(tmp_path: Path) -> None:
    from runtime.config import ContainerConfig, Device, Process, Root
    from runtime.containers import with_device_rules
    from runtime.security.devices import DEFAULT_DEVICE_RULES

    project = load(tmp_path, "devices: ['/dev/zero:/dev/z:r', /dev/fuse]")
    assert unsupported_settings(project) == []  # enforced now: no warning
    config = ContainerConfig(id="c", name="c", process=Process(args=("true",)), root=Root(("/l",)), hostname="h",
                             devices=(Device("/dev/zero", "/dev/z", "r"), Device("/nosuch", "/dev/n")))
    assert with_device_rules(config).device_rules == (*DEFAULT_DEVICE_RULES, "c 1:5 r")


# --- translation ---------------------------------------------------------------------------


def test_defaults_translate_to_docker_defaults(tmp_path: Path) -> None:
    config = translate(tmp_path, "user: nobody")
    assert not config.root.readonly and not config.init and config.sysctls == {} and config.devices == ()
    assert [m.options for m in config.mounts if m.destination == "/etc/hosts"] == [("rbind", "rw")]
    assert [m for m in config.mounts if m.destination == "/dev/shm"] == [
        Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", f"size={64 << 20}"))]
    assert (config.process.rlimits, config.process.group_add) == ((), ())


def test_settings_translate_to_the_runtime_config(tmp_path: Path) -> None:
    config = translate(tmp_path, """
read_only: true
tmpfs: ['/run', '/big:size=2m,exec']
volumes: [{type: tmpfs, target: /t}]
shm_size: 16m
group_add: [staff]
ulimits: {nproc: 64, nofile: {soft: 512, hard: 1024}}
sysctls: {net.core.somaxconn: 1024}
init: true
devices: ['/dev/zero:/dev/z:rw']
""")
    assert config.root.readonly
    assert {m.destination: m.options for m in config.mounts if m.destination.startswith("/etc/")} == {
        "/etc/hosts": ("rbind", "ro"), "/etc/hostname": ("rbind", "ro"), "/etc/resolv.conf": ("rbind", "ro")}
    tmpfs = {m.destination: m.options for m in config.mounts if m.type == "tmpfs"}
    assert tmpfs == {
        "/t": ("noexec", "nosuid", "nodev", "rw"),
        "/dev/shm": ("nosuid", "noexec", "nodev", "mode=1777", f"size={16 << 20}"),
        "/run": ("noexec", "nosuid", "nodev"),
        "/big": ("noexec", "nosuid", "nodev", "size=2m", "exec"),
    }
    assert config.process.rlimits == (Rlimit("RLIMIT_NOFILE", 512, 1024), Rlimit("RLIMIT_NPROC", 64, 64))
    assert config.process.group_add == ("staff",)
    assert (config.sysctls, config.init) == ({"net.core.somaxconn": "1024"}, True)
    assert config.devices == (Device("/dev/zero", "/dev/z", "rw"),)


def test_config_round_trips_through_json_and_the_monitors_view(tmp_path: Path) -> None:
    config = translate(tmp_path, "group_add: [staff]\nulimits: {nofile: 100}\nsysctls: {net.a: '1'}\n"
                                 "init: true\ndevices: [/dev/zero]")
    assert ContainerConfig.from_dict(config.to_dict()) == config
    view = ConfigView(config.to_dict())
    assert view.process.rlimits == (("RLIMIT_NOFILE", 100, 100),) and view.process.group_add == ("staff",)
    assert (view.sysctls, view.init, [(d.source, d.path, d.permissions) for d in view.devices]) == (
        {"net.a": "1"}, True, [("/dev/zero", "/dev/zero", "rwm")])


# --- runtime checks ----------------------------------------------------------------------------

ALL_NS = ("pid", "mount", "uts", "ipc", "network")


@pytest.mark.parametrize(("key", "namespaces", "problem"), [
    ("net.core.somaxconn", ALL_NS, None),
    ("kernel.shmmax", ALL_NS, None),
    ("fs.mqueue.msg_max", ALL_NS, None),
    ("kernel.domainname", ALL_NS, None),
    ("net.core.somaxconn", ("pid", "mount"), "not allowed in the host's network namespace"),
    ("kernel.sem", ("network",), "not allowed in the host's ipc namespace"),
    ("kernel.hostname", ALL_NS, "conflicts with the hostname setting"),
    ("kernel.domainname", ("network",), "is not in a separate kernel namespace"),
    ("vm.swappiness", ALL_NS, "is not in a separate kernel namespace"),
    ("net..x", ALL_NS, "invalid sysctl name"),
    ("net.a/../../b", ALL_NS, "invalid sysctl name"),
    ("net", ALL_NS, "invalid sysctl name"),
])
def test_only_namespaced_sysctls(key: str, namespaces: tuple[str, ...], problem: str | None) -> None:
    found = sysctls.sysctl_problem(key, namespaces)
    assert (found is None) if problem is None else (problem in (found or ""))
    assert sysctls.proc_path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward"


def test_rlimits_may_be_lowered_but_not_raised_without_cap_sys_resource() -> None:
    def current(number: int) -> tuple[int, int]:
        return (1024, 20000) if number == limits.RLIMITS["RLIMIT_NOFILE"] else (limits.RLIM_INFINITY,) * 2

    lower = [Rlimit("RLIMIT_NOFILE", 100, 20000), Rlimit("RLIMIT_NPROC", 10, -1)]
    assert limits.check_rlimits(lower, current, can_raise=False) == []
    raise_ = [Rlimit("RLIMIT_NOFILE", 100, 40000)]
    assert limits.check_rlimits(raise_, current, can_raise=False) == [
        "ulimits.nofile: cannot raise the hard limit to 40000 above the current 20000 "
        "(that needs CAP_SYS_RESOURCE, which this host's root lacks)"]
    assert limits.check_rlimits(raise_, current, can_raise=True) == []
    assert "unlimited" in limits.check_rlimits([Rlimit("RLIMIT_NOFILE", -1, -1)], current, can_raise=False)[0]
    assert "above the hard limit" in limits.check_rlimits([Rlimit("RLIMIT_CORE", 9, 5)], current, False)[0]
    assert "unknown limit" in limits.check_rlimits([Rlimit("RLIMIT_BOGUS", 1, 1)], current, False)[0]


def test_cap_sys_resource_is_read_from_the_effective_set() -> None:
    assert limits.has_cap_sys_resource("Name:\tx\nCapEff:\t0000000001000000\n")
    assert not limits.has_cap_sys_resource("CapEff:\t00000000a80425fb\n")
    assert not limits.has_cap_sys_resource("")


def test_group_add_resolves_names_in_the_containers_group_file() -> None:
    group = "root:x:0:\nstaff:x:50:alice\n# comment\nbroken\n"
    assert group_add_ids(["staff", "4242", "0"], group) == (50, 4242, 0)
    with pytest.raises(ContainerError, match="unable to find group nosuch: no matching entries in group file"):
        group_add_ids(["nosuch"], group)


def test_devices_are_made_after_dev_and_a_configured_shm_replaces_the_default() -> None:
    sc = RecordingSyscalls()
    shm = Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "size=1m"))
    rootfs.setup_rootfs(sc, "/r", ["/l"], "/u", "/w", [shm], devices=[Device("/dev/zero", "/dev/sub/z")])
    zero = os.stat("/dev/zero").st_rdev
    made = [c for c in sc.calls if c[0] == "mknod"]
    assert made[-1] == ("mknod", "/r/dev/sub/z", stat.S_IFCHR | 0o666, os.major(zero), os.minor(zero))
    shm_mounts = [c for c in sc.calls if c[0] == "mount" and c[2] == "/r/dev/shm"]
    assert [(c[1], c[5]) for c in shm_mounts] == [("shm", "size=1m")]  # only the configured one
    assert sc.calls.index(made[-1]) < sc.calls.index(shm_mounts[0])  # devices with /dev, before user mounts


def test_a_device_must_exist_and_be_a_device(tmp_path: Path) -> None:
    from runtime.devices import check_devices

    check_devices([Device("/dev/null", "/dev/null")])
    with pytest.raises(ContainerError, match='adding custom device "/nosuch": no such file or directory'):
        check_devices([Device("/nosuch", "/dev/x")])
    with pytest.raises(ContainerError, match="not a device node"):
        check_devices([Device(str(tmp_path), "/dev/x")])
    with pytest.raises(ContainerError, match="must be absolute"):
        check_devices([Device("/dev/null", "dev/x")])


def test_init_wraps_the_command_like_docker_run_init() -> None:
    assert tini.init_args(("sh", "-c", "x")) == ("/sbin/docker-init", "--", "sh", "-c", "x")
    assert tini.init_mount("/usr/bin/tini-static") == {
        "destination": "/sbin/docker-init", "type": "bind", "source": "/usr/bin/tini-static", "options": ["bind", "ro"]}


def test_config_output_keeps_every_process_setting(tmp_path: Path) -> None:
    import yaml

    from composer.spec import project_to_dict

    project = load(tmp_path, """
read_only: true
tmpfs: ['/run', '/big:size=2m,exec']
shm_size: 16m
group_add: [staff, 5]
ulimits: {nproc: 64, nofile: {soft: 512, hard: 1024}}
sysctls: [net.core.somaxconn=1024]
init: true
devices: ['/dev/zero:/dev/z:rw']
volumes: ['./src:/src', {type: tmpfs, target: /t, tmpfs: {size: 1m, mode: '1770'}}]
""")
    out = project_to_dict(project)["services"]["app"]
    assert {k: out[k] for k in ("read_only", "tmpfs", "shm_size", "group_add", "ulimits", "sysctls", "init")} == {
        "read_only": True, "tmpfs": ["/run", "/big:size=2m,exec"], "shm_size": 16 << 20,
        "group_add": ["staff", "5"], "ulimits": {"nofile": {"soft": 512, "hard": 1024}, "nproc": 64},
        "sysctls": {"net.core.somaxconn": "1024"}, "init": True}
    assert out["devices"] == [{"source": "/dev/zero", "target": "/dev/z", "permissions": "rw"}]
    assert "bind" in out["volumes"][0]  # {create_host_path: true}, the default of `bind:`
    assert out["volumes"][1]["tmpfs"] == {"size": 1 << 20, "mode": 0o1770}
    (tmp_path / "again.yaml").write_text(yaml.safe_dump(project_to_dict(project)))
    assert load_project([tmp_path / "again.yaml"], env={}).services == project.services


def test_bind_sources_and_tmpfs_volume_options_translate(tmp_path: Path) -> None:
    config = translate(tmp_path, """
volumes:
  - ./short:/short
  - {type: bind, source: ./long, target: /long}
  - {type: bind, source: ./made, target: /made, bind: {create_host_path: true}}
  - {type: tmpfs, target: /t, tmpfs: {size: 1m, mode: 01770}}
""")
    binds = {m.destination: m.create_source for m in config.mounts if m.type == "bind" and "/etc/" not in m.destination}
    assert binds == {"/short": True, "/long": False, "/made": True}
    assert [m.options for m in config.mounts if m.destination == "/t"] == [
        ("noexec", "nosuid", "nodev", "rw", f"size={1 << 20}", "mode=1770")]
    with pytest.raises(SpecError, match="`tmpfs` options do not apply to a bind mount"):
        load(tmp_path, "volumes: [{type: bind, source: /x, target: /x, tmpfs: {size: 1}}]")
    with pytest.raises(SpecError, match='invalid file mode "9"'):
        load(tmp_path, "volumes: [{type: tmpfs, target: /x, tmpfs: {mode: '9'}}]")


def test_missing_bind_sources_are_made_or_refused_at_create(tmp_path: Path) -> None:
    from runtime.bindsources import prepare_bind_sources

    base = translate(tmp_path, "user: root")

    def config(*mounts: Mount) -> ContainerConfig:
        return dataclasses.replace(base, mounts=mounts)

    prepare_bind_sources(config(Mount("/a", "bind", str(tmp_path / "made" / "deep"), create_source=True)))
    assert (tmp_path / "made" / "deep").is_dir()
    with pytest.raises(ContainerError, match="bind source path does not exist: " + str(tmp_path / "nope")):
        prepare_bind_sources(config(Mount("/a", "bind", str(tmp_path / "nope"))))
    (tmp_path / "afile").write_text("")
    with pytest.raises(ContainerError, match="error while creating mount source path .*afile/sub': Not a directory"):
        prepare_bind_sources(config(Mount("/a", "bind", str(tmp_path / "afile" / "sub"), create_source=True)))



def test_a_uid_missing_from_passwd_with_a_group_name() -> None:
    """`user: "1000:staff"`: the other forms are covered in test_runtime_core."""
    from runtime.init import resolve_user

    user = resolve_user("1000:staff", "root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\nstaff:x:50:\n")
    assert (user.uid, user.gid, user.groups, user.home) == (1000, 50, (50,), "/")
