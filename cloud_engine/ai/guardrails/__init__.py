"""Guardrails enforced in code on every advised design, whoever wrote it.

Why in code and not only in the prompt: a model can ignore instructions, and the rules engine
can be wrong too. Every draft (model or rules) passes through `enforce`, which corrects what
it safely can (turn encryption on, make a bucket private, close every world-open port but
80/443, drop a public IP, move a resource to an EU region, downsize to fit the budget) and
rejects what it cannot, recording one `GuardrailCheck` per control so the answer shows exactly
what was changed. Controls the specs cannot express are "advisory, not checked".

Budget ceilings per budget level (USD per month, catalogue list prices):
    low ≤ 100, medium ≤ 1000, high ≤ 10000.
The controls per security level and framework are listed in `controls.py`; each step is one
module under `steps/` (name-keyed registry, run in `steps.ORDER`).
Complexity: a low budget gets no Kubernetes cluster; the cluster becomes one small VM.
With a guild, its quotas and policies apply too (permission policies are checked when the
design is deployed, not here).
"""

from __future__ import annotations

from collections.abc import Sequence

from cloud_engine.ai.guardrails.context import Enforcer, GuardrailContext, GuardrailOutcome, revalidate
from cloud_engine.ai.guardrails.controls import (
    BUDGET_CEILINGS,
    DB_MEMORY_GB,
    DEFAULT_REGIONS,
    EU_REGIONS,
    HTTPS_PORT,
    MIN_BACKUP_DAYS,
    PRIVATE_SOURCE,
    SIZE_FOR_BUDGET,
    VM_MEMORY_GB,
    WEB_PORTS,
    Controls,
    db_tier_for,
    default_region,
    eu_region_for,
    machine_type_for,
    required_controls,
)
from cloud_engine.ai.guardrails.prices import PRICE_PLACEHOLDER, strip_prices
from cloud_engine.ai.guardrails.steps import ORDER, STEPS
from cloud_engine.ai.guardrails.steps.budget import ceiling_for
from cloud_engine.core.models import ResourceSpec
from cloud_engine.core.records import QuotaUsage

__all__ = [
    "BUDGET_CEILINGS", "DB_MEMORY_GB", "DEFAULT_REGIONS", "EU_REGIONS", "HTTPS_PORT", "MIN_BACKUP_DAYS",
    "ORDER", "PRICE_PLACEHOLDER", "PRIVATE_SOURCE", "SIZE_FOR_BUDGET", "STEPS", "VM_MEMORY_GB", "WEB_PORTS",
    "Controls", "GuardrailContext", "GuardrailOutcome", "ceiling_for", "db_tier_for", "default_region", "enforce",
    "eu_region_for", "machine_type_for", "quota_free", "required_controls", "revalidate", "strip_prices",
]


def enforce(specs: Sequence[ResourceSpec], ctx: GuardrailContext) -> GuardrailOutcome:
    """Correct or reject every part of a design that breaks a guardrail; price what remains."""
    e = Enforcer(specs, ctx)
    for name in ORDER:
        STEPS[name](e)
    return e.outcome()


def quota_free(rows: Sequence[QuotaUsage]) -> dict[str, int]:
    """Free amount per quota from `CloudOrchestrator.quota_usage` (limit - used - reserved)."""
    return {r.name: r.free for r in rows}
