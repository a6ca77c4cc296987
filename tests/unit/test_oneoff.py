"""What a `run` one-off takes from its service and from the command line (pure)."""

from __future__ import annotations

from composer.models import Service
from composer.oneoff import RunRequest, oneoff_service

SERVICE = Service.model_validate({
    "image": "busybox", "command": ["serve"], "entrypoint": ["/init"], "environment": {"A": "1", "B": "2"},
    "restart": "on-failure:3", "ports": ["8080:80"], "user": "www", "working_dir": "/srv",
})


def test_defaults_keep_the_service_but_not_its_restart_policy_or_ports() -> None:
    one = oneoff_service(SERVICE, RunRequest("web"), "p-web-run-0123456789ab")
    assert one.container_name == "p-web-run-0123456789ab"
    assert (one.command, one.entrypoint, one.user, one.working_dir) == (("serve",), ("/init",), "www", "/srv")
    assert one.restart == "no" and one.max_retries is None
    assert one.ports == ()


def test_command_line_overrides() -> None:
    request = RunRequest("web", command=("sh", "-c", "true"), entrypoint="env -i", env=("B=3", "C=x=y"),
                         user="0:0", workdir="/tmp", service_ports=True)
    one = oneoff_service(SERVICE, request, "n")
    assert one.command == ("sh", "-c", "true")
    assert one.entrypoint == ("env", "-i")
    assert one.environment == {"A": "1", "B": "3", "C": "x=y"}
    assert (one.user, one.working_dir) == ("0:0", "/tmp")
    assert [p.target for p in one.ports] == [80]
