"""`logging:` → json-file rotation settings, and the warnings for what is not honoured."""

from __future__ import annotations

import pytest

from composer.errors import PlanError
from composer.logconfig import log_config, logging_warnings
from composer.models import Service
from runtime.config import LogConfig


def _service(logging: dict[str, object] | None) -> Service:
    return Service.model_validate({"image": "busybox", **({"logging": logging} if logging is not None else {})})


@pytest.mark.parametrize(("logging", "expected"), [
    (None, LogConfig()),
    ({"driver": "json-file"}, LogConfig()),
    ({"options": {"max-size": "10m"}}, LogConfig(max_size=10 * 1024 * 1024, max_files=1)),
    ({"driver": "json-file", "options": {"max-size": "1k", "max-file": "3"}}, LogConfig(max_size=1024, max_files=3)),
    ({"driver": "local", "options": {"max-size": "2m", "max-file": "5"}}, LogConfig(max_size=2 * 1024 * 1024, max_files=5)),
    ({"options": {"max-size": "-1"}}, LogConfig()),
    ({"driver": "syslog", "options": {"max-size": "1k"}}, LogConfig()),
])
def test_rotation_settings(logging: dict[str, object] | None, expected: LogConfig) -> None:
    assert log_config("web", _service(logging)) == expected


@pytest.mark.parametrize(("options", "message"), [
    ({"max-size": "ten"}, "services.web.logging.options.max-size: "),
    ({"max-size": "1k", "max-file": "0"}, "services.web.logging.options.max-file: must be a whole number of at least 1"),
    ({"max-size": "1k", "max-file": "x"}, "services.web.logging.options.max-file: must be a whole number"),
])
def test_bad_options_name_the_key(options: dict[str, str], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace(".", r"\.")):
        log_config("web", _service({"options": options}))


def test_warnings_for_what_is_not_honoured() -> None:
    assert logging_warnings("services.web", _service({"driver": "json-file", "options": {"max-size": "1m", "compress": "true"}})) == [
        "services.web.logging.options.compress: not supported yet, ignored"]
    assert logging_warnings("services.web", _service({"driver": "fluentd"})) == [
        "services.web.logging.driver: fluentd is not supported, logs are written as json-file"]
    assert logging_warnings("services.web", _service(None)) == []
