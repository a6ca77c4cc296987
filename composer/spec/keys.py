"""Which keys the Compose spec allows where, and which of them pycompose acts on.

The key lists are copied from the official schema (``compose-spec.json``; a unit
test keeps them in sync). The keys a shape supports are the fields of its model, so
a field added to `composer.models` is kept from then on. A key the spec knows but
no model has yet is dropped with one warning (``services.web.ports: not supported
yet, ignored``); a key the spec does not know is an error with a did-you-mean hint;
``x-*`` extensions are allowed wherever the spec allows them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from composer import models
from composer.errors import SpecError
from composer.spec.source import PathPart, PosDict, PosList, key_path, spec_error
from composer.spec.values import describe

TOP_KEYS = frozenset(
    "configs include models name networks secrets services version volumes".split()
)
SERVICE_KEYS = frozenset(
    """annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command
    configs container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period
    cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy develop
    device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file
    environment expose extends external_links extra_hosts gpus group_add healthcheck hostname
    image init ipc isolation label_file labels links logging mac_address mem_limit
    mem_reservation mem_swappiness memswap_limit models network_mode networks oom_kill_disable
    oom_score_adj pid pids_limit platform ports post_start pre_start pre_stop privileged
    profiles provider pull_policy pull_refresh_after read_only restart runtime scale secrets
    security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs
    tty ulimits use_api_socket user userns_mode uts volumes volumes_from working_dir""".split()
)
DEPLOY_KEYS = frozenset(
    """endpoint_mode labels mode placement replicas resources restart_policy rollback_config
    update_config""".split()
)
RESOURCES_KEYS = frozenset({"limits", "reservations"})
LIMITS_KEYS = frozenset({"cpus", "memory", "pids"})
RESERVATIONS_KEYS = frozenset({"cpus", "devices", "generic_resources", "memory"})
HEALTHCHECK_KEYS = frozenset(
    "disable interval retries start_interval start_period test timeout".split()
)
DEPENDS_ON_KEYS = frozenset({"condition", "required", "restart"})
SERVICE_NETWORK_KEYS = frozenset(
    """aliases driver_opts gw_priority interface_name ipv4_address ipv6_address link_local_ips
    mac_address priority""".split()
)
PORT_KEYS = frozenset("app_protocol host_ip mode name protocol published target".split())
MOUNT_KEYS = frozenset("bind consistency image read_only source target tmpfs type volume".split())
NETWORK_KEYS = frozenset(
    "attachable driver driver_opts enable_ipv4 enable_ipv6 external internal ipam labels name".split()
)
IPAM_KEYS = frozenset({"config", "driver", "options"})
IPAM_CONFIG_KEYS = frozenset({"aux_addresses", "gateway", "ip_range", "subnet"})
VOLUME_KEYS = frozenset({"driver", "driver_opts", "external", "labels", "name"})


@dataclass(frozen=True)
class Shape:
    """The keys of one kind of mapping and how to descend into its children.

    ``maps``: child key → shape of that mapping; ``each``: child key → shape of every
    value of a name-keyed mapping; ``items``: child key → shape of every list item.
    """

    spec: frozenset[str]
    supported: frozenset[str]
    maps: dict[str, Shape] = field(default_factory=dict)
    each: dict[str, Shape] = field(default_factory=dict)
    items: dict[str, Shape] = field(default_factory=dict)

    @cached_property
    def children(self) -> frozenset[str]:
        return frozenset((*self.maps, *self.each, *self.items))


def _shape(spec: frozenset[str], supported: str | type[BaseModel], **children: Any) -> Shape:
    """*supported*: the keys a model has (plus any the loader consumes, as a string)."""
    if isinstance(supported, str):
        return Shape(spec, frozenset(supported.split()), **children)
    return Shape(spec, spec & frozenset(supported.model_fields), **children)


_IPAM = _shape(
    IPAM_KEYS,
    "driver config options",
    items={"config": _shape(IPAM_CONFIG_KEYS, "subnet ip_range gateway aux_addresses")},
)
_RESOURCES = _shape(
    RESOURCES_KEYS,
    models.Resources,
    maps={
        "limits": _shape(LIMITS_KEYS, models.ResourceLimits),
        "reservations": _shape(RESERVATIONS_KEYS, models.ResourceReservations),
    },
)
# Service keys consumed before the model: extends is resolved per file, env_file and
# label_file are read into environment and labels, scale becomes deploy.replicas.
LOADER_KEYS = frozenset({"extends", "env_file", "label_file", "scale"})
SERVICE = Shape(
    SERVICE_KEYS,
    _shape(SERVICE_KEYS, models.Service).supported | LOADER_KEYS,
    maps={
        "deploy": _shape(DEPLOY_KEYS, models.Deploy, maps={"resources": _RESOURCES}),
        "healthcheck": Shape(HEALTHCHECK_KEYS, HEALTHCHECK_KEYS),
    },
    each={
        "depends_on": _shape(DEPENDS_ON_KEYS, models.DependsOn),
        "networks": _shape(SERVICE_NETWORK_KEYS, models.ServiceNetwork),
    },
    items={
        "volumes": _shape(MOUNT_KEYS, models.ServiceVolume),
        "ports": _shape(PORT_KEYS, models.PortMapping),
    },
)
NETWORK = _shape(NETWORK_KEYS, models.Network, maps={"ipam": _IPAM})
VOLUME = _shape(VOLUME_KEYS, models.Volume)


@dataclass
class KeyChecker:
    """Filters raw mappings against shapes, collecting warnings for ignored keys and
    errors for unknown ones (the caller raises them all together)."""

    root: Any
    warnings: list[str] = field(default_factory=list)
    errors: list[SpecError] = field(default_factory=list)
    keep_all: bool = False  # keep spec keys no model has yet (raw output), still warning

    def check(self, node: Any, shape: Shape, path: tuple[PathPart, ...]) -> Any:
        """*node* without ignored keys (a copy, or *node* itself when nothing is left out
        below it); unknown keys are dropped as errors."""
        if not isinstance(node, PosDict):
            return node  # wrong types are reported by model validation
        supported, children = shape.supported, shape.children
        # Most mappings have only supported keys: one subset test in C, no Python loop over
        # them. Else the keys to leave out and the children, in written order (so are errors).
        if node.keys() <= supported:
            if children.isdisjoint(node):
                return node  # most mappings: nothing to leave out, no child to look into
            visit = [key for key in node if key in children]
        else:
            visit = [key for key in node if key not in supported or key in children]
        dropped: set[str] = set()
        replaced: dict[str, Any] = {}
        for key in visit:
            if key not in supported and self._leaves_out(key, shape, path):
                dropped.add(key)
            elif key in children:
                value = node[key]
                new = self._descend(value, shape, key, path)
                if new is not value:
                    replaced[key] = new
        if not dropped and not replaced:
            return node  # nothing to leave out below them either
        out = PosDict(pos=node.pos)
        for key, value in node.items():
            if key not in dropped:
                out[key] = replaced.get(key, value)
                out.copy_positions(node, key)
        return out

    def _leaves_out(self, key: str, shape: Shape, path: tuple[PathPart, ...]) -> bool:
        """Whether the unsupported *key* is left out (an extension, an unknown key: an error,
        a spec key no model has: a warning)."""
        if key.startswith("x-"):
            return True
        if key not in shape.spec:
            self.errors.append(self.unknown((*path, key), key, shape.spec))
            return True
        self.warnings.append(f"{key_path((*path, key))}: not supported yet, ignored")
        return not self.keep_all

    def unknown(self, path: tuple[PathPart, ...], key: str, allowed: frozenset[str]) -> SpecError:
        close = difflib.get_close_matches(key, sorted(allowed), n=1)
        hint = f"did you mean `{close[0]}`?" if close else None
        return spec_error(self.root, path, "unknown key", hint, key=True)

    def _descend(self, value: Any, shape: Shape, key: str, parent: tuple[PathPart, ...]) -> Any:
        path = (*parent, key)
        if key in shape.maps:
            return self.check(value, shape.maps[key], path)
        if key in shape.each and isinstance(value, PosDict):
            each, entries = shape.each[key], None
            for name, entry in value.items():
                checked = self.check(entry, each, (*path, name))
                if checked is not entry:
                    entries = entries if entries is not None else value.clone()
                    entries[name] = checked
            return value if entries is None else entries
        if key in shape.items and isinstance(value, PosList):
            item_shape, items = shape.items[key], None
            for index, item in enumerate(value):
                checked = self.check(item, item_shape, (*path, index))
                if checked is not item:
                    items = items if items is not None else _copy_list(value)
                    items[index] = checked
            return value if items is None else items
        return value


def _copy_list(items: PosList) -> PosList:
    out = PosList(items, items.pos)
    out.item_pos = list(items.item_pos)
    return out


def expect_mapping(root: Any, node: Any, path: tuple[PathPart, ...], what: str) -> PosDict:
    """*node* as a mapping (null → empty), else a SpecError naming what was expected."""
    if node is None:
        return PosDict()
    if not isinstance(node, PosDict):
        raise spec_error(root, path, f"expected {what}, got {describe(node)}")
    return node
