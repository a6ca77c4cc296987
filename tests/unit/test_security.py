"""Capability sets, seccomp profile parsing and conditions, security_opt, masked paths (pure)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from composer.errors import PlanError
from composer.models import Service
from composer.security import parse_security_opt, security_warnings, service_security
from runtime import jsonio
from runtime.rootfs import restrict_paths
from runtime.security import caps, process
from runtime.security.caps import CAPABILITIES, DEFAULT_CAPABILITIES, UnknownCapability, mask, tweak
from runtime.security.devices import ALLOW_ALL
from runtime.security.paths import MASKED_PATHS, READONLY_PATHS
from runtime.security.profile import (
    ACT_ALLOW,
    ACT_ERRNO,
    ProfileError,
    Rule,
    kernel_version,
    resolve,
    validate,
)
from runtime.security.seccomp import DEFAULT_PROFILE
from runtime.syscalls import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, RecordingSyscalls

DEFAULT = jsonio.read_json(DEFAULT_PROFILE)


# --- capabilities ------------------------------------------------------------------------------


def test_the_default_set_is_dockers_fourteen() -> None:
    assert len(DEFAULT_CAPABILITIES) == 14
    assert mask(DEFAULT_CAPABILITIES) == 0xA80425FB  # CapBnd of a default `docker run`
    assert tweak((), ()) == DEFAULT_CAPABILITIES


def test_cap_add_and_cap_drop_accept_docker_spellings() -> None:
    got = tweak(["sys_admin", "CAP_NET_ADMIN"], ["mknod", "Cap_Chown"])
    assert got == tuple(c for c in DEFAULT_CAPABILITIES if c not in ("CAP_MKNOD", "CAP_CHOWN")) + (
        "CAP_SYS_ADMIN", "CAP_NET_ADMIN")


def test_drop_all_keeps_only_what_is_added_and_add_all_keeps_all_not_dropped() -> None:
    assert tweak((), ["ALL"]) == ()
    assert tweak(["NET_BIND_SERVICE"], ["all"]) == ("CAP_NET_BIND_SERVICE",)
    everything_but = tweak(["ALL"], ["SYS_ADMIN"])
    assert "CAP_SYS_ADMIN" not in everything_but and len(everything_but) == len(CAPABILITIES) - 1


def test_privileged_gets_every_capability_whatever_is_dropped() -> None:
    assert tweak((), ["ALL"], privileged=True) == CAPABILITIES
    assert CAPABILITIES[21] == "CAP_SYS_ADMIN" and CAPABILITIES[40] == "CAP_CHECKPOINT_RESTORE"


def test_an_unknown_capability_is_refused_in_dockers_words() -> None:
    with pytest.raises(UnknownCapability, match='unknown capability: "CAP_SYS_ADMN"'):
        tweak(["SYS_ADMN"], ())


def test_finalize_follows_runcs_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("runtime.syscalls.prctl", lambda option, arg=0: calls.append(f"prctl {option}"))
    monkeypatch.setattr(process.seccomp, "load_bpf", lambda program: calls.append("seccomp"))
    monkeypatch.setattr(caps, "current_bounding", lambda: (1 << 41) - 1)
    monkeypatch.setattr(caps, "drop_bounding", lambda keep: calls.append(f"bounding {keep:x}"))
    monkeypatch.setattr(caps, "set_keepcaps", lambda on: calls.append(f"keepcaps {on}"))
    monkeypatch.setattr(caps, "set_capabilities", lambda e, p, i=0: calls.append(f"capset {e:x} {p:x} {i}"))
    with_nnp = process.Prepared(DEFAULT_CAPABILITIES, True, b"prog")
    process.finalize(with_nnp, lambda: calls.append("user"))
    assert calls == ["prctl 38", "bounding a80425fb", "keepcaps True", "user", "keepcaps False",
                     "capset a80425fb a80425fb 0", "seccomp"]
    calls.clear()
    # Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the capabilities go.
    process.finalize(process.Prepared(DEFAULT_CAPABILITIES, False, b"prog"), lambda: calls.append("user"))
    assert calls[0] == "seccomp" and calls.count("seccomp") == 1 and "prctl 38" not in calls
    calls.clear()
    process.finalize(process.Prepared((), False, None), lambda: calls.append("user"))
    assert "seccomp" not in calls and calls[-1] == "capset 0 0 0"


# --- seccomp profiles --------------------------------------------------------------------------


def rules_for(filter_rules: tuple[Rule, ...], name: str) -> list[Rule]:
    return [r for r in filter_rules if name in r.names]


def test_the_default_profile_denies_with_eperm_and_clone3_with_enosys() -> None:
    resolved = resolve(DEFAULT, "x86_64", DEFAULT_CAPABILITIES, (6, 1))
    assert resolved is not None
    assert resolved.default_action == ACT_ERRNO | errno.EPERM
    assert resolved.arches == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
    assert [r.action for r in rules_for(resolved.rules, "clone3")] == [ACT_ERRNO | errno.ENOSYS]
    for privileged_call in ("mount", "unshare", "setns", "init_module", "reboot", "sethostname"):
        assert rules_for(resolved.rules, privileged_call) == [], privileged_call
    clone = rules_for(resolved.rules, "clone")  # only without namespace flags
    assert [(r.action, r.args) for r in clone] == [(ACT_ALLOW, ((0, 7, 2114060288, 0),))]
    assert rules_for(resolved.rules, "chroot")  # CAP_SYS_CHROOT is a default capability
    assert rules_for(resolved.rules, "arch_prctl") and not rules_for(resolved.rules, "set_tls")


def test_capability_conditions_use_the_containers_final_set() -> None:
    resolved = resolve(DEFAULT, "x86_64", (*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"), (6, 1))
    assert resolved is not None
    assert all(r.action == ACT_ALLOW and not r.args for r in rules_for(resolved.rules, "clone3") + rules_for(
        resolved.rules, "mount"))
    dropped = resolve(DEFAULT, "x86_64", (), (6, 1))
    assert dropped is not None and rules_for(dropped.rules, "chroot") == []


def test_arch_and_kernel_conditions() -> None:
    arm = resolve(DEFAULT, "aarch64", DEFAULT_CAPABILITIES, (6, 1))
    assert arm is not None and arm.arches == ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")
    assert rules_for(arm.rules, "set_tls") and not rules_for(arm.rules, "arch_prctl")
    old = resolve(DEFAULT, "x86_64", DEFAULT_CAPABILITIES, (4, 7))
    assert old is not None and rules_for(old.rules, "ptrace") == []  # includes minKernel 4.8
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "5.10", "arches": ["arm64"]}}]}
    assert [r.action for r in resolve(profile, "x86_64", (), (5, 4)).rules] == [ACT_ERRNO | errno.EPERM]  # type: ignore[union-attr]
    assert resolve(profile, "x86_64", (), (5, 10)).rules == ()  # type: ignore[union-attr]
    assert resolve(profile, "aarch64", (), (5, 4)).rules == ()  # type: ignore[union-attr]
    assert kernel_version("6.18.44-fc-v595") == (6, 18)


def test_an_empty_profile_means_no_filter_as_in_docker() -> None:
    assert resolve({}, "x86_64", (), (6, 1)) is None


@pytest.mark.parametrize(("profile", "message"), [
    ([], "must be a JSON object"),
    ({"defaultAction": "SCMP_ACT_NOPE"}, 'defaultAction: unknown action "SCMP_ACT_NOPE"'),
    ({"defaultAction": "SCMP_ACT_NOTIFY"}, "seccomp agent"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_LOG"}]},
     "syscalls[0]: 'name' and 'names'"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "syscalls[0].args[0].index"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]},
     'unknown operator "EQ"'),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}]}, "'architectures' and 'archMap'"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO",
                                                       "errnoRet": 70000}]}, "errnoRet"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]},
     "syscalls[0].names: expected a list of strings"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}, "flags: not supported"),
])
def test_invalid_profiles_are_refused_saying_where(profile: object, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        validate(profile)
    assert message in str(info.value)


def test_the_vendored_default_profile_is_valid() -> None:
    validate(DEFAULT)
    header = Path(DEFAULT_PROFILE + ".md").read_text()
    assert "moby/moby" in header and "0ec744f43b52dd0b3065b84e685b89a2ede1dd8e" in header


# --- security_opt and the service's Security --------------------------------------------------


def test_security_opt_parsing_follows_dockerd() -> None:
    opts = parse_security_opt("web", ("no-new-privileges", "seccomp=unconfined", "apparmor=unconfined"))
    assert (opts.no_new_privileges, opts.seccomp, opts.ignored) == (True, "unconfined", ("apparmor=unconfined",))
    assert parse_security_opt("web", ("no-new-privileges:true",)).no_new_privileges
    assert not parse_security_opt("web", ("no-new-privileges", "no-new-privileges=false")).no_new_privileges
    assert parse_security_opt("web", ("seccomp:prof.json",)).seccomp == "prof.json"
    assert parse_security_opt("web", ("systempaths=unconfined",)).systempaths_unconfined
    for bad in ("bogus", "foo=bar", "no-new-privileges:maybe"):
        with pytest.raises(PlanError, match=f'services.web.security_opt: invalid security option "{bad}"'):
            parse_security_opt("web", (bad,))


def test_lsm_options_are_warned_about_by_name() -> None:
    service = Service(image="busybox", security_opt=("label=type:svirt", "apparmor=docker-default"))
    assert security_warnings("web", service) == [
        'services.web.security_opt: label ("label=type:svirt") is not supported (no AppArmor or SELinux here), ignored',
        'services.web.security_opt: apparmor ("apparmor=docker-default") is not supported '
        "(no AppArmor or SELinux here), ignored",
    ]
    assert security_warnings("web", Service(image="busybox", security_opt=("no-new-privileges",))) == []


def test_service_security_defaults_privileged_and_systempaths(tmp_path: Path) -> None:
    default = service_security("web", Service(image="busybox"), str(tmp_path))
    assert (default.capabilities, default.seccomp, default.no_new_privileges) == (DEFAULT_CAPABILITIES, "default", False)
    assert (default.masked_paths, default.readonly_paths, default.privileged) == (MASKED_PATHS, READONLY_PATHS, False)
    priv = service_security("web", Service(image="busybox", privileged=True, cap_drop=("ALL",),
                                           security_opt=("no-new-privileges",)), str(tmp_path))
    assert (priv.capabilities, priv.seccomp, priv.masked_paths, priv.readonly_paths) == (CAPABILITIES, "unconfined", (), ())
    assert priv.privileged and priv.no_new_privileges
    loose = service_security("web", Service(image="busybox", security_opt=("systempaths=unconfined",)), str(tmp_path))
    assert (loose.masked_paths, loose.readonly_paths, loose.seccomp) == ((), (), "default")


def test_a_seccomp_profile_file_is_read_relative_to_the_project(tmp_path: Path) -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    (tmp_path / "prof.json").write_text(json.dumps(profile))
    got = service_security("web", Service(image="busybox", security_opt=("seccomp=prof.json",)), str(tmp_path))
    assert got.seccomp == profile


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read seccomp profile"),
    ("{not json", "is not valid JSON"),
    ('{"defaultAction": "SCMP_ACT_MAYBE"}', 'unknown action "SCMP_ACT_MAYBE"'),
])
def test_a_bad_profile_file_names_the_service(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "prof.json").write_text(content)
    with pytest.raises(PlanError) as info:
        service_security("web", Service(image="busybox", security_opt=("seccomp=prof.json",)), str(tmp_path))
    assert info.value.where == "services.web.security_opt" and message in info.value.message
    assert str(tmp_path / "prof.json") in info.value.message


def test_an_unknown_capability_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        service_security("web", Service(image="busybox", cap_drop=("NET_RAW",), cap_add=("NOPE",)), str(tmp_path))
    assert info.value.render() == 'services.web.cap_add: unknown capability: "CAP_NOPE"'


def test_privileged_allows_every_device() -> None:
    from composer.security import device_rules

    assert device_rules(Service(image="busybox", privileged=True)) == ALLOW_ALL
    assert "b *:* m" in device_rules(Service(image="busybox")) and "a *:* rwm" not in device_rules(Service(image="b"))


# --- masked and read-only paths ----------------------------------------------------------------


class FakeProc(RecordingSyscalls):
    """Directories refuse a /dev/null bind with ENOTDIR; missing paths raise ENOENT."""

    def __init__(self, dirs: set[str], missing: set[str]) -> None:
        super().__init__()
        self.dirs, self.missing = dirs, missing

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
        if target in self.missing:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", target)
        if source == "/dev/null" and target in self.dirs:
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", target)
        super().mount(source, target, fstype, flags, data)


def test_readonly_paths_then_masked_paths_as_runc() -> None:
    sc = FakeProc(dirs={"/sys/firmware"}, missing={"/proc/timer_stats", "/proc/bus"})
    restrict_paths(sc, ("/proc/kcore", "/proc/timer_stats", "/sys/firmware"), ("/proc/sys", "/proc/bus"))
    assert [(c[1], c[2], c[3]) for c in sc.calls] == [
        ("/proc/sys", "/proc/sys", None), ("/proc/sys", "/proc/sys", None),
        ("/dev/null", "/proc/kcore", None), ("tmpfs", "/sys/firmware", "tmpfs"),
    ]
    flags = [c[4] for c in sc.calls]
    assert flags[0] == MS_BIND | MS_REC
    assert isinstance(flags[1], int) and flags[1] & (MS_BIND | MS_REMOUNT | MS_RDONLY) == MS_BIND | MS_REMOUNT | MS_RDONLY
    assert flags[2] == MS_BIND and flags[3] == MS_RDONLY


# --- compiling (libseccomp, no privileges needed) ----------------------------------------------


def test_programs_compile_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime.security import seccomp

    resolved = resolve(DEFAULT, "x86_64", DEFAULT_CAPABILITIES, (6, 1))
    assert resolved is not None
    program = seccomp.cached_bpf(resolved, str(tmp_path))
    assert program and len(program) % 8 == 0  # struct sock_filter is 8 bytes
    assert [p.suffix for p in tmp_path.iterdir()] == [".bpf"]
    monkeypatch.setattr(seccomp, "compile_bpf", lambda _: pytest.fail("compiled again"))
    assert seccomp.cached_bpf(resolved, str(tmp_path)) == program
    with_admin = resolve(DEFAULT, "x86_64", (*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"), (6, 1))
    assert with_admin is not None
    with pytest.raises(pytest.fail.Exception):
        seccomp.cached_bpf(with_admin, str(tmp_path))  # another capability set: another program


def test_the_stack_file_reaches_the_runtime_config(tmp_path: Path) -> None:
    from dataclasses import replace

    from composer.spec import load_project
    from composer.translate import ContainerPlacement, container_config
    from runtime.images import ImageConfig

    (tmp_path / "p.json").write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    (tmp_path / "stack.yaml").write_text(
        "services:\n  app:\n    image: busybox\n    cap_drop: [ALL]\n    cap_add: [chown]\n"
        "    security_opt: [no-new-privileges, seccomp=p.json]\n  root:\n    image: busybox\n    privileged: true\n")
    project = load_project([tmp_path / "stack.yaml"], env={}, project_name="demo")
    placement = ContainerPlacement(container_id="0" * 64, name="demo-app-1", layer_dirs=("/l",), netns_path=None,
                                   etc_dir="/e", volume_paths={}, labels={}, project_dir=str(tmp_path))
    image = ImageConfig(cmd=("true",))
    app = container_config("app", project.services["app"], image, placement)
    assert (app.security.capabilities, app.security.no_new_privileges) == (("CAP_CHOWN",), True)
    assert app.security.seccomp == {"defaultAction": "SCMP_ACT_ALLOW"} and app.resources.device_rules[0] == "c *:* m"
    root = container_config("root", project.services["root"], image, replace(placement, name="demo-root-1"))
    assert root.security.privileged and root.resources.device_rules == ALLOW_ALL
    assert type(app).from_dict(app.to_dict()) == app  # survives config.json


# --- the cgroup v2 device filter (eBPF) --------------------------------------------------------


def test_device_filter_program_shape() -> None:
    import struct

    from runtime.security.devfilter import parse_rule, program

    assert parse_rule("c 1:3 rwm") == (2, 1, 3, 7)
    assert parse_rule("b *:* m") == (1, None, None, 1)
    assert parse_rule("a *:* rwm") == (0, None, None, 7)
    with pytest.raises(ValueError, match="invalid device rule"):
        parse_rule("x 1:3 rwm")
    deny_all = program(())
    assert len(deny_all) == 8 * 8  # 6 loads of the context, then r0 = 0; exit
    assert len(program(("a *:* rwm", "c 1:3 rwm"))) == 8 * 8  # r0 = 1; exit: nothing unreachable after it
    insns = [struct.unpack("<BBhi", program(("c 1:3 rwm",))[i:i + 8]) for i in range(0, 8 * 12, 8)]
    # type == char, major == 1, minor == 3 → return 1; each test skips to the next rule when false
    assert [(code, off, imm) for code, _, off, imm in insns[6:]] == [
        (0x55, 4, 2), (0x55, 3, 1), (0x55, 2, 3), (0xB4, 0, 1), (0x95, 0, 0), (0xB4, 0, 0)]


def test_parallel_creates_share_one_compile(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from runtime.security import seccomp

    resolved = resolve(DEFAULT, "x86_64", DEFAULT_CAPABILITIES, (6, 1))
    assert resolved is not None
    with ThreadPoolExecutor(8) as pool:  # apply creates a stack's containers in threads
        programs = list(pool.map(lambda _: seccomp.cached_bpf(resolved, str(tmp_path)), range(8)))
    assert len(set(programs)) == 1 and [p.suffix for p in tmp_path.iterdir()] == [".bpf"]
