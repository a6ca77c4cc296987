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
  back:
    internal: true
    enable_ipv6: true
    driver_opts: {com.docker.network.driver.mtu: "1400", com.docker.network.bridge.name: br0}
    ipam: {driver: other, options: {a: b}, config: [{subnet: 10.1.2.0/24, aux_addresses: {h: 10.1.2.9}}]}
""")
    assert unsupported_settings(load_project([path], env={})) == [
        "services.web.depends_on.db.restart: not supported yet, ignored",
        "services.web.deploy.resources.reservations.cpus: a CPU reservation is only a scheduling hint "
        "for Swarm, ignored (as docker compose)",
        "services.web.deploy.replicas: only 1 replica is supported yet, running 1",
        "networks.back.driver_opts.com.docker.network.bridge.name: not supported yet, ignored",
        "networks.back.enable_ipv6: IPv6 is not supported yet, the network gets IPv4 only",
        "networks.back.ipam.driver: only the default IPAM driver is supported, using it",
        "networks.back.ipam.options: not supported yet, ignored",
        "networks.back.ipam.config[0].aux_addresses: not supported yet, ignored",
    ]


def test_a_plain_stack_has_nothing_to_report(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("services:\n  web: {image: busybox, depends_on: [db]}\n  db: {image: busybox}\n")
    assert unsupported_settings(load_project([path], env={})) == []
