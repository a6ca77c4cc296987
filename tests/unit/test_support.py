"""Modelled settings without an effect yet are each reported, never dropped silently."""

from __future__ import annotations

from pathlib import Path

from composer.spec import load_project
from composer.support import unsupported_settings


def test_each_inert_setting_is_named(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("""
services:
  db: {image: busybox}
  web:
    image: busybox
    healthcheck: {interval: 5s}
    depends_on:
      db: {condition: service_healthy, restart: true}
    networks:
      back: {ipv4_address: 10.1.2.3}
    deploy:
      replicas: 3
      resources: {reservations: {memory: 64m, cpus: 0.5}}
networks:
  back: {internal: true, driver: overlay, driver_opts: {mtu: "1400"}}
""")
    assert unsupported_settings(load_project([path], env={})) == [
        "services.web.depends_on.db.restart: not supported yet, ignored",
        "services.web.healthcheck: no test given (images carry no healthcheck here), ignored",
        "services.web.networks.back.ipv4_address: not supported yet, an address is allocated instead",
        "services.web.deploy.resources.reservations.cpus: a CPU reservation is only a scheduling hint "
        "for Swarm, ignored (as docker compose)",
        "services.web.deploy.replicas: only 1 replica is supported yet, running 1",
        "networks.back.internal: not enforced yet",
        "networks.back.driver: only bridge is supported, using bridge",
        "networks.back: ipam and driver_opts are not supported yet, ignored",
    ]


def test_a_plain_stack_has_nothing_to_report(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("services:\n  web: {image: busybox, depends_on: [db]}\n  db: {image: busybox}\n")
    assert unsupported_settings(load_project([path], env={})) == []
