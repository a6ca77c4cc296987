"""The reference corpus: real compose files load; the NEGATIVE ones are rejected.

Files from tests/data/reference/compose-corpus, a verbatim copy of
../shared/reference (see its README.md and SOURCES.md for provenance and licences),
vendored so the test runs wherever the repository is cloned. A few are
loader/schema fixtures rather than runnable stacks; each is listed below with the
reason it is not loadable as a project, and the test checks it fails for exactly
that reason (and loads without the consistency checks where that is the reason).
The config output of every loadable file must validate against the official
Compose schema.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from composer.configview import render
from composer.errors import GraphError, PycomposeError, SpecError
from composer.spec import load_project, load_tree, project_to_dict
from composer.support import unsupported_settings

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
CORPUS = REFERENCE / "compose-corpus"
ENV = {"HOME": "/home/user"}


# file → (error class, message fragment): NEGATIVE files that a loader must reject.
NEGATIVE = {
    "compose-go/loader/testdata/compose-depends-on-cycle.yaml": (
        GraphError,
        "dependency cycle: service1 -> service2 -> service3 -> service1",
    ),
    "compose-go/loader/testdata/compose-depends-on-self.yaml": (
        GraphError,
        "dependency cycle: service1 -> service1",
    ),
    "compose-go/loader/testdata/compose-include-cycle.yaml": (
        SpecError,
        "include cycle: compose-include-cycle.yaml -> compose-include-cycle.yaml",
    ),
}

# Fixtures that are not runnable stacks, with the reason.
NOT_A_STACK = {
    # Field-coverage fixture: depends_on db/redis, network other-other-network and
    # volume datavolume are never defined. Loads with consistency=False.
    "compose-go/loader/full-example.yml": 'services.foo.depends_on.db: undefined service "db"',
    # extends fixture: `with-port` has neither image nor build (compose-go tests load
    # it with consistency checks off). Loads with consistency=False.
    "compose-go/loader/testdata/extends/base.yaml": "services.with-port: service has neither",
    # Schema fixture: ${VARIABLE} in every typed field (ints, sizes, enums, volume
    # specs); no value of VARIABLE makes all of them valid. Prints with --no-interpolate.
    "compose-go/schema/using-variables.yaml": "services.foo.volumes[0]: invalid volume",
    # Its env_file app.env is a data file the corpus did not copy (see SOURCES.md);
    # Docker Compose stops on a missing required env_file too.
    "docker-compose/pkg/e2e/fixtures/config_hash/compose.yaml": "services.with-env-file.env_file[0]: env file",
}
CONSISTENCY_ONLY = {
    "compose-go/loader/full-example.yml",
    "compose-go/loader/testdata/extends/base.yaml",
}
RAW_ONLY = {"compose-go/schema/using-variables.yaml"}


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.y*ml"))


def test_negative_list_matches_sources() -> None:
    sources = (CORPUS / "SOURCES.md").read_text()
    marked = set(re.findall(r"\| `([^`]+)` \|[^\n]*NEGATIVE", sources))
    assert marked == set(NEGATIVE)


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_file(name: str) -> None:
    path = CORPUS / name
    if name in NEGATIVE:
        error, fragment = NEGATIVE[name]
        with pytest.raises(error) as caught:
            load_project([path], env=ENV)
        assert fragment in str(caught.value)
        return
    if name in NOT_A_STACK:
        with pytest.raises(PycomposeError) as failed:
            load_project([path], env=ENV)
        assert NOT_A_STACK[name] in str(failed.value)
        if name in RAW_ONLY:
            tree, _ = load_tree([path], env=ENV)
            validate_against_official_schema(printed_json(tree))
        if name not in CONSISTENCY_ONLY:
            return
        project = load_project([path], env=ENV, consistency=False)
    else:
        project = load_project([path], env=ENV)
    assert project.services or name.endswith("empty.yaml") or "include" in name
    validate_against_official_schema(printed_json(project_to_dict(project)))
    # Interpolation off, the merged file as written validates too (`config --no-interpolate`).
    validate_against_official_schema(printed_json(load_tree([path], env=ENV)[0]))


def printed_json(document: dict[str, Any]) -> dict[str, Any]:
    """What `pycompose config --format json` prints, parsed back."""
    parsed: dict[str, Any] = json.loads(render(document, "json"))
    return parsed


def validate_against_official_schema(config: dict[str, object]) -> None:
    pytest.importorskip("jsonschema")
    official_validator().validate(config)


@functools.cache
def official_validator() -> Any:
    import jsonschema

    schema = json.loads((REFERENCE / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_override_pair_from_corpus() -> None:
    simple = CORPUS / "compose-go/cli/testdata/simple"
    project = load_project(
        [simple / "compose.yaml", simple / "compose-with-overrides.yaml"], env=ENV
    )
    assert project.services["simple"].image == "haproxy"


def test_warnings_name_each_ignored_key() -> None:
    project = load_project([CORPUS / "awesome-compose/nginx-flask-mysql/compose.yaml"], env=ENV)
    assert not any("healthcheck" in w for w in project.warnings)  # modelled and acted on
    inert = unsupported_settings(project)
    assert "secrets: not supported yet, ignored" in inert
    assert "services.backend.build: not supported yet, ignored" in inert
    assert "services.backend.secrets: not supported yet, ignored" in inert
    assert project.secrets["db-password"].file == str(
        CORPUS / "awesome-compose/nginx-flask-mysql/db/password.txt"
    )
    assert project.services["backend"].build is not None
    assert project.services["backend"].build.context == str(
        CORPUS / "awesome-compose/nginx-flask-mysql/backend"
    )
