"""Plan review: the plan's findings (`plan_findings`), with knowledge attached, explained and ranked.

A model may explain and rank the findings with retrieved knowledge, but cannot add, drop or
re-grade any; without a model (or when it fails) the rules engine ranks them by severity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from cloud_engine.ai.cache import AdviceCache, cache_key
from cloud_engine.ai.guardrails import strip_prices
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.plan_findings import CODE_QUERIES, SEVERITY_ORDER, deterministic_findings, plan_counts
from cloud_engine.ai.prompts import PROMPT_VERSION, build_plan_review_prompt
from cloud_engine.ai.providers.base import RULES_ID, RULES_LABEL, ModelProvider, choice_id
from cloud_engine.ai.providers.structured import ask_validated
from cloud_engine.ai.schemas import (
    RAW_PLAN_REVIEW_SCHEMA,
    ExplainedFinding,
    Finding,
    PlanReview,
    RawPlanReview,
    ReplyInvalid,
    Severity,
    format_errors,
    load_json_object,
)
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.data.catalog import CLOUDS
from cloud_engine.errors import AdvisorError
from cloud_engine.iac.plan import PlanResult

__all__ = ["PlanReviewer", "deterministic_findings"]


class PlanReviewer:
    """Runs the deterministic checks, attaches knowledge, and has a model (or the rules) explain them."""

    def __init__(self, index: KnowledgeIndex | None, estimator: CostEstimator | None = None, *,
                 cache: AdviceCache | None = None) -> None:
        self.index = index
        self.estimator = estimator or CostEstimator()
        self.cache = cache

    async def _knowledge(self, findings: Sequence[Finding], provider: str) -> tuple[list[Finding], list[Any]]:
        if self.index is None:
            return list(findings), []
        cloud = "gcp" if provider == "sandbox" else provider
        hits: dict[str, Any] = {}
        per_code: dict[str, list[str]] = {}
        evidence = {f.code: f.evidence for f in findings}
        for code in dict.fromkeys(f.code for f in findings):
            # a scanner's check is looked up by what it checks, not by its id
            fallback = evidence[code] if code.startswith("CKV") else code.lower().replace("_", " ")
            query, category = CODE_QUERIES.get(code, (fallback, "security"))
            found = await self.index.search(query, provider=cloud if cloud in CLOUDS else None,
                                            category=category, k=2)
            per_code[code] = [h.entry.id for h in found]
            for h in found:
                hits.setdefault(h.entry.id, h)
        return [f.model_copy(update={"knowledge_ids": per_code.get(f.code, [])}) for f in findings], list(hits.values())

    async def review(self, plan: PlanResult, specs: Sequence[ResourceSpec], *, provider: str,
                     budget_monthly: float | None = None, hcl: dict[str, str] | None = None,
                     model_provider: ModelProvider | None = None, notes: Iterable[str] = (),
                     scan: Mapping[str, Any] | None = None) -> PlanReview:
        """The review; a failing model is replaced by the rules ranking, with a note.

        `scan` is the plan's Checkov summary (iac/scan.scan_files): each open finding joins the
        deterministic ones; a plan that was not scanned says so in the notes.
        """
        notes = list(notes)
        findings, total, price_notes = deterministic_findings(plan, specs, provider=provider, estimator=self.estimator,
                                                              budget_monthly=budget_monthly, hcl=hcl)
        notes += price_notes
        if scan is not None:
            findings = [*findings, *scan_findings(scan)]
            if not scan.get("scanned"):
                notes.append(f"Not scanned by Checkov: {scan.get('reason') or 'unknown reason'}.")
        findings, hits = await self._knowledge(findings, provider)
        if findings and model_provider is not None:
            label = choice_id(model_provider.name, model_provider.model)
            system, user = build_plan_review_prompt(findings, hits, plan_summary=plan_counts(plan),
                                                    schema=RAW_PLAN_REVIEW_SCHEMA)
            key = cache_key(kind="plan_review", provider=model_provider.name, model=model_provider.model,
                            prompt_version=PROMPT_VERSION, inputs=[f.model_dump() for f in findings])
            refs = {f.ref for f in findings}
            try:
                validated = await ask_validated(model_provider, system, user, schema=RAW_PLAN_REVIEW_SCHEMA,
                                                parse=lambda text: _parse_review(text, refs), cache=self.cache, key=key)
            except AdvisorError as exc:
                notes.append(f"{label} could not explain the findings ({getattr(exc, 'reason', 'error')}); the "
                             "rules engine ranked them by severity.")
            else:
                return await self._from_model(validated.value, findings, total, budget_monthly, notes,
                                              provider=model_provider.name, model=validated.model,
                                              cached=validated.cached)
        return self._rules(plan, findings, total, budget_monthly, notes, hits)

    async def _from_model(self, raw: RawPlanReview, findings: Sequence[Finding], total: float | None,
                          budget: float | None, notes: list[str], *, provider: str, model: str,
                          cached: bool) -> PlanReview:
        by_ref = {f.ref: f for f in findings}
        cited = [c for r in raw.ranked for c in r.citations] + [k for f in findings for k in f.knowledge_ids]
        known = await self.index.existing_ids(cited) if self.index is not None else set()
        dropped = sorted(set(cited) - known)
        if dropped:
            notes.append(f"Dropped citation(s) not in the knowledge base: {', '.join(dropped)}.")
        ordered: list[ExplainedFinding] = []
        for item in raw.ranked:
            f = by_ref[item.ref]
            ids = [c for c in dict.fromkeys([*item.citations, *f.knowledge_ids]) if c in known]
            ordered.append(ExplainedFinding(**f.model_dump(exclude={"knowledge_ids"}), knowledge_ids=ids,
                                            rank=len(ordered) + 1, explanation=strip_prices(item.explanation)))
        ranked = {o.ref for o in ordered}
        for f in findings:  # the model may not drop a finding: unranked ones follow in severity order
            if f.ref not in ranked:
                ordered.append(ExplainedFinding(**f.model_dump(), rank=len(ordered) + 1, explanation=f.recommendation))
        return PlanReview(findings=ordered, summary=strip_prices(raw.summary), monthly_total=total,
                          budget_monthly=budget, citations=_union(o.knowledge_ids for o in ordered),
                          provider=provider, model=model, cached=cached, notes=notes)

    def _rules(self, plan: PlanResult, findings: Sequence[Finding], total: float | None, budget: float | None,
               notes: list[str], hits: Sequence[Any]) -> PlanReview:
        titles = {h.entry.id: h.entry.title for h in hits}
        ordered = []
        for rank, f in enumerate(sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.address)), 1):
            see = [titles[k] for k in f.knowledge_ids if k in titles]
            explanation = f"{f.evidence}. {f.recommendation}" + (f" See “{see[0]}”." if see else "")
            ordered.append(ExplainedFinding(**f.model_dump(), rank=rank, explanation=explanation))
        counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITY_ORDER}
        summary = (f"{len(findings)} finding(s): {counts['high']} high, {counts['medium']} medium, {counts['low']} low. "
                   f"Plan: {plan_counts(plan)}." if findings else f"No problems found. Plan: {plan_counts(plan)}.")
        return PlanReview(findings=ordered, summary=summary, monthly_total=total, budget_monthly=budget,
                          citations=_union(o.knowledge_ids for o in ordered), provider=RULES_ID, model=RULES_LABEL,
                          notes=notes)


_CHECKOV_SEVERITY: dict[str, Severity] = {"CRITICAL": "high", "HIGH": "high", "MEDIUM": "medium", "LOW": "low",
                                           "INFO": "low"}


def scan_findings(scan: Mapping[str, Any]) -> list[Finding]:
    """The scan's open findings as plan findings (Checkov's severity where it gives one, else medium)."""
    out = []
    for item in scan.get("findings") or []:
        where = f"{item.get('file')}:{item.get('line')}"
        out.append(Finding(severity=_CHECKOV_SEVERITY.get(str(item.get("severity") or "").upper(), "medium"),
                           code=str(item.get("check_id")), address=str(item.get("resource")),
                           evidence=f"{item.get('name')} ({where})",
                           recommendation=f"See {item['guideline']}" if item.get("guideline")
                           else f"Fix what Checkov's {item.get('check_id')} describes, or suppress it with a reason"))
    return out


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(i for group in groups for i in group))


def _parse_review(text: str, refs: set[str]) -> RawPlanReview:
    data = load_json_object(text)
    try:
        raw = RawPlanReview.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(format_errors(exc)) from None
    errors = []
    seen: set[str] = set()
    for i, item in enumerate(raw.ranked):
        if item.ref not in refs:
            errors.append(f"ranked.{i}.ref: {item.ref!r} is not a finding; valid refs: {', '.join(sorted(refs))}")
        elif item.ref in seen:
            errors.append(f"ranked.{i}.ref: {item.ref!r} is ranked twice")
        seen.add(item.ref)
    if errors:
        raise ReplyInvalid(errors)
    return raw
