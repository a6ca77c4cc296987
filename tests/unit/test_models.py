"""Value parsers and model validation used by the loader (sizes, durations, ...)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from composer.models import Service, ServiceVolume
from composer.spec.values import (
    InvalidValue,
    format_duration,
    parse_cpus,
    parse_duration,
    parse_restart,
    parse_signal,
    parse_size,
    split_command,
)
from composer.spec.volumes import parse_volume


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512m", 512 * 2**20),
        ("1g", 2**30),
        ("1.5G", int(1.5 * 2**30)),
        ("100", 100),
        ("64k", 65536),
        ("2MiB", 2 * 2**20),
        ("10b", 10),
        (4096, 4096),
    ],
)
def test_sizes(text: object, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["12x", "", "m", "-1", True, "1.2.3g"])
def test_bad_sizes(text: object) -> None:
    with pytest.raises(InvalidValue):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10), ("1m30s", 90), ("500ms", 0.5), ("1h", 3600), ("1.5s", 1.5), ("0", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", "10x", "s", "", "1m 30s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_duration(text)


@pytest.mark.parametrize("text", ["256m", "1G", "3k", "7t", "2p", "9007199254740993k", "\u0662m", "1\u212a", "0m"])
def test_the_short_size_path_gives_what_the_pattern_gives(text: str) -> None:
    """"256m" skips the pattern; with a blank around it, it takes the pattern."""
    assert parse_size(text) == parse_size(f" {text} ")


@pytest.mark.parametrize("text", ["20s", "0s", "90m", "2h", "12345678901234567890s", "\u0662s"])
def test_the_short_duration_path_gives_what_the_loop_gives(text: str) -> None:
    """"20s" skips the loop over parts; with a blank around it, it takes the loop."""
    assert parse_duration(text) == parse_duration(f" {text} ")


@pytest.mark.parametrize("text", ["9" * 400 + "m", f" {'9' * 400}m ", "9" * 400 + ".5 GiB", "9" * 400])
def test_a_size_with_hundreds_of_digits_is_an_invalid_value(text: str) -> None:
    """(float() gives infinity: no int for it, and no traceback.)"""
    with pytest.raises(InvalidValue, match="too large"):
        parse_size(text)


@pytest.mark.parametrize("text", ["9" * 400 + "s", f" {'9' * 400}s ", "1m" + "9" * 400 + "h"])
def test_a_duration_with_hundreds_of_digits_is_an_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValue, match="too long"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (90, 0.5, 3600, 20, 1.5)] == [
        "1m30s",
        "500ms",
        "1h",
        "20s",
        "1.5s",
    ]


def test_cpus_signals_restart() -> None:
    assert parse_cpus("0.5") == 0.5
    for bad in (0, -1, "x", "nan", True):
        with pytest.raises(InvalidValue):
            parse_cpus(bad)
    assert [parse_signal(s) for s in ("SIGTERM", "TERM", 15, "sigint", "SIGRTMIN+3")] == [
        "SIGTERM",
        "SIGTERM",
        "SIGTERM",
        "SIGINT",
        "SIGRTMIN+3",
    ]
    with pytest.raises(InvalidValue):
        parse_signal("SIGNOPE")
    assert parse_restart("on-failure:5") == ("on-failure", 5)
    assert parse_restart("unless-stopped") == ("unless-stopped", None)
    with pytest.raises(InvalidValue):
        parse_restart("on-failure:x")


def test_split_command() -> None:
    assert split_command("sh -c 'a b'") == ("sh", "-c", "a b")
    assert split_command(["sleep", 10]) == ("sleep", "10")
    assert split_command("") == ()
    assert split_command(None) is None


def test_volume_short_syntax() -> None:
    assert parse_volume("./a:/b:ro", "/proj", None).mount == {
        "type": "bind",
        "source": "/proj/a",
        "target": "/b",
        "bind": {"create_host_path": True},  # implied by the short syntax, as in Compose
        "read_only": True,
    }
    assert parse_volume("~/c:/c", "/proj", "/home/u").mount["source"] == "/home/u/c"
    assert parse_volume("data:/d:nocopy").mount == {
        "type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": True}
    }
    assert parse_volume("/a:/d:ro,Z,rshared,cached").mount == {
        "type": "bind", "source": "/a", "target": "/d", "read_only": True,
        "bind": {"create_host_path": True, "selinux": "Z", "propagation": "rshared"}, "consistency": "cached",
    }
    assert parse_volume("/a:/d:nocopy").ignored_options == ("nocopy",)
    assert parse_volume("/only").mount == {"type": "volume", "target": "/only"}


def test_models_are_frozen_and_strict() -> None:
    service = Service(image="x", command="a b")  # type: ignore[arg-type]
    assert service.command == ("a", "b")
    with pytest.raises(ValidationError):
        service.image = "y"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Service(image="x", bogus=["db"])  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ServiceVolume(type="tmpfs", source="x", target="/t")


def test_supported_keys_are_exactly_the_model_fields() -> None:
    from composer import models
    from composer.spec import keys

    def fields(model: type[models.Model]) -> frozenset[str]:
        return frozenset(model.model_fields)

    # LOADER_KEYS are consumed by the loader (env_file, ...), max_retries comes from restart.
    assert keys.SERVICE.supported - keys.LOADER_KEYS == fields(models.Service) - {"max_retries"}
    assert keys.LOADER_KEYS <= keys.SERVICE_KEYS
    assert keys.NETWORK.supported == fields(models.Network)
    assert keys.VOLUME.supported == fields(models.Volume)
    assert keys.SERVICE.maps["deploy"].supported == fields(models.Deploy)
    assert keys.SERVICE.each["depends_on"].supported == fields(models.DependsOn)
    assert keys.SERVICE.each["networks"].supported == fields(models.ServiceNetwork)
    assert keys.SERVICE.items["volumes"].supported == fields(models.ServiceVolume)
    resources = keys.SERVICE.maps["deploy"].maps["resources"]
    assert resources.maps["limits"].supported == fields(models.ResourceLimits)
    assert resources.maps["reservations"].supported == fields(models.ResourceReservations)


def test_every_service_key_is_modelled() -> None:
    from composer.spec import keys

    assert keys.SERVICE.supported == keys.SERVICE_KEYS
    deploy = keys.SERVICE.maps["deploy"]
    assert deploy.supported == deploy.spec
    assert keys.SERVICE.items["volumes"].supported == keys.MOUNT_KEYS
    assert keys.VOLUME.supported == keys.VOLUME_KEYS
    resources = deploy.maps["resources"]
    assert all(shape.supported == shape.spec for shape in resources.maps.values())
