"""The fast path of a repeated `up -d`: decide "nothing to do" without loading the stack.

Imports nothing heavy (no PyYAML, pydantic or pyroute2): see `composer.outline`.
"""

from __future__ import annotations

from composer.engine import Engine
from composer.events import Events
from composer.hashing import config_hash_of
from composer.observe import observe
from composer.outline import StackOutline
from composer.plan import DesiredNetwork, DesiredService, PlanOptions, plan_up


def up_if_unchanged(engine: Engine, cached: StackOutline, events: Events, options: PlanOptions) -> bool:
    """Report and return True when the cached stack runs exactly as wanted; load nothing.

    Any change (or doubt, e.g. a missing image) returns False: the caller then does the
    full load, validation and reconcile.
    """
    from runtime.errors import ImageError

    services = []
    for cached_service in cached.services:
        if not cached_service.image:
            return False
        try:
            image = engine.images.find(cached_service.image)
        except ImageError:
            return False
        if image is None:
            return False
        services.append(DesiredService(cached_service.name, config_hash_of(cached_service.document, image.id),
                                       cached_service.depends_on, cached_service.networks))
    networks = [DesiredNetwork(name, key, external) for name, key, external in cached.networks]
    if networks and engine.networks.dns.server_pid() is None:
        return False  # the embedded DNS server died: the full path restarts it
    plan = plan_up(cached.project, services, networks, observe(engine, cached.project), options)
    if plan.changes_anything:
        return False
    from composer.publish import ports_serving

    if not all(ports_serving(engine, a.container_id) for a in plan.actions if a.verb == "keep" and a.container_id):
        return False  # a proxy died: the full path restarts it
    for warning in cached.warnings:
        events.warn(warning)
    for action in plan.actions:
        if action.verb == "warn-orphan":
            events.warn(f"Found orphan container {action.target}: {action.reason}")
        else:
            events.progress("Container", action.target, "Running")
    return True
