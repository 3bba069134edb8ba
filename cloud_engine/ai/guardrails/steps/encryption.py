"""Encryption at rest is on for every resource, at every level."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.steps.registry import step


@step("encryption-at-rest")
def encryption(e: Enforcer) -> None:
    fixed = []
    for spec in list(e.specs):
        if not spec.encrypted:
            fixed.append(f"{spec.name}: encryption at rest turned on")
            e.replace(spec, revalidate(spec, encrypted=True))
    e.check("encryption-at-rest", fixed, "encryption at rest is on for every resource")
