"""Enhanced security and PCI-DSS: no public IP on a VM, private Kubernetes nodes."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step


@step("private-networking")
def private_networking(e: Enforcer) -> None:
    if not e.controls.private_networking:
        return
    fixed = []
    for spec in e.of_kind("vm"):
        if spec.public_ip:
            fixed.append(f"{spec.name}: public IP removed (reach it through a bastion or a managed entry point)")
            e.replace(spec, revalidate(spec, public_ip=False))
    for spec in e.of_kind("k8s_cluster"):
        if not spec.private_nodes:
            fixed.append(f"{spec.name}: nodes made private")
            e.replace(spec, revalidate(spec, private_nodes=True))
    e.check("private-networking", fixed, "no VM has a public IP and cluster nodes are private")
