"""`healthcheck:` from the stack file to the runtime's config: forms, durations, errors (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer.errors import SpecError
from composer.spec import load_project, project_to_dict
from composer.translate import healthcheck
from runtime.config import Healthcheck


def load_check(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "stack.yaml"
    path.write_text("services:\n  web:\n    image: x\n    healthcheck:\n"
                    + "".join(f"      {line}\n" for line in body.strip().splitlines()))
    return load_project([path], env={"CHECK": "wget -q localhost"}).services["web"]


@pytest.mark.parametrize(("test", "expected"), [
    ("[CMD, curl, -f, http://localhost]", ("CMD", "curl", "-f", "http://localhost")),
    ("[CMD-SHELL, 'pg_isready -U postgres']", ("CMD-SHELL", "pg_isready -U postgres")),
    ("'pg_isready || exit 1'", ("CMD-SHELL", "pg_isready || exit 1")),  # a string is CMD-SHELL, as Compose
    ("$CHECK", ("CMD-SHELL", "wget -q localhost")),
    ("[CMD, test, '1']", ("CMD", "test", "1")),
    ("[NONE]", ("NONE",)),
])
def test_test_forms(tmp_path: Path, test: str, expected: tuple[str, ...]) -> None:
    assert load_check(tmp_path, f"test: {test}").healthcheck.test == expected


def test_durations_are_normalised_and_round_trip_through_config(tmp_path: Path) -> None:
    service = load_check(tmp_path, "test: [CMD, 'true']\ninterval: 1m30s\ntimeout: 500ms\n"
                                   "start_period: 10s\nstart_interval: 2s\nretries: '4'")
    check = service.healthcheck
    assert (check.interval, check.timeout, check.start_period, check.start_interval, check.retries) == (
        90.0, 0.5, 10.0, 2.0, 4)
    assert project_to_dict(load_project([tmp_path / "stack.yaml"], env={}))["services"]["web"]["healthcheck"] == {
        "interval": "1m30s", "retries": 4, "start_interval": "2s", "start_period": "10s",
        "test": ["CMD", "true"], "timeout": "500ms"}


def test_translation_keeps_only_what_was_set_and_disable_means_none(tmp_path: Path) -> None:
    assert healthcheck(load_check(tmp_path, "test: exit 0\ninterval: 2s")) == Healthcheck(
        test=("CMD-SHELL", "exit 0"), interval=2.0)
    assert healthcheck(load_check(tmp_path, "disable: true")) == Healthcheck(test=("NONE",))
    assert healthcheck(load_check(tmp_path, "interval: 2s")) is None  # no test: nothing to run


@pytest.mark.parametrize(("body", "message"), [
    ("test: [BOGUS, x]", 'stack.yaml:5:13: services.web.healthcheck.test: unknown test type "BOGUS" '
                         '(start the list with "CMD", "CMD-SHELL" or "NONE")'),
    ("test: [CMD]", "stack.yaml:5:13: services.web.healthcheck.test: CMD needs a command"),
    ("test: [NONE, x]", "stack.yaml:5:13: services.web.healthcheck.test: NONE takes no arguments"),
    ("test: {a: 1}", "stack.yaml:5:13: services.web.healthcheck.test: expected a string or a list of strings, "
                     "got a mapping"),
    ("test: [CMD, x]\ninterval: 5q", 'stack.yaml:6:17: services.web.healthcheck.interval: invalid duration "5q" '
                                     "(use a duration such as 10s, 1m30s or 500ms)"),
    ("test: [CMD, x]\nretries: -1", "stack.yaml:6:16: services.web.healthcheck.retries:"),
    ("disable: true\ntest: [CMD, x]", "stack.yaml:5:16: services.web.healthcheck.disable: "
                                      "`disable: true` cannot be combined with a test"),
    ("tset: [CMD, x]", "stack.yaml:5:7: services.web.healthcheck.tset: unknown key (did you mean `test`?)"),
])
def test_bad_healthchecks_are_one_clear_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecError) as error:
        load_check(tmp_path, body)
    assert str(error.value).removeprefix(f"{tmp_path}/").startswith(message)
