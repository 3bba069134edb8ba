"""The state every guardrail step shares: the request's levels, the working design, the checks.

Why a mutable `Enforcer` passed to small step functions: each step corrects the design in
place (replacing validated copies, never mutating a spec) and records one `GuardrailCheck`,
so steps stay independent files that run in a fixed order (see `steps/__init__.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloud_engine.ai.guardrails.controls import Controls, required_controls
from cloud_engine.ai.schemas import GuardrailCheck, RejectedResource
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import CostLine, ResourceSpec
from cloud_engine.core.policies import Policy
from cloud_engine.data.catalog import Catalog


def revalidate(spec: ResourceSpec, **changes: Any) -> ResourceSpec:
    """A copy of `spec` with `changes`, validated again (model_copy would skip validation)."""
    data = spec.model_dump(exclude_none=True)
    data.update(changes)
    return ResourceSpec.model_validate({k: v for k, v in data.items() if v is not None})


@dataclass
class GuardrailContext:
    """What enforcement needs besides the design: the request's levels, the catalogue, the guild."""

    provider: str
    region: str
    budget: str
    security: str
    compliance: str
    estimator: CostEstimator
    policies: Sequence[Policy] = ()
    quota_free: Mapping[str, int] | None = None
    env: str = "prod"

    @property
    def catalog(self) -> Catalog:
        return self.estimator.catalog

    @property
    def controls(self) -> Controls:
        return required_controls(self.security, self.compliance)


@dataclass
class GuardrailOutcome:
    """The corrected design, its prices, and what every guardrail did."""

    specs: list[ResourceSpec]
    costs: dict[tuple[str, str], CostLine]
    checks: list[GuardrailCheck]
    rejected: list[RejectedResource] = field(default_factory=list)
    ceiling: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.costs.values()), 2)

    @property
    def corrected(self) -> list[GuardrailCheck]:
        return [c for c in self.checks if c.corrected]


class Enforcer:
    """A working list of specs plus the checks recorded so far; steps call its helpers."""

    def __init__(self, specs: Sequence[ResourceSpec], ctx: GuardrailContext) -> None:
        self.ctx = ctx
        self.controls = ctx.controls
        self.cat = ctx.catalog.for_provider(ctx.provider)
        self.specs = list(specs)
        self.checks: list[GuardrailCheck] = []
        self.rejected: list[RejectedResource] = []
        self.ceiling = 0.0
        self.costs: dict[tuple[str, str], CostLine] = {}

    def check(self, name: str, fixed: list[str], ok_detail: str, *, failed: list[str] | None = None) -> None:
        """Record a checked control: corrected when `fixed`, failed when `failed`, else passed."""
        if failed:
            self.checks.append(GuardrailCheck(name=name, passed=False, corrected=bool(fixed),
                                              detail="; ".join([*fixed, *failed])))
        elif fixed:
            self.checks.append(GuardrailCheck(name=name, passed=True, corrected=True, detail="; ".join(fixed)))
        else:
            self.checks.append(GuardrailCheck(name=name, passed=True, detail=ok_detail))

    def reject(self, spec: ResourceSpec, reason: str) -> None:
        self.specs = [s for s in self.specs if s is not spec]
        self.rejected.append(RejectedResource(kind=spec.kind, name=spec.name, reason=reason))

    def replace(self, old: ResourceSpec, new: ResourceSpec) -> None:
        self.specs = [new if s is old else s for s in self.specs]

    def of_kind(self, *kinds: str) -> list[ResourceSpec]:
        return [s for s in self.specs if s.kind in kinds]

    def price(self, spec: ResourceSpec) -> CostLine:
        return self.ctx.estimator.estimate(self.ctx.provider, self.ctx.region, spec, among=self.specs)

    def free_name(self, kind: str, name: str) -> str:
        """`name`, or `name-2`, `name-3`… when a resource of this kind already has it."""
        taken = {s.name for s in self.specs if s.kind == kind}
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}-{n}", n + 1
        return candidate

    def outcome(self) -> GuardrailOutcome:
        ordered = {s.key: self.costs[s.key] for s in self.specs if s.key in self.costs}
        return GuardrailOutcome(specs=self.specs, costs=ordered, checks=self.checks, rejected=self.rejected,
                                ceiling=self.ceiling)
