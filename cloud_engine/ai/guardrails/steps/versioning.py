"""Compliance security level: every bucket keeps object versions."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step


@step("versioning")
def versioning(e: Enforcer) -> None:
    if not e.controls.versioning:
        return
    fixed = []
    for spec in e.of_kind("bucket"):
        if not spec.versioning:
            fixed.append(f"{spec.name}: object versioning turned on")
            e.replace(spec, revalidate(spec, versioning=True))
    e.check("versioning", fixed, "every bucket keeps object versions")
