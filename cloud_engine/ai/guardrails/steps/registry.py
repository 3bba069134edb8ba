"""The name-keyed registry of guardrail steps.

Why a registry: each step is one small module that registers itself under the check name it
records, so a new control is one new file plus its place in `ORDER` (steps/__init__.py), and
tests can run a single step by name.
"""

from __future__ import annotations

from collections.abc import Callable

from cloud_engine.ai.guardrails.context import Enforcer

Step = Callable[[Enforcer], None]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    """Register `fn` as the guardrail step called `name` (one name, one step)."""

    def register(fn: Step) -> Step:
        if name in STEPS:
            raise ValueError(f"guardrail step {name!r} registered twice")
        STEPS[name] = fn
        return fn

    return register
