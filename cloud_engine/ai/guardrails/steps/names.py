"""Two resources of one kind may not share a name: the second is rejected, not renamed."""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer
from cloud_engine.ai.guardrails.steps.registry import step


@step("unique-names")
def unique_names(e: Enforcer) -> None:
    seen: set[tuple[str, str]] = set()
    for spec in list(e.specs):
        if spec.key in seen:
            e.reject(spec, f"a second {spec.kind} named {spec.name}")
        seen.add(spec.key)
