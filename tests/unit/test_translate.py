"""Compose service + image config → the runtime's ContainerConfig (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import PlanError
from composer.spec import load_project
from composer.translate import ContainerPlacement, container_config
from runtime.images import ImageConfig

PLACEMENT = ContainerPlacement(
    container_id="0123456789abcdef" * 4, name="demo-app-1", layer_dirs=("/layers/a",),
    netns_path="/run/netns/x", etc_dir="/run/etc/x", volume_paths={"data": "/vol/data/_data"}, labels={"k": "v"},
)
IMAGE = ImageConfig(env=("PATH=/bin", "FROM_IMAGE=1"), cmd=("httpd", "-f"), entrypoint=None, working_dir="/srv")


def translate(tmp_path: Path, service: str, image: ImageConfig = IMAGE):  # type: ignore[no-untyped-def]
    path = tmp_path / "stack.yaml"
    path.write_text("services:\n  app:\n" + "".join(f"    {line}\n" for line in service.strip().splitlines())
                    + "volumes:\n  data: {}\n")
    project = load_project([path], env={}, project_name="demo")
    return container_config("app", project.services["app"], image, PLACEMENT)


def test_image_command_environment_and_defaults(tmp_path: Path) -> None:
    config = translate(tmp_path, "image: busybox\nenvironment: {A: '1', FROM_IMAGE: '2'}")
    assert config.process.args == ("httpd", "-f")
    assert dict(e.split("=", 1) for e in config.process.env) == {
        "PATH": "/bin", "FROM_IMAGE": "2", "HOSTNAME": "0123456789ab", "A": "1"}
    assert (config.hostname, config.process.cwd, config.stop_signal, config.stop_timeout) == (
        "0123456789ab", "/srv", "SIGTERM", 10.0)
    assert [n.path for n in config.namespaces if n.type == "network"] == ["/run/netns/x"]


def test_a_service_entrypoint_drops_the_image_command(tmp_path: Path) -> None:
    assert translate(tmp_path, "image: busybox\nentrypoint: [sh, -c]").process.args == ("sh", "-c")
    both = translate(tmp_path, "image: busybox\nentrypoint: sh -c\ncommand: [echo hi]")
    assert both.process.args == ("sh", "-c", "echo hi")


def test_no_command_anywhere_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match='service "app" has no command'):
        translate(tmp_path, "image: busybox", ImageConfig())


def test_resources_from_short_keys_and_deploy(tmp_path: Path) -> None:
    config = translate(tmp_path, "image: busybox\nmem_limit: 64m\ncpus: 0.5\npids_limit: 20")
    assert (config.resources.memory_limit, config.resources.cpu_quota, config.resources.pids_limit) == (
        64 * 1024 * 1024, 50_000, 20)
    deploy = translate(tmp_path, "image: busybox\ndeploy: {resources: {limits: {memory: 1g, cpus: '2', pids: 5}}}")
    assert (deploy.resources.memory_limit, deploy.resources.cpu_quota, deploy.resources.pids_limit) == (
        1024 ** 3, 200_000, 5)
    with pytest.raises(PlanError, match="mem_limit and deploy.resources.limits disagree"):
        translate(tmp_path, "image: busybox\nmem_limit: 64m\ndeploy: {resources: {limits: {memory: 32m}}}")


def test_mounts_and_restart(tmp_path: Path) -> None:
    config = translate(tmp_path, "image: busybox\nvolumes: ['/srv/site:/www:ro', 'data:/data']\n"
                                 "restart: on-failure:3\nstop_signal: SIGINT\nstop_grace_period: 2s")
    mounts = {m.destination: (m.type, m.source, m.options) for m in config.mounts}
    assert mounts["/www"] == ("bind", "/srv/site", ("rbind", "ro"))
    assert mounts["/data"] == ("bind", "/vol/data/_data", ("rbind", "rw"))
    assert mounts["/etc/hosts"] == ("bind", "/run/etc/x/hosts", ("rbind", "rw"))
    assert (config.restart, config.restart_max_retries) == ("on-failure", 3)
    assert (config.stop_signal, config.stop_timeout) == ("SIGINT", 2.0)


def test_anonymous_volumes_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"services.app.volumes\[0\]: anonymous volumes are not supported yet"):
        translate(tmp_path, "image: busybox\nvolumes: ['/data']")


def test_memory_swap_follows_docker(tmp_path: Path) -> None:
    def swap(service: str) -> int | None:
        return translate(tmp_path, "image: busybox\n" + service).resources.memory_swap

    assert swap("mem_limit: 64m") == 128 << 20  # Docker's default: as much swap as memory
    assert swap("mem_limit: 64m\nmemswap_limit: 64m") == 64 << 20  # no swap
    assert swap("mem_limit: 64m\nmemswap_limit: -1") == -1
    assert swap("mem_limit: 64m\nmemswap_limit: '-1'") == -1
    assert swap("") is None
    with pytest.raises(PlanError, match="memswap_limit needs mem_limit"):
        swap("memswap_limit: 1g")
    with pytest.raises(PlanError, match=r"memswap_limit \(33554432\) is less than mem_limit"):
        swap("mem_limit: 64m\nmemswap_limit: 32m")


def test_reservation_shares_cpuset_period_quota_oom(tmp_path: Path) -> None:
    r = translate(tmp_path, "image: busybox\nmem_reservation: 32m\ncpu_shares: 512\ncpuset: 0-1\n"
                            "cpu_period: 50000\ncpu_quota: 25000\noom_kill_disable: true").resources
    assert (r.memory_reservation, r.cpu_shares, r.cpuset_cpus, r.cpu_period, r.cpu_quota, r.oom_kill_disable) == (
        32 << 20, 512, "0-1", 50_000, 25_000, True)
    deploy = translate(tmp_path, "image: busybox\ndeploy: {resources: {reservations: {memory: 16m}}}").resources
    assert deploy.memory_reservation == 16 << 20
    plain = translate(tmp_path, "image: busybox\ncpu_shares: 0\ncpu_quota: -1").resources
    assert (plain.cpu_shares, plain.cpu_quota, plain.cpu_period, plain.oom_kill_disable) == (None, None, 100_000, False)
    with pytest.raises(PlanError, match="mem_reservation and deploy.resources.reservations disagree"):
        translate(tmp_path, "image: busybox\nmem_reservation: 8m\ndeploy: {resources: {reservations: {memory: 16m}}}")
    with pytest.raises(PlanError, match="cpus and cpu_quota/cpu_period cannot both be set"):
        translate(tmp_path, "image: busybox\ncpus: 1\ncpu_quota: 50000")


def test_a_bad_cpuset_names_the_key(tmp_path: Path) -> None:
    from composer.errors import SpecError

    with pytest.raises(SpecError, match="cpuset"):
        translate(tmp_path, "image: busybox\ncpuset: 'a-b'")
