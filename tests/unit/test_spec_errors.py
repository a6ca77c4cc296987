"""Every kind of bad stack file gives one line: file:line:col, key path, problem, hint.

Table-driven: (id, stack file text, error class, exact rendered message). The file
is written as ``stack.yaml`` in a temporary directory; the directory prefix is
removed before comparing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import GraphError, PycomposeError, SpecError, SpecErrors
from composer.spec import load_project

CASES: list[tuple[str, str, type[PycomposeError], str]] = [
    (
        "tab",
        "services:\n  web:\n\timage: x\n",
        SpecError,
        "stack.yaml:3:1: invalid YAML: tab character (indent with spaces, not tabs)",
    ),
    (
        "unclosed",
        "services:\n  web:\n    command: [a, b\n",
        SpecError,
        "stack.yaml:4:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence started on line 3)",
    ),
    (
        "bad indent",
        "services:\n  web:\n    image: x\n   user: y\n",
        SpecError,
        "stack.yaml:4:4: invalid YAML: did not find expected key (while parsing a block mapping started on line 2)",
    ),
    (
        "dup key",
        "services:\n  web:\n    image: x\n    image: y\n",
        SpecError,
        'stack.yaml:4:5: duplicate key "image" (first defined on line 3)',
    ),
    (
        "dup service",
        "services:\n  web:\n    image: x\n  web:\n    image: y\n",
        SpecError,
        'stack.yaml:4:3: duplicate key "web" (first defined on line 2)',
    ),
    (
        "unknown tag",
        "services:\n  web:\n    image: !foo x\n",
        SpecError,
        "stack.yaml:3:12: unknown YAML tag '!foo' (pycompose knows !reset and !override)",
    ),
    (
        "dup key after resolution",
        "services:\n  web:\n    image: x\n    sysctls:\n      1: a\n      01: b\n",
        SpecError,
        'stack.yaml:6:7: duplicate key "01" (first defined on line 5)',
    ),
    (
        "tagged scalar that is not its type",
        "services:\n  web:\n    image: x\n    pids_limit: !!int x\n",
        SpecError,
        'stack.yaml:4:17: invalid YAML: invalid value "x" for !!int',
    ),
    (
        "anchor in itself",
        "services:\n  web: &w\n    image: x\n    labels: *w\n",
        SpecError,
        "stack.yaml:4:13: invalid YAML: alias *w is inside its own anchor's value",
    ),
    (
        "merge of a scalar",
        "services:\n  web:\n    <<: 3\n    image: x\n",
        SpecError,
        "stack.yaml:3:9: invalid YAML: expected a mapping or list of mappings for merging, but found scalar"
        " (while constructing a mapping started on line 3)",
    ),
    (
        "merge of a list with a scalar",
        "x-a: &a {image: x}\nservices:\n  web:\n    <<: [*a, 3]\n",
        SpecError,
        "stack.yaml:4:14: invalid YAML: expected a mapping for merging, but found scalar"
        " (while constructing a mapping started on line 4)",
    ),
    (
        "merge key as a value",
        "services:\n  web:\n    image: <<\n",
        SpecError,
        "stack.yaml:3:12: unknown YAML tag 'tag:yaml.org,2002:merge' (pycompose knows !reset and !override)",
    ),
    (
        "anchored merge key used as a value",
        "x-a: {&m <<: {y: 1}}\nservices:\n  web:\n    image: x\n    environment: {A: *m}\n",
        SpecError,
        "stack.yaml:5:22: unknown YAML tag 'tag:yaml.org,2002:merge' (pycompose knows !reset and !override)",
    ),
    (
        "tagged mapping",
        "services:\n  web: !!set {image: x}\n",
        SpecError,
        "stack.yaml:2:8: unknown YAML tag 'tag:yaml.org,2002:set' (pycompose knows !reset and !override)",
    ),
    (
        "two documents",
        "services:\n  web:\n    image: x\n---\nservices: {}\n",
        SpecError,
        "stack.yaml:4:1: invalid YAML: but found another document (expected a single document in the stream started on line 1)",
    ),
    (
        "undefined alias",
        "services:\n  web:\n    image: x\n    command: [a, *nope]\n",
        SpecError,
        "stack.yaml:4:18: invalid YAML: undefined alias *nope (define the anchor &nope before using it)",
    ),
    (
        "top not map",
        "- a\n- b\n",
        SpecError,
        "stack.yaml:1:1: expected a mapping of top-level keys, got a list",
    ),
    (
        "services list",
        "services: []\n",
        SpecError,
        "stack.yaml:1:11: services: expected a mapping of service names to definitions, got a list",
    ),
    (
        "service scalar",
        "services:\n  web: nginx\n",
        SpecError,
        "stack.yaml:2:8: services.web: expected a mapping, got a string",
    ),
    (
        "unknown top",
        "servics:\n  web:\n    image: x\n",
        SpecError,
        "stack.yaml:1:1: servics: unknown key (did you mean `services`?)",
    ),
    (
        "unknown key",
        "services:\n  web:\n    image: x\n    restrat: always\n",
        SpecError,
        "stack.yaml:4:5: services.web.restrat: unknown key (did you mean `restart`?)",
    ),
    (
        "unknown key far",
        "services:\n  web:\n    image: x\n    zzzz: 1\n",
        SpecError,
        "stack.yaml:4:5: services.web.zzzz: unknown key",
    ),
    (
        "unknown deploy key",
        "services:\n  web:\n    image: x\n    deploy:\n      replica: 2\n",
        SpecError,
        "stack.yaml:5:7: services.web.deploy.replica: unknown key (did you mean `replicas`?)",
    ),
    (
        "unknown depends key",
        "services:\n  web:\n    image: x\n    depends_on:\n      db:\n        conditon: service_healthy\n  db:\n    image: y\n",
        SpecError,
        "stack.yaml:6:9: services.web.depends_on.db.conditon: unknown key (did you mean `condition`?)",
    ),
    (
        "command map",
        "services:\n  web:\n    image: x\n    command: {a: 1}\n",
        SpecError,
        "stack.yaml:4:14: services.web.command: expected a string or a list of strings, got a mapping",
    ),
    (
        "command unclosed quote",
        "services:\n  web:\n    image: x\n    command: echo 'hi\n",
        SpecError,
        'stack.yaml:4:14: services.web.command: cannot split command "echo \'hi": No closing quotation',
    ),
    (
        "image list",
        "services:\n  web:\n    image: [x]\n",
        SpecError,
        "stack.yaml:3:12: services.web.image: expected a string, got a list",
    ),
    (
        "restart enum",
        "services:\n  web:\n    image: x\n    restart: sometimes\n",
        SpecError,
        'stack.yaml:4:14: services.web.restart: invalid restart policy "sometimes" (expected one of no, always, on-failure, unless-stopped or on-failure:N)',
    ),
    (
        "restart count",
        "services:\n  web:\n    image: x\n    restart: always:3\n",
        SpecError,
        'stack.yaml:4:14: services.web.restart: invalid restart policy "always:3" (only on-failure takes a count: on-failure:3)',
    ),
    (
        "condition enum",
        "services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_ready\n  db:\n    image: y\n",
        SpecError,
        'stack.yaml:6:20: services.web.depends_on.db.condition: invalid value "service_ready" (expected service_started, service_healthy or service_completed_successfully)',
    ),
    (
        "mem size",
        "services:\n  web:\n    image: x\n    mem_limit: 12x\n",
        SpecError,
        'stack.yaml:4:16: services.web.mem_limit: invalid size "12x" (use a number with b, k, m or g)',
    ),
    (
        "deploy memory",
        "services:\n  web:\n    image: x\n    deploy:\n      resources:\n        limits:\n          memory: lots\n",
        SpecError,
        'stack.yaml:7:19: services.web.deploy.resources.limits.memory: invalid size "lots" (use a number with b, k, m or g)',
    ),
    (
        "cpus zero",
        "services:\n  web:\n    image: x\n    cpus: 0\n",
        SpecError,
        "stack.yaml:4:11: services.web.cpus: invalid CPU count 0 (use a positive number of CPUs such as 0.5 or 2)",
    ),
    (
        "cpus text",
        "services:\n  web:\n    image: x\n    cpus: half\n",
        SpecError,
        'stack.yaml:4:11: services.web.cpus: invalid CPU count "half" (use a positive number of CPUs such as 0.5 or 2)',
    ),
    (
        "pids text",
        "services:\n  web:\n    image: x\n    pids_limit: many\n",
        SpecError,
        'stack.yaml:4:17: services.web.pids_limit: expected an integer, got "many"',
    ),
    (
        "duration",
        "services:\n  web:\n    image: x\n    stop_grace_period: 10\n",
        SpecError,
        "stack.yaml:4:24: services.web.stop_grace_period: invalid duration 10 (use a duration such as 10s, 1m30s or 500ms)",
    ),
    (
        "duration unit",
        "services:\n  web:\n    image: x\n    stop_grace_period: 10x\n",
        SpecError,
        'stack.yaml:4:24: services.web.stop_grace_period: invalid duration "10x" (use a duration such as 10s, 1m30s or 500ms)',
    ),
    (
        "signal",
        "services:\n  web:\n    image: x\n    stop_signal: SIGFOO\n",
        SpecError,
        'stack.yaml:4:18: services.web.stop_signal: unknown signal "SIGFOO" (use a name such as SIGTERM or SIGINT)',
    ),
    (
        "replicas negative",
        "services:\n  web:\n    image: x\n    deploy:\n      replicas: -1\n",
        SpecError,
        "stack.yaml:5:17: services.web.deploy.replicas: invalid value -1 (must be at least 0)",
    ),
    (
        "env nested",
        "services:\n  web:\n    image: x\n    environment:\n      A: {b: 1}\n",
        SpecError,
        "stack.yaml:5:10: services.web.environment.A: expected a string, got a mapping",
    ),
    (
        "env list int",
        "services:\n  web:\n    image: x\n    environment:\n      - 3\n",
        SpecError,
        "stack.yaml:5:7: services.web.environment: each entry must be a KEY=VALUE string, got a number",
    ),
    (
        "volume short",
        "services:\n  web:\n    image: x\n    volumes:\n      - a:b:c:d\n",
        SpecError,
        'stack.yaml:5:9: services.web.volumes[0]: invalid volume "a:b:c:d" (use [SOURCE:]TARGET[:ro|rw])',
    ),
    (
        "volume option",
        "services:\n  web:\n    image: x\n    volumes:\n      - ./a:/b:rx\n",
        SpecError,
        'stack.yaml:5:9: services.web.volumes[0]: invalid volume option "rx" in "./a:/b:rx" (use [SOURCE:]TARGET[:ro|rw])',
    ),
    (
        "volume relative target",
        "services:\n  web:\n    image: x\n    volumes:\n      - ./a:b\n",
        SpecError,
        'stack.yaml:5:9: services.web.volumes[0]: mount target "b" must be an absolute path',
    ),
    (
        "volume type",
        "services:\n  web:\n    image: x\n    volumes:\n      - type: nfs\n        source: a\n        target: /b\n",
        SpecError,
        'stack.yaml:5:15: services.web.volumes[0].type: invalid value "nfs" '
        "(expected bind, volume, tmpfs, image, npipe or cluster)",
    ),
    (
        "volume missing target",
        "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        source: /a\n",
        SpecError,
        "stack.yaml:5:9: services.web.volumes[0]: missing required key `target`",
    ),
    (
        "ipv4",
        "services:\n  web:\n    image: x\n    networks:\n      front:\n        ipv4_address: 10.0.0.300\nnetworks:\n  front:\n",
        SpecError,
        'stack.yaml:6:23: services.web.networks.front.ipv4_address: invalid IP address "10.0.0.300"',
    ),
    (
        "subnet",
        "services:\n  web:\n    image: x\nnetworks:\n  front:\n    ipam:\n      config:\n        - subnet: 10.0.0.0/33\n",
        SpecError,
        'stack.yaml:8:19: networks.front.ipam.config[0].subnet: invalid subnet "10.0.0.0/33" (use CIDR notation: 10.1.0.0/16)',
    ),
    (
        "undefined dep",
        "services:\n  web:\n    image: x\n    depends_on: [db]\n",
        SpecError,
        'stack.yaml:4:18: services.web.depends_on.db: undefined service "db"',
    ),
    (
        "undefined network",
        "services:\n  web:\n    image: x\n    networks: [front]\n",
        SpecError,
        'stack.yaml:4:16: services.web.networks.front: undefined network "front" (define it under the top-level networks:)',
    ),
    (
        "undefined volume",
        "services:\n  web:\n    image: x\n    volumes:\n      - data:/data\n",
        SpecError,
        'stack.yaml:5:9: services.web.volumes[0]: undefined volume "data" (define it under the top-level volumes:)',
    ),
    (
        "no image",
        "services:\n  web:\n    command: echo\n",
        SpecError,
        "stack.yaml:2:3: services.web: service has neither `image` nor `build` (add an image: to run)",
    ),
    (
        "self dep",
        "services:\n  web:\n    image: x\n    depends_on: [web]\n",
        GraphError,
        "stack.yaml:4:18: dependency cycle: web -> web (service web depends on itself)",
    ),
    (
        "cycle",
        "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n",
        GraphError,
        "stack.yaml:4:18: dependency cycle: a -> b -> c -> a",
    ),
    (
        "container_name replicas",
        "services:\n  web:\n    image: x\n    container_name: w\n    deploy:\n      replicas: 2\n",
        SpecError,
        "stack.yaml:4:21: services.web.container_name: container_name cannot be used with 2 replicas (container names must be unique: remove container_name or use one replica)",
    ),
    (
        "required var",
        'services:\n  web:\n    image: "nginx:${TAG:?set TAG to the release}"\n',
        SpecError,
        "stack.yaml:3:12: services.web.image: required variable TAG is missing a value: set TAG to the release",
    ),
    (
        "bad template",
        "services:\n  web:\n    image: x\n    command: echo ${}\n",
        SpecError,
        'stack.yaml:4:14: services.web.command: invalid interpolation "echo ${}" (write $$ for a literal $)',
    ),
    (
        "dollar digit",
        "services:\n  web:\n    image: x\n    command: echo $1\n",
        SpecError,
        'stack.yaml:4:14: services.web.command: invalid interpolation "echo $1" (write $$ for a literal $)',
    ),
    (
        "project name",
        'name: "!!!"\nservices:\n  web:\n    image: x\n',
        SpecError,
        'stack.yaml:1:7: name: invalid project name "!!!" (use lowercase letters, digits, dashes and underscores, starting with a letter or digit)',
    ),
    (
        "network unknown key",
        "services:\n  web:\n    image: x\nnetworks:\n  front:\n    drvier: bridge\n",
        SpecError,
        "stack.yaml:6:5: networks.front.drvier: unknown key (did you mean `driver`?)",
    ),
    (
        "volume def type",
        "services:\n  web:\n    image: x\nvolumes:\n  data: [a]\n",
        SpecError,
        "stack.yaml:5:9: volumes.data: expected a mapping, got a list",
    ),
    (
        "labels bool list",
        "services:\n  web:\n    image: x\n    labels: [1]\n",
        SpecError,
        "stack.yaml:4:13: services.web.labels: each entry must be a KEY=VALUE string, got a number",
    ),
    (
        "extends missing",
        "services:\n  web:\n    extends: base\n",
        SpecError,
        'stack.yaml:3:14: services.web.extends: extends: no service "base" in this file',
    ),
    (
        "extends cycle",
        "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
        SpecError,
        "stack.yaml:3:14: services.a.extends: extends cycle: a -> b -> a",
    ),
    (
        "unclosed brace",
        "services:\n  web: {image: x\n",
        SpecError,
        "stack.yaml:3:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping started on line 2)",
    ),
    (
        "undefined secret",
        "services:\n  web:\n    image: x\n    secrets: [token]\n",
        SpecError,
        'stack.yaml:4:15: services.web.secrets[0]: undefined secret "token" (define it under the top-level secrets:)',
    ),
    (
        "undefined config",
        "services:\n  web:\n    image: x\n    configs: [{source: app, target: /app}]\n",
        SpecError,
        'stack.yaml:4:15: services.web.configs[0]: undefined config "app" (define it under the top-level configs:)',
    ),
    (
        "undefined link",
        "services:\n  web:\n    image: x\n    links: [db:database]\n",
        SpecError,
        'stack.yaml:4:13: services.web.links[0]: undefined service "db"',
    ),
    (
        "undefined volumes_from",
        "services:\n  web:\n    image: x\n    volumes_from: [data:ro]\n",
        SpecError,
        'stack.yaml:4:20: services.web.volumes_from[0]: undefined service "data"',
    ),
    (
        "undefined ipc service",
        "services:\n  web:\n    image: x\n    ipc: service:db\n",
        SpecError,
        'stack.yaml:4:10: services.web.ipc: undefined service "db"',
    ),
    (
        "pull policy",
        "services:\n  web:\n    image: x\n    pull_policy: sometimes\n",
        SpecError,
        'stack.yaml:4:18: services.web.pull_policy: invalid pull policy "sometimes" '
        "(expected always, never, missing, build, daily, weekly or every_<duration>)",
    ),
    (
        "cgroup enum",
        "services:\n  web:\n    image: x\n    cgroup: shared\n",
        SpecError,
        'stack.yaml:4:13: services.web.cgroup: invalid value "shared" (expected host or private)',
    ),
    (
        "oom score range",
        "services:\n  web:\n    image: x\n    oom_score_adj: 2000\n",
        SpecError,
        "stack.yaml:4:20: services.web.oom_score_adj: invalid value 2000 (must be at most 1000)",
    ),
    (
        "scale and replicas",
        "services:\n  web:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n",
        SpecError,
        "stack.yaml:4:12: services.web.scale: scale 2 and deploy.replicas 3 differ (set only one of them)",
    ),
    (
        "deploy mode enum",
        "services:\n  web:\n    image: x\n    deploy: {mode: everywhere}\n",
        SpecError,
        'stack.yaml:4:20: services.web.deploy.mode: invalid value "everywhere" '
        "(expected replicated, global, replicated-job or global-job)",
    ),
    (
        "rollback delay",
        "services:\n  web:\n    image: x\n    deploy:\n      rollback_config: {delay: soon}\n",
        SpecError,
        'stack.yaml:5:32: services.web.deploy.rollback_config.delay: invalid duration "soon" '
        "(use a duration such as 10s, 1m30s or 500ms)",
    ),
    (
        "tmpfs size",
        "services:\n  web:\n    image: x\n    volumes:\n      - {type: tmpfs, target: /t, tmpfs: {size: 10q}}\n",
        SpecError,
        'stack.yaml:5:49: services.web.volumes[0].tmpfs.size: invalid size "10q" (use a number with b, k, m or g)',
    ),
    (
        "secret mode",
        "services:\n  web:\n    image: x\n    secrets: [{source: s, mode: rw}]\nsecrets:\n  s: {file: ./s}\n",
        SpecError,
        'stack.yaml:4:33: services.web.secrets[0].mode: invalid file mode "rw" (use an octal mode such as 0440)',
    ),
    (
        "hook without command",
        "services:\n  web:\n    image: x\n    post_start: [{user: root}]\n",
        SpecError,
        "stack.yaml:4:18: services.web.post_start[0]: missing required key `command`",
    ),
    (
        "logging unknown key",
        "services:\n  web:\n    image: x\n    logging: {drvier: syslog}\n",
        SpecError,
        "stack.yaml:4:15: services.web.logging.drvier: unknown key (did you mean `driver`?)",
    ),
    (
        "blkio weight",
        "services:\n  web:\n    image: x\n    blkio_config: {weight: 5000}\n",
        SpecError,
        "stack.yaml:4:28: services.web.blkio_config.weight: invalid value 5000 (must be at most 1000)",
    ),
    (
        "secret external type",
        "services:\n  web: {image: x}\nsecrets:\n  s: {external: [a]}\n",
        SpecError,
        "stack.yaml:4:17: secrets.s.external: expected true or false, got a list",
    ),
    (
        "nested unknown key hint",
        "services:\n  web:\n    image: x\n    deploy: {placement: {constrains: []}}\n",
        SpecError,
        "stack.yaml:4:26: services.web.deploy.placement.constrains: unknown key (did you mean `constraints`?)",
    ),
    (
        "top secret unknown key",
        "services:\n  web: {image: x}\nsecrets:\n  s: {fiel: x}\n",
        SpecError,
        "stack.yaml:4:7: secrets.s.fiel: unknown key (did you mean `file`?)",
    ),
    (
        "internal type",
        "services:\n  web:\n    image: x\nnetworks:\n  front:\n    internal: maybe\n",
        SpecError,
        'stack.yaml:6:15: networks.front.internal: expected true or false, got "maybe"',
    ),
]


@pytest.mark.parametrize(
    ("text", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_stack_file(
    tmp_path: Path, text: str, error: type[PycomposeError], message: str
) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(text)
    with pytest.raises(PycomposeError) as caught:
        load_project([stack], env={})
    assert type(caught.value) is error
    assert str(caught.value).replace(f"{tmp_path}/", "") == message
    assert "\n" not in str(caught.value)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


def test_error_in_override_file_points_into_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("services:\n  web:\n    image: x\n")
    (tmp_path / "override.yaml").write_text("services:\n  web:\n    mem_limit: 1q\n")
    with pytest.raises(SpecError) as caught:
        load_project([tmp_path / "base.yaml", tmp_path / "override.yaml"], env={})
    assert str(caught.value).replace(f"{tmp_path}/", "") == (
        'override.yaml:3:16: services.web.mem_limit: invalid size "1q" '
        "(use a number with b, k, m or g)"
    )


def test_error_in_a_short_volume_points_at_that_entry(tmp_path: Path) -> None:
    """A short volume entry becomes a long-form mapping: a problem inside it is at the
    line of the entry, in the file that wrote it."""
    (tmp_path / "base.yaml").write_text("services:\n  web:\n    image: x\n    volumes: [/a]\n")
    (tmp_path / "override.yaml").write_text("services:\n  web:\n    volumes:\n    - /b\n    - data:c:ro\n")
    with pytest.raises(SpecError) as caught:
        load_project([tmp_path / "base.yaml", tmp_path / "override.yaml"], env={})
    assert str(caught.value).replace(f"{tmp_path}/", "") == (
        'override.yaml:5:7: services.web.volumes[2]: mount target "c" must be an absolute path'
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="stack file not found"):
        load_project([tmp_path / "nope.yaml"], env={})


def test_cycle_is_a_graph_error() -> None:
    assert issubclass(GraphError, PycomposeError)


def _reported(tmp_path: Path, text: str) -> list[str]:
    """The lines of the SpecErrors that loading *text* (as stack.yaml) raises, paths relative."""
    stack = tmp_path / "stack.yaml"
    stack.write_text(text)
    with pytest.raises(SpecErrors) as caught:
        load_project([stack], env={})
    return str(caught.value).replace(f"{tmp_path}/", "").splitlines()


def test_independent_problems_are_reported_together(tmp_path: Path) -> None:
    lines = _reported(tmp_path, (
        "services:\n  web:\n    image: x\n    restrat: always\n    mem_limit: 1q\n"
        "  db:\n    image: [y]\nvolumes:\n  data: {driver: [local]}\nsecrest: {}\n"
    ))
    assert lines == [
        "stack.yaml:10:1: secrest: unknown key (did you mean `secrets`?)",
        "stack.yaml:4:5: services.web.restrat: unknown key (did you mean `restart`?)",
        'stack.yaml:5:16: services.web.mem_limit: invalid size "1q" (use a number with b, k, m or g)',
        "stack.yaml:7:12: services.db.image: expected a string, got a list",
        "stack.yaml:9:18: volumes.data.driver: expected a string, got a list",
    ]


def test_all_dangling_references_are_reported_together(tmp_path: Path) -> None:
    lines = _reported(tmp_path, (
        "services:\n  web:\n    image: x\n    depends_on: [db]\n    networks: [back]\n"
        "  worker:\n    volumes: [data:/d]\n"
    ))
    assert [line.partition(": ")[2] for line in lines] == [
        'services.web.depends_on.db: undefined service "db"',
        'services.web.networks.back: undefined network "back" (define it under the top-level networks:)',
        "services.worker: service has neither `image` nor `build` (add an image: to run)",
        'services.worker.volumes[0]: undefined volume "data" (define it under the top-level volumes:)',
    ]


def test_each_key_at_fault_in_a_service_is_reported_in_written_order(tmp_path: Path) -> None:
    lines = _reported(tmp_path, (
        "services:\n  web:\n    image: x\n    gpus: [{count: many}]\n    logging: {drvier: x}\n"
        "    develop: {watch: [{path: ., action: sync, targte: /x}]}\n"
    ))
    assert lines == [
        'stack.yaml:4:20: services.web.gpus[0].count: expected an integer, got "many"',
        "stack.yaml:5:15: services.web.logging.drvier: unknown key (did you mean `driver`?)",
        "stack.yaml:6:47: services.web.develop.watch[0].targte: unknown key (did you mean `target`?)",
    ]


def test_unknown_keys_inside_and_beside_checked_children_are_reported_in_written_order(tmp_path: Path) -> None:
    lines = _reported(tmp_path, (
        "services:\n  web:\n    image: x\n    deploy: {replicsa: 2}\n    restrat: always\n"
        "    ports: [{targte: 80}]\n    helthcheck: {}\n"
    ))
    assert [line.partition(": ")[2].partition(":")[0] for line in lines] == [
        "services.web.deploy.replicsa", "services.web.restrat", "services.web.ports[0].targte",
        "services.web.helthcheck", "services.web.ports[0]",
    ]


def test_every_missing_required_variable_is_reported(tmp_path: Path) -> None:
    lines = _reported(tmp_path, "services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n    user: ${USER_ID:?set USER_ID}\n")
    assert lines == [
        "stack.yaml:3:12: services.web.image: required variable IMAGE is missing a value: set IMAGE",
        "stack.yaml:4:11: services.web.user: required variable USER_ID is missing a value: set USER_ID",
    ]
