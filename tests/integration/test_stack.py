"""End to end through the real CLI: a stack of real containers on a shared bridge."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.stackkit import (
    Stack,
)

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def three_services(extra_web: str = "") -> str:
    return f"""
    services:
      db:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; echo db ready; sleep 3600 & wait"]
      web:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /etc & wait"]
        depends_on: [db]{extra_web}
      client:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        hostname: the-client
        depends_on:
          web:
            condition: service_started
    """


def test_up_runs_isolated_containers_that_reach_each_other_by_name(stack: Stack) -> None:
    stack.write(three_services())
    result = stack.run("up", "-d")
    started = [line.split()[1] for line in result.stderr.splitlines() if line.strip().endswith("Started")]
    assert started == [f"{stack.project}-db-1", f"{stack.project}-web-1", f"{stack.project}-client-1"]
    rows = stack.by_service()
    assert {name: row["State"] for name, row in rows.items()} == {"db": "running", "web": "running", "client": "running"}
    assert rows["web"]["Name"] == f"{stack.project}-web-1"

    # PID namespace: PID 1 is the service's command, and only the container's processes are visible.
    ps = stack.exec("client", "ps", "-o", "pid,args").stdout.splitlines()[1:]
    assert ps[0].split()[0] == "1" and "trap" in ps[0]
    assert all("httpd" not in line for line in ps)
    # UTS: hostname from the file; default is the short container id; the host's is untouched.
    assert stack.exec("client", "hostname").stdout.strip() == "the-client"
    assert stack.exec("db", "hostname").stdout.strip() == str(rows["db"]["ID"])[:12]
    assert subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip() != "the-client"
    # Network: services reach each other by service name over the project bridge.
    page = stack.exec("client", "sh", "-c", "timeout 5 wget -qO- http://web:8080/hostname").stdout
    assert page.strip() == stack.exec("web", "hostname").stdout.strip()
    assert stack.exec("client", "ping", "-c1", "-W2", "db").returncode == 0
    links = stack.exec("db", "ip", "-o", "link").stdout
    assert [line.split(": ")[1].split("@")[0] for line in links.splitlines()] == ["lo", "eth0"]
    # Logs are captured per container.
    assert "db ready" in stack.run("logs", "db").stdout


def test_exec_returns_the_exit_code_and_sees_the_container(stack: Stack) -> None:
    stack.write(f"""
    services:
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        working_dir: /tmp
        environment: {{GREETING: hi}}
        container_name: custom-app-name
    """)
    stack.run("up", "-d")
    assert stack.by_service()["app"]["Name"] == "custom-app-name"
    assert stack.exec("app", "sh", "-c", "exit 7", check=False).returncode == 7
    assert stack.exec("app", "sh", "-c", 'echo "$GREETING $(pwd)"').stdout.strip() == "hi /tmp"
    assert stack.exec("app", "nosuchcommand", check=False).returncode == 127


def test_overlay_writes_are_private_to_each_container(stack: Stack) -> None:
    stack.write(f"""
    services:
      one: {{image: busybox, command: {json.dumps(SLEEPER)}}}
      two: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    stack.run("up", "-d")
    stack.exec("one", "sh", "-c", "echo secret > /bin/written-by-one")
    assert stack.exec("one", "cat", "/bin/written-by-one").stdout == "secret\n"
    assert stack.exec("two", "test", "-e", "/bin/written-by-one", check=False).returncode == 1
    layers = list((stack.roots.data / "images").rglob("written-by-one"))
    assert layers == [], "the image layer must never see a container's writes"


def test_memory_limit_kill_is_recorded_as_137(stack: Stack) -> None:
    stack.write("""
    services:
      hog:
        image: busybox
        command: ["sh", "-c", "x=$$(head -c 300m /dev/zero | tr '\\\\0' a); echo survived"]
        mem_limit: 32m
    """)
    stack.run("up", "-d")
    row = _wait_for_state(stack, "hog", "exited")
    assert row["ExitCode"] == 137
    assert row["OOMKilled"] is True


def test_pids_limit_stops_a_fork_loop(stack: Stack) -> None:
    stack.write(f"""
    services:
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        pids_limit: 20
    """)
    stack.run("up", "-d")
    forks = stack.exec("app", "sh", "-c", "for i in $(seq 40); do sleep 30 & echo started; done", check=False)
    assert forks.returncode != 0 and "can't fork" in forks.stderr
    # 20 pids in all: PID 1, its sleep, this shell and `seq` leave room for at most 16 more.
    assert 10 <= forks.stdout.count("started") <= 17


def test_second_up_is_a_no_op_and_a_change_recreates_only_that_service(stack: Stack) -> None:
    stack.write(three_services())
    stack.run("up", "-d")
    first = stack.by_service()
    pids_before = {name: _pid1(stack, name) for name in first}

    again = stack.run("up", "-d")
    assert "Created" not in again.stderr and "Started" not in again.stderr
    second = stack.by_service()
    assert {n: r["ID"] for n, r in second.items()} == {n: r["ID"] for n, r in first.items()}
    assert {name: _pid1(stack, name) for name in second} == pids_before

    stack.write(three_services(extra_web="\n        environment: {CHANGED: 'yes'}"))
    third = stack.run("up", "-d")
    assert f"{stack.project}-web-1  Recreated" in third.stderr
    after = stack.by_service()
    assert after["web"]["ID"] != first["web"]["ID"]
    assert after["db"]["ID"] == first["db"]["ID"] and after["client"]["ID"] == first["client"]["ID"]
    assert stack.exec("web", "sh", "-c", "echo $CHANGED").stdout.strip() == "yes"
    # The recreated service is still reachable by name from an unchanged one.
    assert stack.exec("client", "ping", "-c1", "-W2", "web").returncode == 0


def test_orphans_are_reported_then_removed_with_remove_orphans(stack: Stack) -> None:
    stack.write(three_services())
    stack.run("up", "-d")
    stack.write(f"""
    services:
      db: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    """)
    result = stack.run("up", "-d")
    assert f"orphan container {stack.project}-client-1" in result.stderr
    assert set(stack.by_service()) == {"db", "web", "client"}
    stack.run("up", "-d", "--remove-orphans")
    assert set(stack.by_service()) == {"db"}


def test_stop_start_restart_and_logs(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo hello; echo oops >&2; sleep 3600 & wait"]
    """)
    stack.run("up", "-d")
    _wait_for_log(stack, "app", "oops")
    stack.run("stop")
    assert stack.by_service()["app"]["State"] == "exited"
    assert stack.run("ps").stdout.count(f"{stack.project}-app-1") == 0
    stack.run("start")
    assert stack.by_service()["app"]["State"] == "running"
    stack.run("restart", "-t", "2")
    assert stack.by_service()["app"]["State"] == "running"
    logs = stack.run("logs", "--no-color", "app").stdout.splitlines()
    assert logs.count("app-1  | hello") == 3 and "app-1  | bye" in logs and "app-1  | oops" in logs


def test_attached_up_streams_prefixed_logs_until_all_exit(stack: Stack) -> None:
    stack.write("""
    services:
      a: {image: busybox, command: ["sh", "-c", "echo from-a"]}
      b: {image: busybox, command: ["sh", "-c", "sleep 0.3; echo from-b; exit 3"], depends_on: [a]}
    """)
    result = stack.run("up", "--no-color")
    assert result.returncode == 0
    assert "a-1  | from-a" in result.stdout and "b-1  | from-b" in result.stdout
    assert "b-1 exited with code 3" in result.stdout


def test_bind_mount_and_named_volume(stack: Stack) -> None:
    (stack.directory / "site").mkdir()
    (stack.directory / "site" / "index.html").write_text("hi from the host\n")
    stack.write(f"""
    services:
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        volumes: ["./site:/www:ro", "data:/data"]
    volumes:
      data: {{}}
    """)
    stack.run("up", "-d")
    assert stack.exec("app", "cat", "/www/index.html").stdout == "hi from the host\n"
    assert stack.exec("app", "touch", "/www/x", check=False).returncode != 0
    stack.exec("app", "sh", "-c", "echo kept > /data/f")
    assert list((stack.roots.data / "volumes").glob("*/_data/f"))


def test_missing_image_fails_before_anything_is_created(stack: Stack) -> None:
    stack.write(f"""
    services:
      ok: {{image: busybox, command: {json.dumps(SLEEPER)}}}
      app: {{image: "nosuch:1.0", command: ["true"]}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        'error: service "app": image "nosuch:1.0" is not in the image store '
        "(make it with `pycompose image import ROOTFS.tar nosuch:1.0`)"
    )
    assert "Traceback" not in result.stderr
    assert stack.ps() == []


def test_invalid_file_is_one_line_with_file_and_line(stack: Stack) -> None:
    path = stack.write("""
    services:
      app:
        image: busybox
        restrat: always
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1
    assert message[0].startswith(f"error: {path}:5:") and "services.app.restrat" in message[0]
    assert stack.ps() == []


def _pid1(stack: Stack, service: str) -> int:
    from runtime.containers import ContainerStore

    cid = str(stack.by_service()[service]["ID"])
    pid = ContainerStore(stack.roots.data, stack.roots.run, stack.roots.cgroup_parent).state(cid).pid
    assert pid is not None
    return pid


def _wait_for_state(stack: Stack, service: str, state: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = stack.by_service().get(service)
        if row and row["State"] == state:
            return row
        time.sleep(0.2)
    raise AssertionError(f"{service} never reached {state}: {stack.by_service().get(service)}")


def _wait_for_log(stack: Stack, service: str, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in stack.run("logs", service).stdout:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the logs of {service}")


def test_a_changed_variable_recreates_even_on_the_fast_path(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        environment: {MODE: "${MODE:-one}"}
    """)
    stack.run("up", "-d")
    first = stack.by_service()["app"]["ID"]
    assert "Running" in stack.run("up", "-d").stderr
    assert stack.by_service()["app"]["ID"] == first
    changed = stack.run("up", "-d", env={"MODE": "two"})
    assert "Recreated" in changed.stderr
    assert stack.exec("app", "sh", "-c", "echo $MODE").stdout.strip() == "two"


def test_ctrl_c_on_attached_up_stops_the_stack(stack: Stack) -> None:
    stack.write("""
    services:
      app:
        image: busybox
        command: ["sh", "-c", "trap 'echo stopping; exit 0' TERM; echo up-and-running; sleep 3600 & wait"]
    """)
    process = subprocess.Popen(
        [sys.executable, "-m", "composer", "-p", stack.project, "up", "--no-color"],
        cwd=stack.directory, env=stack.roots.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if "app-1  | up-and-running" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Gracefully stopping" in err
    assert "app-1  | stopping" in out
    assert stack.by_service()["app"]["State"] == "exited"


def test_completed_successfully_gates_dependents_and_aliases_resolve(stack: Stack) -> None:
    stack.write(f"""
    services:
      migrate:
        image: busybox
        command: ["sh", "-c", "sleep 1; echo migrated"]
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        networks:
          default: {{aliases: [api.internal]}}
        depends_on:
          migrate: {{condition: service_completed_successfully}}
      probe:
        image: busybox
        command: {json.dumps(SLEEPER)}
        depends_on: [app]
    """)
    result = stack.run("up", "-d")
    lines = result.stderr.splitlines()
    assert lines.index(f" Container {stack.project}-migrate-1  Exited") < lines.index(
        f" Container {stack.project}-app-1  Started")
    assert stack.exec("probe", "ping", "-c1", "-W2", "api.internal").returncode == 0


def test_a_failed_one_shot_dependency_stops_up_with_its_exit_code(stack: Stack) -> None:
    stack.write(f"""
    services:
      migrate: {{image: busybox, command: ["sh", "-c", "exit 4"]}}
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        depends_on:
          migrate: {{condition: service_completed_successfully}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: service "app" depends on "migrate" with condition service_completed_successfully, '
        f"but {stack.project}-migrate-1 exited with code 4"
    )
    # As Compose: every container is created first; the dependent is never started.
    assert stack.by_service()["app"]["State"] == "created"


@pytest.mark.parametrize("delay", [0.5, 0.7, 0.9, 1.1])
def test_a_killed_up_leaves_nothing_down_cannot_remove(stack: Stack, delay: float) -> None:
    lines = [f"  s{i}: {{image: busybox, command: {json.dumps(SLEEPER)}, depends_on: [s{i - 1}]}}" for i in range(1, 8)]
    services = "\n".join([f"  s0: {{image: busybox, command: {json.dumps(SLEEPER)}}}", *lines])
    stack.write("services:\n" + services + "\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "composer", "-p", stack.project, "up", "-d"],
        cwd=stack.directory, env=stack.roots.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.kill()
    process.wait()
    # The fixture's `down` must now find and remove every piece, whatever point up reached.
    stack.run("down", "-t", "1")
    assert stack.ps() == []


def test_logs_follow_is_dash_f_as_in_docker_compose(stack: Stack) -> None:
    stack.write("""
    services:
      app: {image: busybox, command: ["sh", "-c", "echo one; sleep 1; echo two"]}
    """)
    stack.run("up", "-d")
    followed = stack.run("logs", "-f", "--no-color", "app", timeout=30)
    assert followed.stdout.splitlines() == ["app-1  | one", "app-1  | two"]
    assert "used more than once" not in followed.stderr


def test_external_network_is_joined_and_missing_externals_fail_first(stack: Stack) -> None:
    other = Stack(stack.roots, stack.directory / "other", f"{stack.project}o")
    other.directory.mkdir()
    other.write(f"""
    services:
      a: {{image: busybox, command: {json.dumps(SLEEPER)}}}
    networks:
      default: {{name: {stack.project}-shared}}
    """)
    try:
        other.run("up", "-d")
        stack.write(f"""
        services:
          b: {{image: busybox, command: {json.dumps(SLEEPER)}}}
        networks:
          default: {{external: true, name: {stack.project}-shared}}
        """)
        stack.run("up", "-d")
        address = other.exec("a", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1").stdout.strip()
        assert stack.exec("b", "ping", "-c1", "-W2", address).returncode == 0
        stack.run("down")  # leaves the other project's network alone
        assert other.exec("a", "true").returncode == 0
    finally:
        other.run("down", "-t", "1", check=False)

    stack.write(f"""
    services:
      c: {{image: busybox, command: {json.dumps(SLEEPER)}, volumes: ["keep:/data"]}}
    volumes:
      keep: {{external: true}}
    """)
    result = stack.run("up", "-d", check=False)
    assert result.stderr.strip().splitlines()[-1].startswith('error: volume "keep" is declared as external, but it does not exist')
    assert stack.ps() == []


def test_up_timeout_bounds_the_stop_of_a_recreated_container(stack: Stack) -> None:
    # busybox sleep as PID 1 ignores SIGTERM: only the SIGKILL after the timeout ends it.
    stack.write('services:\n  app: {image: busybox, command: ["sleep", "3600"], environment: {V: "1"}}\n')
    stack.run("up", "-d")
    stack.write('services:\n  app: {image: busybox, command: ["sleep", "3600"], environment: {V: "2"}}\n')
    began = time.monotonic()
    assert "Recreated" in stack.run("up", "-d", "-t", "1").stderr
    assert time.monotonic() - began < 6, "the default 10 s grace period was used instead of -t 1"


def test_a_command_that_does_not_exist_is_one_line_like_docker(stack: Stack) -> None:
    stack.write('services:\n  app: {image: busybox, command: ["nosuch"]}\n')
    result = stack.run("up", "-d", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: cannot start container {stack.project}-app-1: exec: "nosuch": executable file not found in $PATH'
    )
    assert stack.by_service()["app"]["State"] == "created"


def test_a_dotenv_appearing_or_changing_is_seen_even_on_the_fast_path(stack: Stack) -> None:
    stack.write(f"""
    services:
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        environment: {{MODE: "${{MODE:-one}}"}}
    """)
    stack.run("up", "-d")
    assert "Running" in stack.run("up", "-d").stderr
    (stack.directory / ".env").write_text("MODE=two\n")
    assert "Recreated" in stack.run("up", "-d").stderr
    assert stack.exec("app", "sh", "-c", "echo $MODE").stdout.strip() == "two"
    (stack.directory / ".env").write_text("MODE=three\n")
    assert "Recreated" in stack.run("up", "-d").stderr
    assert stack.exec("app", "sh", "-c", "echo $MODE").stdout.strip() == "three"


def test_config_hash_is_the_hash_up_records(stack: Stack) -> None:
    stack.write(three_services())
    stack.run("up", "-d")
    labels = {name: dict(pair.split("=", 1) for pair in str(row["Labels"]).split(","))
              for name, row in stack.by_service().items()}
    printed = stack.run("config", "--hash", "*").stdout.splitlines()
    assert printed == [f"{name} {labels[name]['com.docker.compose.config-hash']}" for name in sorted(labels)]


def test_an_override_file_appearing_is_seen_even_on_the_fast_path(stack: Stack) -> None:
    stack.write(f"""
    services:
      app:
        image: busybox
        command: {json.dumps(SLEEPER)}
        environment: {{MODE: one}}
    """, name="compose.yaml")
    stack.run("up", "-d")
    assert "Running" in stack.run("up", "-d").stderr
    stack.write("services:\n  app:\n    environment: {MODE: two}\n", name="compose.override.yaml")
    assert "Recreated" in stack.run("up", "-d").stderr
    assert stack.exec("app", "sh", "-c", "echo $MODE").stdout.strip() == "two"
    (stack.directory / "compose.override.yaml").unlink()
    assert "Recreated" in stack.run("up", "-d").stderr
    assert stack.exec("app", "sh", "-c", "echo $MODE").stdout.strip() == "one"
