"""Good stack files load into the normalised Project consumers rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from composer.errors import SpecError
from composer.models import BindOptions, DependsOn, Project, ServiceNetwork, ServiceVolume
from composer.spec import DEFAULT_FILES, OVERRIDE_FILES, find_files, load_project, project_to_dict
from composer.support import unsupported_settings


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, **env: str) -> Project:
    return load_project([write(tmp_path, "stack.yaml", text)], env=env)


FULL = """
services:
  web:
    image: "nginx:${TAG:-latest}"
    command: sh -c 'echo $$HOME && sleep 1'
    entrypoint: ["/init", "--"]
    environment:
      - A=1
      - FROM_SHELL
      - UNSET
    depends_on:
      db:
        condition: service_healthy
      cache:
    mem_limit: 1.5g
    cpus: "0.5"
    pids_limit: 100
    restart: on-failure:3
    stop_signal: TERM
    stop_grace_period: 1m30s
    labels: [a=b, c]
    networks:
      front:
        aliases: [www]
        ipv4_address: 10.1.0.5
    volumes:
      - ./src:/app:ro
      - data:/data
      - /anon
      - type: tmpfs
        target: /tmp
    user: "1000:1000"
    working_dir: /app
    hostname: web1
    x-anything: [1, 2]
  db:
    image: postgres
    deploy:
      replicas: 1
      resources:
        limits: {memory: 50M, cpus: '0.25', pids: 64}
        reservations: {memory: 20m}
  cache:
    image: redis
    depends_on: [db]
networks:
  front:
    ipam: {config: [{subnet: 10.1.0.0/24}]}
volumes:
  data:
"""


def test_full_service_is_normalised(tmp_path: Path) -> None:
    project = load_project(
        [write(tmp_path, "stack.yaml", FULL)], env={"FROM_SHELL": "yes", "HOME": "/root"}
    )
    web = project.services["web"]
    assert web.image == "nginx:latest"
    assert web.command == ("sh", "-c", "echo $HOME && sleep 1")
    assert web.entrypoint == ("/init", "--")
    assert web.environment == {"A": "1", "FROM_SHELL": "yes", "UNSET": None}
    assert web.depends_on == {
        "db": DependsOn(condition="service_healthy"),
        "cache": DependsOn(condition="service_started"),
    }
    assert web.mem_limit == int(1.5 * 1024**3)
    assert web.cpus == 0.5
    assert web.pids_limit == 100
    assert (web.restart, web.max_retries) == ("on-failure", 3)
    assert web.stop_signal == "SIGTERM"
    assert web.stop_grace_period == 90.0
    assert web.labels == {"a": "b", "c": ""}
    assert web.networks == {"front": ServiceNetwork(aliases=("www",), ipv4_address="10.1.0.5")}
    assert web.volumes == (
        ServiceVolume(type="bind", source=str(tmp_path / "src"), target="/app", read_only=True,
                      bind=BindOptions(create_host_path=True)),
        ServiceVolume(type="volume", source="data", target="/data"),
        ServiceVolume(type="volume", target="/anon"),
        ServiceVolume(type="tmpfs", target="/tmp"),
    )
    db = project.services["db"]
    assert db.deploy is not None and db.deploy.replicas == 1
    assert db.deploy.resources.limits.memory == 50 * 1024**2
    assert db.deploy.resources.limits.cpus == 0.25
    assert db.deploy.resources.limits.pids == 64
    assert db.deploy.resources.reservations.memory == 20 * 1024**2
    assert db.networks == {"default": None}
    assert db.restart == "no"
    assert set(project.networks) == {"front", "default"}
    assert project.name == tmp_path.name.lower().replace(".", "")
    assert project.working_dir == str(tmp_path)
    assert project.warnings == ()  # TAG has a default: no warning


def test_unset_variable_warns_once(tmp_path: Path) -> None:
    project = load(tmp_path, "services:\n  a:\n    image: x$V\n  b:\n    image: y${V}\n")
    assert project.warnings == ('The "V" variable is not set. Defaulting to a blank string.',)


def test_unsupported_keys_warn_once_per_key_and_service(tmp_path: Path) -> None:
    text = (
        "version: '3'\nservices:\n  web:\n    image: x\n    ports: ['80:80']\n"
        "    develop: {watch: []}\n  db:\n    image: y\n    ports: ['5432']\n"
        "secrets:\n  s:\n    file: ./s\n"
    )
    project = load(tmp_path, text)
    assert project.warnings == ("version: obsolete, ignored",)  # every other key is modelled
    assert [p.published for p in project.services["web"].ports] == ["80"]
    # Kept in the model (config prints it), reported as inert when a stack is run.
    assert project.secrets["s"].file == str(tmp_path / "s")
    assert "secrets: not supported yet, ignored" in unsupported_settings(project)
    assert "services.web.develop: not supported yet, ignored" in unsupported_settings(project)


@pytest.mark.parametrize(
    ("explicit", "top", "expected"),
    [
        ("Front-End", None, "front-end"),
        (None, "My_Project!", "my_project"),
        (None, None, "stackdir"),
        (None, "", "stackdir"),
        ("-x", "ignored", "x"),
    ],
)
def test_project_name(tmp_path: Path, explicit: str | None, top: str | None, expected: str) -> None:
    directory = tmp_path / "Stack.Dir"
    directory.mkdir()
    head = f"name: '{top}'\n" if top is not None else ""
    stack = write(directory, "stack.yaml", head + "services: {}\n")
    assert load_project([stack], env={}, project_name=explicit).name == expected


def test_project_dir_and_name_from_workdir(tmp_path: Path) -> None:
    stack = write(tmp_path, "stack.yaml", "services:\n  a:\n    image: x\n    volumes: [./d:/d]\n")
    elsewhere = tmp_path / "proj"
    project = load_project([stack], env={}, workdir=elsewhere)
    assert project.name == "proj"
    assert project.services["a"].volumes[0].source == str(elsewhere / "d")


def test_override_files_merge(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        "services:\n  web:\n    image: a\n    command: [x, y]\n    environment: {A: '1', B: '2'}\n"
        "    volumes: [./one:/one, data:/data]\n    networks: [front]\n    labels: [l=1]\n"
        "networks:\n  front:\n  back:\nvolumes:\n  data:\n",
    )
    override = write(
        tmp_path,
        "override.yaml",
        "services:\n  web:\n    command: z\n    environment: [B=3, C=4]\n"
        "    volumes: [./two:/one, /anon]\n    networks: {back: {aliases: [w]}}\n"
        "    labels: !reset []\n",
    )
    web = load_project([base, override], env={}).services["web"]
    assert web.image == "a"
    assert web.command == ("z",)
    assert web.environment == {"A": "1", "B": "3", "C": "4"}
    assert [(v.source, v.target) for v in web.volumes] == [
        (str(tmp_path / "two"), "/one"),
        ("data", "/data"),
        (None, "/anon"),
    ]
    assert web.networks == {"front": None, "back": ServiceNetwork(aliases=("w",))}
    assert web.labels == {}


def test_override_tag_replaces(tmp_path: Path) -> None:
    base = write(tmp_path, "a.yaml", "services:\n  w:\n    image: a\n    environment: {A: '1'}\n")
    over = write(tmp_path, "b.yaml", "services:\n  w:\n    environment: !override {B: '2'}\n")
    assert load_project([base, over], env={}).services["w"].environment == {"B": "2"}


def test_extends_same_file_and_other_file(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    write(
        tmp_path / "lib", "common.yaml", "services:\n  base:\n    image: b\n    volumes: [./x:/x]\n"
    )
    stack = write(
        tmp_path,
        "stack.yaml",
        "services:\n  init:\n    image: alpine\n    command: sleep 1\n"
        "  a:\n    extends: init\n    command: !reset\n"
        "  b:\n    extends: {file: lib/common.yaml, service: base}\n    user: u\n",
    )
    project = load_project([stack], env={})
    assert project.services["a"].image == "alpine"
    assert project.services["a"].command is None
    b = project.services["b"]
    assert (b.image, b.user) == ("b", "u")
    assert b.volumes[0].source == str(tmp_path / "lib" / "x")


def test_include(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(
        tmp_path / "sub", "db.yaml", "services:\n  db:\n    image: pg\n    volumes: [./data:/d]\n"
    )
    stack = write(
        tmp_path,
        "stack.yaml",
        "include: [sub/db.yaml]\nservices:\n  web:\n    image: x\n    depends_on: [db]\n",
    )
    project = load_project([stack], env={})
    assert sorted(project.services) == ["db", "web"]
    assert project.services["db"].volumes[0].source == str(tmp_path / "sub" / "data")


def test_include_brings_every_resource_and_allows_identical_ones(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "token", "t")
    write(tmp_path / "sub", "lib.yaml", "services:\n  db:\n    image: pg\n    secrets: [token]\n"
          "secrets:\n  token: {file: ./token}\nconfigs:\n  conf: {content: a}\nnetworks:\n  back: {}\n")
    write(tmp_path / "sub", "again.yaml", "include: [lib.yaml]\n")
    stack = write(tmp_path, "stack.yaml", "include: [sub/lib.yaml, sub/again.yaml]\nservices:\n  web:\n"
                  "    image: x\n    configs: [conf]\n    networks: [back]\n")
    project = load_project([stack], env={})
    assert sorted(project.services) == ["db", "web"]
    assert project.secrets["token"].file == str(tmp_path / "sub" / "token") and "conf" in project.configs
    write(tmp_path / "sub", "other.yaml", "services:\n  db:\n    image: mysql\n")
    stack = write(tmp_path, "stack.yaml", "include: [sub/lib.yaml, sub/other.yaml]\nservices: {}\n")
    with pytest.raises(SpecError, match="services.db: conflicts with services.db from an included file"):
        load_project([stack], env={})


def test_paths_of_files_named_with_dots_resolve_to_normal_paths(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "lib").mkdir()
    write(tmp_path / "lib", "db.yaml", "services:\n  db:\n    image: pg\n    volumes: [./data:/d]\n")
    write(tmp_path / "lib", "base.yaml", "services:\n  base:\n    image: b\n    volumes: [./base:/b]\n")
    stack = write(
        tmp_path / "proj",
        "stack.yaml",
        "include: [./../lib/./db.yaml]\nservices:\n  web:\n    image: x\n"
        "    extends: {file: ../lib/base.yaml, service: base}\n",
    )
    project = load_project([stack], env={})
    assert project.services["db"].volumes[0].source == str(tmp_path / "lib" / "data")
    assert project.services["web"].volumes[0].source == str(tmp_path / "lib" / "base")


def test_optional_missing_dependency_is_dropped(tmp_path: Path) -> None:
    text = "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_started, required: false}\n"
    project = load(tmp_path, text)
    assert project.services["a"].depends_on == {}
    assert project.warnings == (
        "services.a.depends_on.b: service not found, ignored (required: false)",
    )


def test_yaml_12_scalars_and_anchors(tmp_path: Path) -> None:
    text = (
        "x-env: &env\n  FLAG: yes\n  TIME: 22:22\nservices:\n  a:\n    image: x\n"
        "    environment:\n      <<: *env\n      ON: on\n      T: true\n"
    )
    project = load(tmp_path, text)
    assert project.services["a"].environment == {
        "FLAG": "yes",
        "TIME": "22:22",
        "ON": "on",
        "T": "true",
    }


def test_config_output_round_trips(tmp_path: Path) -> None:
    env = {"FROM_SHELL": "yes", "HOME": "/root"}
    project = load_project([write(tmp_path, "stack.yaml", FULL)], env=env)
    out = project_to_dict(project)
    assert out["services"]["web"]["command"] == ["sh", "-c", "echo $$HOME && sleep 1"]
    assert out["networks"]["default"] == {"name": f"{project.name}_default"}
    again = load_project([write(tmp_path, "config.yaml", yaml.safe_dump(out))], env={})
    assert again.services == project.services
    assert project_to_dict(again) == out


def test_find_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        find_files(tmp_path)
    assert str(caught.value) == (
        f"no stack file found in {tmp_path} (looked for compose.yaml, compose.yml, "
        "docker-compose.yaml, docker-compose.yml, stack.yaml)"
    )
    write(tmp_path, "stack.yaml", "services: {}\n")
    assert find_files(tmp_path) == [tmp_path / "stack.yaml"]
    write(tmp_path, "docker-compose.yml", "services: {}\n")
    assert find_files(tmp_path) == [tmp_path / "docker-compose.yml"]
    assert DEFAULT_FILES[0] == "compose.yaml"


@pytest.mark.parametrize("override", OVERRIDE_FILES)
def test_an_override_file_next_to_the_default_one_is_read_after_it(tmp_path: Path, override: str) -> None:
    write(tmp_path, "compose.yaml", "services:\n  web: {image: a, environment: {A: '1', B: '1'}}\n")
    write(tmp_path, override, "services:\n  web: {environment: {B: '2'}}\n")
    files = find_files(tmp_path)
    assert files == [tmp_path / "compose.yaml", tmp_path / override]
    assert load_project(files, env={}).services["web"].environment == {"A": "1", "B": "2"}


def test_the_first_override_file_found_wins(tmp_path: Path) -> None:
    write(tmp_path, "docker-compose.yml", "services: {}\n")
    for name in ("docker-compose.override.yaml", "compose.override.yaml"):
        write(tmp_path, name, "services: {}\n")
    assert find_files(tmp_path) == [tmp_path / "docker-compose.yml", tmp_path / "compose.override.yaml"]


def test_loader_does_not_touch_process_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAK", "from-os-environ")
    cwd = Path.cwd()
    project = load(tmp_path, "services:\n  a:\n    image: x${LEAK}\n    environment: [LEAK]\n")
    assert project.services["a"].image == "x"
    assert project.services["a"].environment == {"LEAK": None}
    assert Path.cwd() == cwd


def test_merge_rules_of_the_spec(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        "services:\n  web:\n    image: a\n    entrypoint: [sh, -c]\n    env_file: a.env\n"
        "    secrets: [s1, {source: s2, target: /x}]\n"
        "    volumes: [{type: bind, source: ./one, target: /one, read_only: true}]\n"
        "    annotations: [a=1]\n    build: {context: ., args: [A=1]}\n    profiles: [p]\n"
        "secrets:\n  s1: {file: ./s1}\n  s2: {file: ./s2}\n  s3: {file: ./s3}\n",
    )
    override = write(
        tmp_path,
        "override.yaml",
        "services:\n  web:\n    entrypoint: [bash]\n    env_file: b.env\n"
        "    secrets: [{source: s3, target: /x}, s1]\n"
        "    volumes: [{type: bind, source: ./two, target: /one}]\n"
        "    annotations: {b: '2'}\n    build: {args: {B: '2'}}\n    profiles: [p, q]\n",
    )
    for name in ("a.env", "b.env"):
        (tmp_path / name).write_text(f"{name[0].upper()}=1\n")
    web = load_project([base, override], env={}, profiles=["p"]).services["web"]
    assert web.entrypoint == ("bash",)  # replaced, not appended
    assert web.environment == {"A": "1", "B": "1"}  # env_file: one value or a list, appended
    assert [(s.source, s.target) for s in web.secrets] == [("s1", None), ("s3", "/x")]  # by target
    mount = web.volumes[0]
    # By target, the later entry whole (compose-go's EnforceUnicity): read_only is not inherited.
    assert (mount.source, mount.read_only) == (str(tmp_path / "two"), False)
    assert web.annotations == {"a": "1", "b": "2"}
    assert web.build is not None and web.build.args == {"A": "1", "B": "2"}
    assert web.profiles == ("p", "q")


def test_reset_and_override_tags(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        "services:\n  web:\n    image: a\n    environment: {A: '1', B: '1'}\n"
        "    volumes: [/one, /two]\n    depends_on: [db]\n    user: root\n"
        "  db: {image: b}\n  gone: {image: c}\n",
    )
    override = write(
        tmp_path,
        "override.yaml",
        "services:\n  web:\n    environment: {B: !reset null}\n    volumes: !override [/three]\n"
        "    depends_on: !reset []\n    user: !reset\n  gone: !reset\n",
    )
    project = load_project([base, override], env={})
    web = project.services["web"]
    assert web.environment == {"A": "1"}
    assert [v.target for v in web.volumes] == ["/three"]
    assert web.depends_on == {} and web.user is None
    assert set(project.services) == {"web", "db"}
    # In a file merged into nothing the tags leave their value (or nothing) behind.
    alone = load_project([override], env={}, consistency=False)
    assert [v.target for v in alone.services["web"].volumes] == ["/three"]
    assert alone.services["web"].user is None and "gone" not in alone.services


def test_an_overriding_value_is_normalised_like_any_other(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", "services:\n  web:\n    image: a\n    volumes: [./a:/a]\n")
    (tmp_path / "o").mkdir()
    override = write(tmp_path / "o", "override.yaml",
                     "services:\n  web:\n    volumes: !override [./b:/b]\n    depends_on: !override [db]\n"
                     "  db: {image: b}\n")
    web = load_project([base, override], env={}).services["web"]
    # Relative to the project directory (the first file's), as for any -f file.
    assert [(v.source, v.target) for v in web.volumes] == [(str(tmp_path / "b"), "/b")]
    assert web.depends_on["db"].condition == "service_started"


def test_yaml_merge_keys_aliases_and_tags(tmp_path: Path) -> None:
    from composer.spec.source import Override, PosDict, Reset
    from composer.spec.yamlfile import load_text

    text = (
        "x-a: &a {image: a, user: ua, labels: {l: '1'}}\nx-b: &b {user: ub, working_dir: /b, stop_signal: SIGB}\n"
        "services:\n  web:\n    <<: [*a, *b]\n    stop_signal: SIGW\n    x-r: !reset\n    x-o: !override [1]\n"
        "  db:\n    <<: *a\n    labels: *a\n"
    )
    tree = load_text(text, "s.yaml")
    web, db = tree["services"]["web"], tree["services"]["db"]
    # As PyYAML: merged keys first (of a list, the first listed wins), then the mapping's own.
    assert list(web) == ["user", "working_dir", "stop_signal", "image", "labels", "x-r", "x-o"]
    assert (web["user"], web["image"], web["stop_signal"]) == ("ua", "a", "SIGW")
    assert tuple(web.key_pos["user"]) == ("s.yaml", 1, 20) and tuple(web.key_pos["stop_signal"]) == ("s.yaml", 6, 5)
    assert isinstance(web["x-r"], Reset) and isinstance(web["x-o"], Override) and tree.merge_tags
    # An alias is a copy of its anchor's value, positions included.
    assert isinstance(db["labels"], PosDict) and db["labels"] is not tree["x-a"]
    assert db["labels"] == tree["x-a"] and db["labels"].key_pos == tree["x-a"].key_pos
    assert db["labels"]["labels"] is not tree["x-a"]["labels"]
    assert tuple(db.value_pos["labels"]) == ("s.yaml", 1, 6)  # where the anchored value was written
    assert load_text("services: {}\n", "s.yaml").merge_tags is False
    # An anchor defined again: an alias refers to the most recent definition (YAML spec, go-yaml v3).
    again = load_text("a: &x 1\nb: *x\nc: &x [2]\nd: *x\ne: &x {f: &x 3, g: *x}\nh: *x\n", "s.yaml")
    assert again == {"a": 1, "b": 1, "c": [2], "d": [2], "e": {"f": 3, "g": 3}, "h": 3}
    assert load_text("", "s.yaml") is None and load_text("---\n", "s.yaml") is None


EXTENSIONS_EVERYWHERE = """
x-top: 1
services:
  web:
    x-s: 1
    image: x
    build: {context: ., x-b: 1}
    logging: {driver: json-file, x-l: 1}
    ulimits: {nofile: {soft: 1, hard: 2, x-u: 1}}
    healthcheck: {test: [CMD, "true"], x-h: 1}
    deploy:
      x-d: 1
      restart_policy: {condition: any, x-r: 1}
      resources: {x-res: 1, limits: {memory: 1m, x-lim: 1}}
    depends_on: {db: {condition: service_started, x-dep: 1}}
    networks: {front: {aliases: [a], x-n: 1}}
    volumes:
      - {type: bind, source: ./a, target: /a, x-v: 1, bind: {create_host_path: true, x-bo: 1}}
    ports:
      - {target: 80, x-p: 1}
    secrets: [{source: token, x-g: 1}]
  db: {image: y}
networks:
  front: {x-net: 1, ipam: {x-i: 1, config: [{subnet: 10.9.0.0/24, x-c: 1}]}}
volumes:
  data: {x-vol: 1}
secrets:
  token: {file: ./token, x-sec: 1}
"""


def test_extensions_are_allowed_in_every_mapping(tmp_path: Path) -> None:
    """``x-*`` keys are dropped by the key check where it looks, and by the models
    (`Extensible`) where it does not: anywhere, no error and no warning."""
    stack = write(tmp_path, "stack.yaml", EXTENSIONS_EVERYWHERE)
    project = load_project([stack], env={})
    web = project.services["web"]
    assert web.deploy is not None and web.deploy.resources is not None
    assert web.deploy.resources.limits is not None and web.deploy.resources.limits.memory == 1 << 20
    assert web.networks["front"] is not None and web.networks["front"].aliases == ("a",)
    assert web.volumes[0].target == "/a" and web.ports[0].target == 80 and web.secrets[0].source == "token"
    assert project.networks["front"].ipam is not None and project.secrets["token"].file is not None
    assert not [w for w in project.warnings if "x-" in w]
