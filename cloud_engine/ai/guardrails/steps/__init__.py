"""Every guardrail step, one module each, run in `ORDER`.

Why this order: the catalogue and complexity fix what the design is made of before anything
is judged; placement (residency) comes before data protection and networking; the guild's
policies and quotas see the corrected design; the budget prices what is left; advisories last.
"""

from __future__ import annotations

from cloud_engine.ai.guardrails.steps import (  # noqa: F401 - importing registers each step
    advisories,
    budget,
    catalogue,
    complexity,
    databases,
    encryption,
    names,
    policies,
    private_networking,
    public_buckets,
    quotas,
    residency,
    segmentation,
    tags,
    versioning,
    world_ingress,
)
from cloud_engine.ai.guardrails.steps.registry import STEPS, Step, step

ORDER: tuple[str, ...] = (
    "unique-names", "catalogue", "complexity", "data-residency", "encryption-at-rest", "no-public-buckets",
    "no-world-ingress", "network-segmentation", "private-networking", "databases", "versioning", "tags",
    "policies", "quotas", "budget", "advisories",
)

__all__ = ["ORDER", "STEPS", "Step", "step"]
