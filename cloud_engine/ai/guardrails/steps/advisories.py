"""Controls the resource specs cannot express (a BAA, audit logging): reported, never "passed".

Why `passed=None`: the code has not checked them, so showing a tick would be a false claim.
They appear as "advisory, not checked" with the action the user must take.
"""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.ai.schemas import GuardrailCheck


@step("advisories")
def advisories(e: Enforcer) -> None:
    for name, detail in e.controls.advisories:
        e.checks.append(GuardrailCheck(name=name, passed=None, enforced=False,
                                       detail=f"Advisory, not checked: {detail}"))
