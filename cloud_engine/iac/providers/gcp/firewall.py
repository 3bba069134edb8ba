"""firewall → one google_compute_firewall per rule (direction and action are per firewall)."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import ref, suffixed, tf_name

TYPE = "google_compute_firewall"
FORCE_NEW = frozenset({"name", "network"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    net = ctx.network(spec)
    network: Value = ref("google_compute_network", tf_name(net.name)) if net else (spec.network or "default")
    blocks = []
    for index, rule in enumerate(spec.rules or ()):
        ingress = rule.direction == "ingress"
        ranges_key = "source_ranges" if ingress else "destination_ranges"
        match: dict[str, Value] = {"protocol": rule.protocol}
        if rule.ports and rule.protocol in ("tcp", "udp"):
            match["ports"] = [str(p) for p in rule.ports]
        blocks.append(Block("resource", (TYPE, tf_name(spec.name, f"r{index}")), {
            "name": suffixed(spec.name, f"r{index}"),
            "network": network,
            "description": spec.description or None,
            "direction": "INGRESS" if ingress else "EGRESS",
            "priority": 900 if rule.action == "deny" else 1000,
            ranges_key: list(rule.sources),
        }, [Block(rule.action, (), match)]))
    return Rendered(resources=blocks)


KIND = KindRenderer(kind="firewall", resource_type=TYPE, render=render, force_new=FORCE_NEW)
