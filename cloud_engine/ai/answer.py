"""Turning a draft (model or rules) into the answer the user sees: guardrails, prices, citations, text.

Why one function for both: model and rules drafts get the same guardrails, the same engine
prices and the same citation bar. The differences are deliberate: a rules draft's rationale and
risks are written again from the final specs (so no text contradicts a guardrail correction)
and each claim is cited by retrieving with its own text; a model's text is kept (prices
stripped), its citations are kept only where the entry covers the claim's subject, a corrected
resource says what the guardrails changed, and parts the request names but the model left out
are noted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cloud_engine.ai import guardrails as gr
from cloud_engine.ai.design import designer
from cloud_engine.ai.design.citations import cite, subject_of, supported
from cloud_engine.ai.design.requirements import Requirements, extract, missing_parts
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.prompts import PROMPT_VERSION
from cloud_engine.ai.schemas import (
    AdviceAnswer,
    AdviceRequest,
    RawAdvice,
    ReasoningStep,
    RecommendedResource,
    SourcedText,
)
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.core.policies import Policy

# Words in a model's risk text that tell which subject a citation must cover.
_RISK_SUBJECTS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.I), s) for p, s in (
    (r"\b(?:database|db|postgres|mysql|sql)\b", "database:postgres"), (r"\bbucket|object storage\b", "bucket"),
    (r"\bfirewall|port|ingress\b", "firewall"), (r"\bwaf|ddos|bot\b", "waf"),
    (r"\bsingle point|availability|failover|zone\b", "availability"), (r"\bbudget|cost|price\b", "budget"),
    (r"\bserver|vm|instance\b", "vm"), (r"\bkubernetes|cluster|gke|eks|aks\b", "k8s_cluster"),
    (r"\bnetwork|vpc|vnet|subnet\b", "network"), (r"\bcache|redis\b", "cache"),
))


@dataclass
class Finish:
    """Everything `build` needs besides the draft."""

    request: AdviceRequest
    index: KnowledgeIndex
    estimator: CostEstimator
    policies: Sequence[Policy]
    free: dict[str, int] | None
    notes: list[str]
    provider: str
    model: str
    cached: bool


def _changed(before: ResourceSpec | None, after: ResourceSpec) -> list[str]:
    if before is None:
        return []
    old, new = before.model_dump(), after.model_dump()
    return [k for k in new if k != "tags" and old.get(k) != new.get(k)]


async def _model_citations(f: Finish, ids: Sequence[str], subject: str, dropped: list[str]) -> list[str]:
    keep, drop = await supported(f.index, ids, subject)
    dropped.extend(drop)
    return keep


def _risk_subjects(text: str, compliance: str) -> list[str]:
    subjects = [s for pattern, s in _RISK_SUBJECTS if pattern.search(text)]
    for fw in ("HIPAA", "GDPR", "PCI-DSS", "SOX"):
        if fw.lower() in text.lower() or fw == compliance and "complian" in text.lower():
            subjects.append(f"framework:{fw}")
    return subjects


async def _resources(f: Finish, draft: RawAdvice, outcome: gr.GuardrailOutcome, req: Requirements,
                     dropped: list[str]) -> list[RecommendedResource]:
    from_rules = f.provider == "rules"
    cat = f.estimator.catalog.for_provider(draft.cloud_provider)
    by_name = {r.spec.name: r for r in draft.resources}
    out = []
    for spec in outcome.specs:
        raw = by_name.get(spec.name)
        subject = subject_of(spec)
        if from_rules or raw is None:
            rationale = designer.explain(spec, req, cat)
            if raw is None:
                rationale = "Added by the guardrails. " + rationale
            citations = await cite(f.index, rationale, subject, draft.cloud_provider)
        else:
            rationale = gr.strip_prices(raw.rationale)
            changed = _changed(raw.spec, spec)
            if changed:
                rationale += f" Changed by the guardrails: {', '.join(changed)} (see the guardrail list)."
            citations = await _model_citations(f, raw.citations, subject, dropped)
        line = outcome.costs[spec.key]
        out.append(RecommendedResource(spec=spec, provider=draft.cloud_provider, monthly_cost=line.monthly,
                                       cost_detail=line.detail, rationale=rationale, citations=citations))
    return out


async def _risks(f: Finish, draft: RawAdvice, outcome: gr.GuardrailOutcome, req: Requirements,
                 dropped: list[str]) -> list[SourcedText]:
    if f.provider == "rules":
        return [SourcedText(text=r.text, citations=await cite(f.index, r.text, r.subject, draft.cloud_provider))
                for r in designer.risks(outcome.specs, req, f.request.compliance)]
    out = []
    for r in draft.risks:
        keep: list[str] = []
        for subject in _risk_subjects(r.text, f.request.compliance):
            ok, _ = await supported(f.index, r.citations, subject)
            keep.extend(c for c in ok if c not in keep)
        dropped.extend(c for c in r.citations if c not in keep)
        out.append(SourcedText(text=gr.strip_prices(r.text), citations=keep))
    return out


def _reasoning(f: Finish, draft: RawAdvice, outcome: gr.GuardrailOutcome,
               resources: list[RecommendedResource]) -> list[ReasoningStep]:
    clean = gr.strip_prices if f.provider != "rules" else (lambda t: t)
    total = outcome.total
    largest = max(resources, key=lambda r: r.monthly_cost, default=None)
    cost_text = (f"Priced from the engine's catalogue: ${total:,.2f}/month against the ${outcome.ceiling:,.0f} "
                 f"ceiling of a {f.request.budget} budget"
                 + (f"; the largest item is {largest.spec.name} at ${largest.monthly_cost:,.2f}." if largest else "."))
    if f.provider != "rules" and not re.search(r"\d", draft.reasoning.cost):
        cost_text += " " + clean(draft.reasoning.cost)
    corrected = len(outcome.corrected)
    security_text = clean(draft.reasoning.security) + (
        f" The guardrails corrected {corrected} control(s); see the list." if corrected else
        " Every guardrail passed without changes.")
    return [ReasoningStep(step="requirements", text=clean(draft.reasoning.requirements)),
            ReasoningStep(step="architecture", text=clean(draft.reasoning.architecture)),
            ReasoningStep(step="cost", text=cost_text), ReasoningStep(step="security", text=security_text)]


async def build(draft: RawAdvice, f: Finish) -> AdviceAnswer:
    """Guardrails, pricing, per-claim citations and final text for one draft."""
    req = extract(f.request.use_case)
    ctx = gr.GuardrailContext(provider=draft.cloud_provider, region=draft.region, budget=f.request.budget,
                              security=f.request.security, compliance=f.request.compliance, estimator=f.estimator,
                              policies=f.policies, quota_free=f.free, env="dev" if req.dev else "prod")
    outcome = gr.enforce([r.spec for r in draft.resources], ctx)
    dropped: list[str] = []
    resources = await _resources(f, draft, outcome, req, dropped)
    risks = await _risks(f, draft, outcome, req, dropped)
    notes = list(f.notes)
    if dropped:
        notes.append(f"Dropped citation(s) that do not cover the claim they were attached to (or do not exist): "
                     f"{', '.join(sorted(set(dropped)))}; those claims are shown as unsourced.")
    if f.provider != "rules":
        kinds: dict[str, set[str]] = {}
        for s in outcome.specs:
            kinds.setdefault(s.kind, set()).add(s.engine or "")
        for part in missing_parts(req, kinds):
            notes.append(f"The request names a part this design leaves out: {part}.")
    for rej in outcome.rejected:
        notes.append(f"Rejected {rej.kind} {rej.name}: {rej.reason}.")
    citations = list(dict.fromkeys([*(c for r in resources for c in r.citations), *(c for r in risks
                                                                                    for c in r.citations)]))
    moved = sorted({s.region for s in outcome.specs if s.region and s.region != draft.region})
    summary = gr.strip_prices(draft.summary) if f.provider != "rules" else draft.summary
    if moved:
        summary += f" The guardrails placed resources in {', '.join(moved)} instead of {draft.region}."
    return AdviceAnswer(
        request=f.request, summary=summary, reasoning=_reasoning(f, draft, outcome, resources), resources=resources,
        total_monthly_cost=outcome.total, budget_ceiling=outcome.ceiling, risks=risks, guardrails=outcome.checks,
        rejected=outcome.rejected, citations=citations, provider=f.provider, model=f.model, cached=f.cached,
        notes=notes, cost_source=f.estimator.provenance,
        prompt_version=PROMPT_VERSION if f.provider != "rules" else "",
    )
