"""Compose keys pycompose keeps without acting on them: typed, normalised, printed, reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project, project_to_dict
from composer.support import unsupported_settings

STACK = """
services:
  web:
    image: x
    build: ./app
    scale: 1
    secrets: [token, {source: cert, target: /c, mode: "0440"}]
    configs: [conf]
    gpus: all
    logging: {driver: syslog, options: {max-size: 10, mode: null}}
    post_start: [{command: echo started, user: root}]
    pre_stop: [{command: [sh, -c, "exit 0"]}]
    develop:
      watch: [{path: ./src, action: sync, target: /src, ignore: node_modules}]
    models: [llm]
    pull_policy: if_not_present
    cpu_rt_period: 10ms
    label_file: ./labels
    labels: {b: from-file-overridden}
    links: [db:database]
    volumes_from: [db:ro]
    tty: true
    stdin_open: true
    pid: host
    blkio_config: {weight: 300, device_read_bps: [{path: /dev/sda, rate: 1m}]}
    deploy:
      mode: replicated
      restart_policy: {condition: on-failure, delay: 5s}
      x-custom: 1
    volumes:
      - type: bind
        source: ./data
        target: /data
        bind: {propagation: rshared}
  db:
    image: y
secrets:
  token: {file: ./token.txt}
  cert: {environment: CERT}
configs:
  conf: {content: "a=1"}
models:
  llm: {model: ai/smollm2}
"""


def load(tmp_path: Path, text: str) -> object:
    (tmp_path / "stack.yaml").write_text(text)
    return load_project([tmp_path / "stack.yaml"], env={})


def test_kept_keys_are_typed_and_normalised(tmp_path: Path) -> None:
    (tmp_path / "labels").write_text("a=1\nb=from-file\n")
    project = load(tmp_path, STACK)
    web = project.services["web"]  # type: ignore[attr-defined]
    assert web.build.context == str(tmp_path / "app")
    assert web.deploy.replicas == 1
    assert [(s.source, s.target, s.mode) for s in web.secrets] == [("token", None, None), ("cert", "/c", 0o440)]
    assert web.gpus[0].count == -1
    assert web.logging.options == {"max-size": "10", "mode": None}
    assert web.post_start[0].command == ("echo", "started")
    assert web.develop.watch[0].ignore == ("node_modules",)
    assert web.models == {"llm": None}
    assert web.pull_policy == "missing"
    assert web.cpu_rt_period == 10_000
    assert web.labels == {"a": "1", "b": "from-file-overridden"}
    assert web.blkio_config.device_read_bps[0].rate == 1 << 20
    assert web.deploy.restart_policy.delay == 5.0
    assert web.volumes[0].bind.propagation == "rshared"
    assert project.secrets["token"].file == str(tmp_path / "token.txt")  # type: ignore[attr-defined]
    assert str(tmp_path / "labels") in project.sources  # type: ignore[attr-defined]


def test_config_prints_kept_keys_and_reloads_to_the_same_project(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "labels").write_text("a=1\n")
    project = load(tmp_path, STACK)
    printed = project_to_dict(project)  # type: ignore[arg-type]
    web = printed["services"]["web"]
    assert web["build"] == {"context": str(tmp_path / "app")}
    assert web["deploy"]["restart_policy"] == {"condition": "on-failure", "delay": "5s"}
    assert web["secrets"][1] == {"source": "cert", "target": "/c", "mode": 0o440}
    assert web["pre_stop"] == [{"command": ["sh", "-c", "exit 0"]}]
    assert web["tty"] is True and "attach" not in web
    assert printed["models"] == {"llm": {"model": "ai/smollm2"}}
    assert printed["secrets"]["token"]["name"] == f"{project.name}_token"  # type: ignore[attr-defined]
    again = tmp_path / "again"
    again.mkdir()
    (again / "stack.yaml").write_text(yaml.safe_dump(printed))
    reloaded = load_project([again / "stack.yaml"], env={})
    assert reloaded.services == project.services  # type: ignore[attr-defined]


def test_each_kept_key_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "labels").write_text("a=1\n")
    warnings = unsupported_settings(load(tmp_path, STACK))  # type: ignore[arg-type]
    assert "services.web.logging.driver: syslog is not supported, logs are written as json-file" in warnings
    for key in ("build", "secrets", "configs", "gpus", "post_start", "pre_stop", "develop",
                "models", "pull_policy", "cpu_rt_period", "links", "volumes_from", "stdin_open",
                "pid", "blkio_config", "deploy.mode", "deploy.restart_policy", "volumes[0].bind.propagation"):
        assert warnings.count(f"services.web.{key}: not supported yet, ignored") == 1, key
    assert "services.web.label_file: not supported yet, ignored" not in warnings  # read into labels
    assert not any(w.startswith("services.db.") for w in warnings)
    for section in ("secrets", "configs", "models"):
        assert f"{section}: not supported yet, ignored" in warnings


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("scale: 2\n    deploy: {replicas: 3}", "services.web.scale: scale 2 and deploy.replicas 3 differ"),
        ("cgroup: shared", 'services.web.cgroup: invalid value "shared"'),
        ("pull_policy: sometimes", 'services.web.pull_policy: invalid pull policy "sometimes"'),
        ("gpus: some", 'services.web.gpus: invalid gpus "some"'),
        ("logging: {drvier: syslog}", "services.web.logging.drvier: unknown key"),
        ("develop: {watch: [{path: ., action: copy}]}", "services.web.develop.watch[0].action: invalid value"),
        ("oom_score_adj: 2000", "services.web.oom_score_adj: invalid value 2000"),
        ("post_start: [{user: root}]", "services.web.post_start[0]: missing required key `command`"),
        ("volumes: [{type: volume, source: v, target: /v, bind: {selinux: z}}]",
         "services.web.volumes[0].bind: `bind` options do not apply to a volume mount"),
    ],
)
def test_kept_keys_are_validated(tmp_path: Path, service: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, f"services:\n  web:\n    image: x\n    {service}\nvolumes: {{v: {{}}}}\n")
    assert message in str(caught.value)
