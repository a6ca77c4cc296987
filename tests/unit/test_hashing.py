"""The config hash: what recreates a container, and what must not."""

from __future__ import annotations

from composer.hashing import config_hash, service_document
from composer.models import Service


def _hash(**keys: object) -> str:
    return config_hash(Service.model_validate({"image": "busybox", **keys}), "sha256:abc")


def test_only_settings_away_from_their_defaults_are_hashed() -> None:
    # A newer pycompose modelling one more key (at its default) keeps existing hashes.
    assert service_document(Service.model_validate({"image": "busybox"})) == {"image": "busybox"}
    assert _hash() == _hash(restart="no", privileged=False, labels={}, cap_add=[])


def test_what_changes_the_container_changes_the_hash() -> None:
    base = _hash()
    assert len({base, _hash(command=["true"]), _hash(environment={"A": "1"}), _hash(mem_limit="64m")}) == 4
    assert config_hash(Service.model_validate({"image": "busybox"}), "sha256:other") != base


def test_dependencies_and_profiles_do_not_recreate() -> None:
    assert _hash(depends_on={"db": {"condition": "service_started"}}, profiles=["debug"]) == _hash()
