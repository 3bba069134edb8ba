"""PCI-DSS: workloads sit in a segmented network and world ingress is narrowed to 443 only."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import HTTPS_PORT, PRIVATE_SOURCE
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core.models import FirewallRule, ResourceSpec


def _narrow_to_https(e: Enforcer, fixed: list[str]) -> None:
    for spec in e.of_kind("firewall"):
        rules, changed = [], False
        for rule in spec.rules or []:
            if rule.opens_world() and (rule.protocol == "all" or rule.ports != [HTTPS_PORT]):
                if rule.covers_port(HTTPS_PORT) and rule.protocol in ("tcp", "all"):
                    rule = rule.model_copy(update={"protocol": "tcp", "ports": [HTTPS_PORT]})
                else:
                    rule = rule.model_copy(update={"sources": [PRIVATE_SOURCE]})
                changed = True
            rules.append(rule)
        if changed:
            fixed.append(f"{spec.name}: world ingress narrowed to port {HTTPS_PORT} only")
            e.replace(spec, revalidate(spec, rules=[r.model_dump() for r in rules]))


def _wrap_workloads(e: Enforcer, fixed: list[str]) -> None:
    if not e.of_kind("vm", "database", "k8s_cluster"):
        return
    nets = e.of_kind("network")
    if not nets:
        net = ResourceSpec(kind="network", name=e.free_name("network", "segment-net"), region=e.ctx.region,
                           subnets=[{"name": "app", "cidr": "10.10.1.0/24"}],
                           description="segmented network required by PCI-DSS")
        e.specs.append(net)
        nets = [net]
        fixed.append(f"added network {net.name} to segment the workloads")
    if not e.of_kind("firewall"):
        fw = ResourceSpec(kind="firewall", name=e.free_name("firewall", "segment-fw"), region=e.ctx.region,
                          network=nets[0].name, rules=[FirewallRule(ports=[HTTPS_PORT], sources=[PRIVATE_SOURCE])],
                          description="internal HTTPS only; no world ingress")
        e.specs.append(fw)
        fixed.append(f"added firewall {fw.name} allowing only internal HTTPS")
    for spec in e.of_kind("vm", "database", "k8s_cluster", "firewall"):
        if spec.network is None:
            e.replace(spec, revalidate(spec, network=nets[0].name))
            fixed.append(f"{spec.name}: attached to network {nets[0].name}")


@step("network-segmentation")
def segmentation(e: Enforcer) -> None:
    if not e.controls.segmentation:
        return
    fixed: list[str] = []
    _narrow_to_https(e, fixed)
    _wrap_workloads(e, fixed)
    e.check("network-segmentation", fixed, "workloads sit in a segmented network; world ingress only on 443")
