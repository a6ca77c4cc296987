"""What is really there for one project: its containers (liveness checked) and networks. Read-only."""

from __future__ import annotations

from collections.abc import Sequence

from composer.engine import Engine
from composer.naming import (
    LABEL_CONFIG_HASH,
    LABEL_NETWORK,
    LABEL_NUMBER,
    LABEL_ONEOFF,
    LABEL_PROJECT,
    LABEL_SERVICE,
)
from composer.plan import Observed, ObservedContainer
from runtime.containers import ContainerState


def project_containers(engine: Engine, project: str, services: Sequence[str] = (), *,
                       include_oneoff: bool = False) -> list[ContainerState]:
    """The project's service containers (of `services` only, if given), by name; with
    `include_oneoff`, also those of `run`, which reconcile, stop, logs... leave alone."""
    found = [s for s in engine.containers.list() if s.labels.get(LABEL_PROJECT) == project
             and (include_oneoff or s.labels.get(LABEL_ONEOFF) != "True")]
    if services:
        found = [s for s in found if s.labels.get(LABEL_SERVICE) in services]
    return sorted(found, key=lambda s: s.name)


def observe(engine: Engine, project: str) -> Observed:
    containers = tuple(
        ObservedContainer(
            id=state.id,
            name=state.name,
            service=state.labels.get(LABEL_SERVICE, ""),
            number=int(state.labels.get(LABEL_NUMBER, "1")),
            config_hash=state.labels.get(LABEL_CONFIG_HASH, ""),
            status=state.status,
        )
        for state in project_containers(engine, project)
    )
    hashes = network_hashes(engine, project)
    return Observed(containers, frozenset(hashes), hashes)


def project_networks(engine: Engine, project: str) -> list[str]:
    return sorted(network_hashes(engine, project))


def network_hashes(engine: Engine, project: str) -> dict[str, str]:
    """The project's networks, each with the config hash it was made from ("" if none)."""
    return {
        n.name: n.labels.get(LABEL_CONFIG_HASH, "") for n in engine.networks.list_networks()
        if n.labels.get(LABEL_PROJECT) == project and LABEL_NETWORK in n.labels
    }
