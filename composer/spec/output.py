"""`project_to_dict`: the resolved project as Compose's canonical long-form stack file.

The output loads again to the same project: long syntax everywhere, sizes in bytes,
durations as Go-style strings, and every literal ``$`` written back as ``$$`` so a
second interpolation leaves it alone. Keys are sorted, as ``docker compose config``
sorts them. Networks and volumes get the names Compose gives them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from composer.models import (
    Deploy,
    Healthcheck,
    Model,
    Network,
    PortMapping,
    Project,
    Service,
    ServiceVolume,
    Volume,
)
from composer.spec.values import format_duration


def project_to_dict(project: Project) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": project.name,
        "services": {name: _service(svc) for name, svc in sorted(project.services.items())},
    }
    if project.networks:
        out["networks"] = {
            name: _network(project.name, name, net)
            for name, net in sorted(project.networks.items())
        }
    if project.volumes:
        out["volumes"] = {
            name: _volume(project.name, name, vol) for name, vol in sorted(project.volumes.items())
        }
    for section in ("secrets", "configs", "models"):
        entries: dict[str, Model] = getattr(project, section)
        if entries:
            out[section] = {name: _named(project.name, name, entry) for name, entry in sorted(entries.items())}
    escaped: dict[str, Any] = _escape(out)
    return escaped


def _service(svc: Service) -> dict[str, Any]:
    out: dict[str, Any] = {
        "image": svc.image,
        "command": list(svc.command) if svc.command is not None else None,
        "entrypoint": list(svc.entrypoint) if svc.entrypoint is not None else None,
        "environment": dict(sorted(svc.environment.items())) or None,
        "working_dir": svc.working_dir,
        "user": svc.user,
        "hostname": svc.hostname,
        "container_name": svc.container_name,
        "depends_on": {name: dep.model_dump() for name, dep in sorted(svc.depends_on.items())}
        or None,
        "mem_limit": str(svc.mem_limit) if svc.mem_limit is not None else None,
        "cpus": svc.cpus,
        "pids_limit": svc.pids_limit,
        "deploy": _deploy(svc.deploy) if svc.deploy else None,
        "restart": _restart(svc) if svc.restart != "no" else None,
        "stop_signal": svc.stop_signal,
        "stop_grace_period": (
            format_duration(svc.stop_grace_period) if svc.stop_grace_period is not None else None
        ),
        "labels": dict(sorted(svc.labels.items())) or None,
        "networks": {name: _service_network(net) for name, net in sorted(svc.networks.items())}
        or None,
        "volumes": [_mount(m) for m in svc.volumes] or None,
        "healthcheck": _healthcheck(svc.healthcheck) if svc.healthcheck is not None else None,
        **_name_resolution(svc),
        "ports": [_port(p) for p in svc.ports] or None,
        "expose": list(svc.expose) or None,
        "network_mode": svc.network_mode,
    }
    out.update(_other_fields(svc, exclude={*out, "max_retries"}))
    return {key: out[key] for key in sorted(out) if out[key] is not None}


def _other_fields(model: BaseModel, exclude: set[str]) -> dict[str, Any]:
    """The set fields of *model* not in *exclude*, in their JSON form, defaults left out."""
    return {
        key: value
        for key, value in model.model_dump(mode="json", exclude_defaults=True).items()
        if key not in exclude
    }


def _named(project: str, key: str, entry: Model) -> dict[str, Any]:
    """A secret, config or model; external ones and those named in the file keep their name."""
    out = entry.model_dump(mode="json", exclude_defaults=True)
    if "external" in type(entry).model_fields and "name" not in out:
        out["name"] = f"{project}_{key}"
    return out
def _healthcheck(check: Healthcheck) -> dict[str, Any]:
    out: dict[str, Any] = {"test": list(check.test) if check.test is not None else None}
    for key in ("interval", "timeout", "start_period", "start_interval"):
        seconds = getattr(check, key)
        out[key] = format_duration(seconds) if seconds is not None else None
    out["retries"] = check.retries
    out["disable"] = True if check.disable else None
    return {key: out[key] for key in sorted(out) if out[key] is not None}


def _name_resolution(svc: Service) -> dict[str, Any]:
    """As Compose prints them: extra_hosts as "HOST=IP" lines, the rest as lists."""
    return {
        "extra_hosts": [f"{host}={ip}" for host, ips in sorted(svc.extra_hosts.items()) for ip in ips] or None,
        "dns": list(svc.dns) or None,
        "dns_search": list(svc.dns_search) or None,
        "dns_opt": list(svc.dns_opt) or None,
    }


def _restart(svc: Service) -> str:
    return f"{svc.restart}:{svc.max_retries}" if svc.max_retries is not None else svc.restart


def _deploy(deploy: Deploy) -> dict[str, Any]:
    resources = {
        "limits": _compact(deploy.resources.limits.model_dump()),
        "reservations": _compact(deploy.resources.reservations.model_dump(include={"memory", "cpus"})),
    }
    resources["reservations"].update(
        _other_fields(deploy.resources.reservations, exclude={"memory", "cpus"})
    )
    out = {"replicas": deploy.replicas, "resources": _compact(resources)}
    out.update(_other_fields(deploy, exclude={"replicas", "resources"}))
    return _compact(out)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset entries; sizes become strings, as the schema types them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or value == {}:
            continue
        out[key] = str(value) if key == "memory" else value
    return out


def _service_network(net: Any) -> dict[str, Any] | None:
    if net is None:
        return None
    out: dict[str, Any] = {}
    if net.aliases:
        out["aliases"] = list(net.aliases)
    if net.ipv4_address:
        out["ipv4_address"] = net.ipv4_address
    if net.priority:
        out["priority"] = net.priority
    for key in ("gw_priority", "interface_name", "mac_address"):
        if getattr(net, key):
            out[key] = getattr(net, key)
    return out or None


def _mount(mount: ServiceVolume) -> dict[str, Any]:
    out: dict[str, Any] = {"type": mount.type}
    if mount.source is not None:
        out["source"] = mount.source
    out["target"] = mount.target
    if mount.read_only:
        out["read_only"] = True
    out.update(_other_fields(mount, exclude={"type", "source", "target", "read_only"}))
    return out


def _port(port: PortMapping) -> dict[str, Any]:
    """As `docker compose config` writes a port: `published` a string, unset keys left out."""
    values = port.model_dump(exclude_none=True)
    order = ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol")
    return {key: values[key] for key in order if key in values}


def _network(project: str, key: str, net: Network) -> dict[str, Any]:
    out: dict[str, Any] = {"name": net.name or f"{project}_{key}"}
    if net.driver:
        out["driver"] = net.driver
    if net.driver_opts:
        out["driver_opts"] = dict(net.driver_opts)
    if net.internal:
        out["internal"] = True
    if net.enable_ipv6:
        out["enable_ipv6"] = True
    if net.external:
        out["external"] = True
    if net.labels:
        out["labels"] = dict(sorted(net.labels.items()))
    if net.ipam is not None:
        out["ipam"] = net.ipam.model_dump(exclude_defaults=True)
        if "config" in out["ipam"]:
            out["ipam"]["config"] = [c.model_dump(exclude_defaults=True) for c in net.ipam.config]
    return out


def _volume(project: str, key: str, vol: Volume) -> dict[str, Any]:
    out: dict[str, Any] = {"name": vol.name or f"{project}_{key}"}
    if vol.driver:
        out["driver"] = vol.driver
    if vol.external:
        out["external"] = True
    if vol.labels:
        out["labels"] = dict(sorted(vol.labels.items()))
    if vol.driver_opts:
        out["driver_opts"] = dict(vol.driver_opts)
    return out


def _escape(value: Any) -> Any:
    """Every literal ``$`` in a value becomes ``$$`` (keys are never interpolated)."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value
