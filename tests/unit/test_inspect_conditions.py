"""`inspect` documents and depends_on / `up --wait` verdicts, from fixed states (pure)."""

from __future__ import annotations

import dataclasses

import pytest

from composer.conditions import RUNNING_OR_HEALTHY, Never, judge, stack_conditions
from composer.inspect import document
from network import Attachment
from runtime.config import ContainerConfig, Healthcheck, Process, Resources, Root
from runtime.state import ContainerState, Health, HealthResult

RESULT = HealthResult("2026-11-26T12:00:01.000000Z", "2026-11-26T12:00:01.100000Z", 3, "not ready\n")
STATE = ContainerState(
    id="c" * 64, name="demo-db-1", status="running", pid=4242, monitor_pid=4241, exit_code=None,
    oom_killed=False, created_at="2026-11-26T12:00:00.000000Z", started_at="2026-11-26T12:00:00.500000Z",
    finished_at=None, labels={"com.docker.compose.service": "db"},
    health=Health("unhealthy", 3, (RESULT,)), restart_count=2,
)
CONFIG = ContainerConfig(
    id="c" * 64, name="demo-db-1", process=Process(args=("sh", "-c", "sleep 1"), env=("A=1",), user_spec="nobody"),
    root=Root(layers=()), hostname="db", resources=Resources(memory_limit=64 << 20, cpu_quota=50_000),
    restart="on-failure", restart_max_retries=5,
    labels={"com.docker.compose.service": "db", "io.pycompose.image": "busybox"},
    healthcheck=Healthcheck(test=("CMD-SHELL", "exit 3"), interval=0.5, retries=3),
)
ATTACHMENT = Attachment("demo_default", "eth0", "vethx", "10.7.0.2", 24, "10.7.0.1", "02:42:0a:07:00:02")


def test_inspect_document_has_dockers_shape_and_only_known_values() -> None:
    doc = document(STATE, CONFIG, [ATTACHMENT])
    assert (doc["Id"], doc["Name"], doc["Path"], doc["Args"], doc["RestartCount"]) == (
        "c" * 64, "/demo-db-1", "sh", ["-c", "sleep 1"], 2)
    assert doc["State"] == {
        "Status": "running", "Running": True, "Paused": False, "Restarting": False, "OOMKilled": False,
        "Dead": False, "Pid": 4242, "ExitCode": 0, "Error": "", "StartedAt": "2026-11-26T12:00:00.500000Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
        "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": [
            {"Start": RESULT.start, "End": RESULT.end, "ExitCode": 3, "Output": "not ready\n"}]},
    }
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "exit 3"], "Interval": 500_000_000, "Retries": 3}
    assert (doc["Config"]["User"], doc["Config"]["Env"], doc["Config"]["Image"], doc["Config"]["Hostname"]) == (
        "nobody", ["A=1"], "busybox", "db")
    assert doc["HostConfig"] == {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 5},
                                 "Memory": 64 << 20, "NanoCpus": 500_000_000, "PidsLimit": None}
    assert doc["NetworkSettings"] == {"Networks": {"demo_default": {
        "IPAddress": "10.7.0.2", "IPPrefixLen": 24, "Gateway": "10.7.0.1", "MacAddress": "02:42:0a:07:00:02",
        "Aliases": ["demo-db-1", "db"]}}}


def test_inspect_of_a_container_without_healthcheck_or_exited() -> None:
    exited = dataclasses.replace(STATE, status="exited", pid=None, monitor_pid=None, exit_code=137, oom_killed=True,
                                 finished_at="2026-11-26T12:01:00Z", health=None, error=None)
    doc = document(exited, dataclasses.replace(CONFIG, healthcheck=None), [])
    assert "Health" not in doc["State"] and "Healthcheck" not in doc["Config"]
    assert {k: doc["State"][k] for k in ("Status", "Running", "Pid", "ExitCode", "OOMKilled", "FinishedAt")} == {
        "Status": "exited", "Running": False, "Pid": 0, "ExitCode": 137, "OOMKilled": True,
        "FinishedAt": "2026-11-26T12:01:00Z"}
    restarting = document(dataclasses.replace(exited, monitor_pid=99), CONFIG, [])["State"]
    assert (restarting["Status"], restarting["Restarting"]) == ("restarting", True)


def health(status: str) -> ContainerState:
    return dataclasses.replace(STATE, health=Health(status, 0, (RESULT,)))


def test_service_healthy_waits_while_starting_and_never_holds_when_unhealthy_or_exited() -> None:
    assert judge(health("healthy"), "service_healthy", True) is True
    assert judge(health("starting"), "service_healthy", True) is False
    assert judge(dataclasses.replace(STATE, health=None), "service_healthy", True) is False  # not probed yet
    with pytest.raises(Never, match=r"^container demo-db-1 is unhealthy \(last healthcheck exited 3: not ready\)$"):
        judge(health("unhealthy"), "service_healthy", True)
    with pytest.raises(Never, match=r"^container demo-db-1 exited \(2\)$"):
        judge(dataclasses.replace(STATE, status="exited", exit_code=2), "service_healthy", True)
    with pytest.raises(Never, match="has no healthcheck configured"):
        judge(dataclasses.replace(STATE, health=None), "service_healthy", False)
    with pytest.raises(Never, match="failed to start: boom"):
        judge(dataclasses.replace(STATE, status="created", error="boom"), "service_healthy", True)


def test_running_or_healthy_and_completed_successfully() -> None:
    plain = dataclasses.replace(STATE, health=None)
    assert judge(plain, RUNNING_OR_HEALTHY, False) is True  # no healthcheck: running is enough
    assert judge(health("starting"), RUNNING_OR_HEALTHY, True) is False
    done = dataclasses.replace(STATE, status="exited", exit_code=0)
    assert judge(done, "service_completed_successfully", False) is True
    assert judge(plain, "service_completed_successfully", False) is False
    with pytest.raises(Never, match="^demo-db-1 exited with code 4$"):
        judge(dataclasses.replace(done, exit_code=4), "service_completed_successfully", False)


def test_wait_uses_completed_successfully_for_one_shot_dependencies() -> None:
    declared = {"app": {"migrate": "service_completed_successfully", "db": "service_healthy"}, "db": {}}
    assert stack_conditions(declared, ["db", "migrate", "app"]) == {
        "db": RUNNING_OR_HEALTHY, "migrate": "service_completed_successfully", "app": RUNNING_OR_HEALTHY}
