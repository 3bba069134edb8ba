"""FinOps review: a model (or the rules) comments on the engine's recommendations, never on its numbers.

Why numbers are rendered by code: a savings figure a model made up looks exactly like a real
one. The model refers to recommendations by id; every figure in `FinOpsItem` is copied from
the recommendation itself, and any number left in the model's prose that is not one of the
engine's figures is replaced (`figures.police_numbers`); numbers inside bill text (resource and
service names, tags) do not count, or an uploaded file could vouch for an invented figure. The model may flag a recommendation as risky
or downgrade it, but never upgrade one the rules flagged. Recommendations are read through
`model_dump()`, so this module depends on no FinOps class, only on its vocabulary
(`RecommendationKind`, from the pydantic-only `cloud_engine.finops.models`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from cloud_engine.ai.cache import AdviceCache, cache_key
from cloud_engine.ai.figures import NUMBER_RE, REMOVED, input_figures, number_allowed, police_numbers
from cloud_engine.ai.knowledge import KnowledgeIndex, SearchHit
from cloud_engine.ai.prompts import PROMPT_VERSION, build_finops_prompt
from cloud_engine.ai.providers.base import RULES_ID, RULES_LABEL, ModelProvider, choice_id
from cloud_engine.ai.providers.registry import build_provider_async, resolve
from cloud_engine.ai.providers.retry import RetryPolicy
from cloud_engine.ai.providers.structured import ask_validated
from cloud_engine.ai.schemas import (
    RAW_FINOPS_SCHEMA,
    FinOpsItem,
    FinOpsReview,
    Flag,
    RawFinOpsReview,
    ReplyInvalid,
    format_errors,
    load_json_object,
)
from cloud_engine.errors import AdvisorError
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.settings import Settings
from cloud_engine.store import Database

log = logging.getLogger(__name__)

__all__ = ["NUMBER_RE", "REMOVED", "input_figures", "number_allowed", "police_numbers", "review_recommendations",
           "rules_review"]

LOW_CONFIDENCE = 0.5
_FLAG_ORDER: dict[str, int] = {"ok": 0, "risky": 1, "downgraded": 2}


def as_dict(obj: Any) -> dict[str, Any]:
    """A recommendation or summary as plain JSON-able data, whatever its class."""
    if obj is None:
        return {}
    if hasattr(obj, "model_dump"):
        dumped: dict[str, Any] = obj.model_dump(mode="json")
        return dumped
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot read {type(obj).__name__} as data")


def rules_flag(rec: Mapping[str, Any]) -> Flag:
    """downgraded: too little telemetry; risky: high risk or low confidence; else ok."""
    if rec.get("status") == "insufficient_telemetry":
        return "downgraded"
    risk = rec.get("risk") or {}
    level = risk.get("level") if isinstance(risk, Mapping) else risk
    if level == "high" or float(rec.get("confidence") or 0) < LOW_CONFIDENCE:
        return "risky"
    return "ok"


def _worse(a: Flag, b: Flag) -> Flag:
    return a if _FLAG_ORDER[a] >= _FLAG_ORDER[b] else b


def _risk_level(rec: Mapping[str, Any]) -> str | None:
    risk = rec.get("risk")
    return risk.get("level") if isinstance(risk, Mapping) else risk


def _rules_note(rec: Mapping[str, Any], flag: Flag) -> str:
    risk = rec.get("risk")
    reason = risk.get("reason") if isinstance(risk, Mapping) else None
    if flag == "downgraded":
        needs = ", ".join(rec.get("needs") or []) or "more telemetry"
        return f"Insufficient telemetry: collect {needs} before acting."
    if flag == "risky":
        return f"Treat with care: {reason}." if reason else "Treat with care: low confidence or high risk."
    return str(rec.get("action", ""))


def _item(rec: Mapping[str, Any], flag: Flag, note: str) -> FinOpsItem:
    def num(key: str) -> float | None:
        value = rec.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return FinOpsItem(
        recommendation_id=str(rec.get("id")), resource=str(rec.get("resource_name") or rec.get("resource_id") or ""),
        kind=str(rec.get("kind", "")), action=str(rec.get("action", "")),
        monthly_cost_current=num("monthly_cost_current"), monthly_savings=num("monthly_savings"),
        currency=str(rec.get("currency") or "USD"), co2e_kg_month_delta=num("co2e_kg_month_delta"), confidence=num("confidence"), risk=_risk_level(rec),
        status=rec.get("status"), flag=flag, note=note,
    )


def _best(recs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    ok = [r for r in recs if rules_flag(r) == "ok" and float(r.get("monthly_savings") or 0) > 0]
    return max(ok, key=lambda r: (float(r.get("monthly_savings") or 0), float(r.get("confidence") or 0)), default=None)


def _forecast_text(summary: Mapping[str, Any]) -> str:
    cur = summary.get("currency") or ""
    if "forecast_month_end" in summary:
        text = (f"Month-end forecast {summary['forecast_month_end']} {cur} for {summary.get('month', 'this month')} "
                f"({summary.get('method', 'run rate')}), from {summary.get('month_to_date')} {cur} month to date")
        if summary.get("previous_month_total") is not None:
            text += f"; the previous month was {summary['previous_month_total']} {cur}"
        return text + "."
    if "total_effective_cost" in summary:
        return (f"Effective cost in the period {summary.get('start')} to {summary.get('end')}: "
                f"{summary['total_effective_cost']} {cur}. No forecast was supplied; the savings above are "
                "per month from today's run rate.")
    return "No cost summary or forecast was supplied, so no forecast is given."


def _anomaly_lines(summary: Mapping[str, Any]) -> list[str]:
    items = summary.get("anomalies") or (summary.get("items") if "threshold" in summary else None) or []
    lines = []
    for a in items:
        if isinstance(a, Mapping) and "amount" in a:
            lines.append(f"{a.get('day')} {a.get('service')} ({a.get('provider')}): {a.get('amount')} against "
                         f"{a.get('expected')} expected")
    return lines


def _contract_text(recs: Sequence[Mapping[str, Any]]) -> str:
    commits = [r for r in recs if r.get("kind") == RecommendationKind.COMMITMENT]
    if not commits:
        return ("No commitment recommendation in the data: commit (savings plans, reserved instances, CUDs) only "
                "after usage has been steady for several weeks.")
    return "Commitment: " + "; ".join(f"{r.get('id')} – {r.get('action')}" for r in commits) + "."


def _base_text(recs: Sequence[Mapping[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    evidence: list[str] = []
    for r in recs:
        kinds[str(r.get("kind"))] = kinds.get(str(r.get("kind")), 0) + 1
        evidence += [k for k in (r.get("evidence") or {}) if k not in evidence]
    parts = ", ".join(f"{k} ×{n}" for k, n in kinds.items())
    return (f"The engine's recommenders ({parts}) working from billing and utilisation data"
            + (f"; evidence used: {', '.join(evidence[:12])}" if evidence else "") + ".")


def rules_review(recs: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], hits: Sequence[SearchHit],
                 notes: list[str]) -> FinOpsReview:
    """The review built from the data alone, in the same shape a model review has."""
    best = _best(recs)
    items = [_item(r, rules_flag(r), _rules_note(r, rules_flag(r))) for r in recs if r is not best]
    items.sort(key=lambda i: (_FLAG_ORDER[i.flag], -(i.monthly_savings or 0)))
    return FinOpsReview(
        effective_recommendation=_item(best, "ok", _rules_note(best, "ok")) if best else None,
        additional_recommendations=items,
        base_of_recommendations=_base_text(recs) if recs else "No recommendations were supplied.",
        cost_forecasting=_forecast_text(summary),
        anomalies=_anomaly_lines(summary),
        contract_deal=_contract_text(recs),
        citations=[h.entry.id for h in hits],
        provider=RULES_ID, model=RULES_LABEL, notes=notes,
    )


def _parse(text: str, ids: set[str]) -> RawFinOpsReview:
    try:
        raw = RawFinOpsReview.model_validate(load_json_object(text))
    except ValidationError as exc:
        raise ReplyInvalid(format_errors(exc)) from None
    picks = ([raw.effective_recommendation] if raw.effective_recommendation else []) + raw.additional_recommendations
    errors = [f"id {p.id!r} is not a recommendation; valid ids: {', '.join(sorted(ids))}" for p in picks
              if p.id not in ids]
    if errors:
        raise ReplyInvalid(errors)
    return raw


async def _model_review(raw: RawFinOpsReview, recs: Sequence[Mapping[str, Any]], summary: Mapping[str, Any],
                        figures: Sequence[float], index: KnowledgeIndex | None, notes: list[str], *, provider: str,
                        model: str, cached: bool) -> FinOpsReview:
    by_id = {str(r.get("id")): r for r in recs}

    def police(text: str) -> str:
        return police_numbers(text, figures)

    def item(pick_id: str, model_flag: Flag, note: str) -> FinOpsItem:
        rec = by_id[pick_id]
        flag = _worse(rules_flag(rec), model_flag)
        return _item(rec, flag, police(note) or _rules_note(rec, flag))

    effective = (item(raw.effective_recommendation.id, raw.effective_recommendation.flag,
                      raw.effective_recommendation.note) if raw.effective_recommendation else None)
    seen = {effective.recommendation_id} if effective else set()
    additional = []
    for pick in raw.additional_recommendations:
        if pick.id not in seen:
            additional.append(item(pick.id, pick.flag, pick.note))
            seen.add(pick.id)
    for rid, rec in by_id.items():  # nothing the engine found is hidden
        if rid not in seen:
            additional.append(_item(rec, rules_flag(rec), _rules_note(rec, rules_flag(rec))))
    known = await index.existing_ids(raw.citations) if index is not None else set()
    dropped = sorted(set(raw.citations) - known)
    if dropped:
        notes.append(f"Dropped citation(s) not in the knowledge base: {', '.join(dropped)}.")
    return FinOpsReview(
        effective_recommendation=effective, additional_recommendations=additional,
        base_of_recommendations=police(raw.base_of_recommendations) or _base_text(recs),
        cost_forecasting=police(raw.cost_forecasting) or _forecast_text(summary),
        anomalies=[police(a) for a in raw.anomalies] or _anomaly_lines(summary),
        contract_deal=police(raw.contract_deal) or _contract_text(recs),
        citations=[c for c in dict.fromkeys(raw.citations) if c in known],
        provider=provider, model=model, cached=cached, notes=notes,
    )


class ProviderSource(Protocol):
    """Where reviews get a cached model provider (the advisor): None means the rules engine."""

    async def aprovider_for(self, requested: str) -> tuple[ModelProvider | None, list[str]]:
        """The provider for a model id and any note about a swap."""


async def review_recommendations(recs: Iterable[Any], summary: Any, settings: Settings, *, db: Database | None = None,
                                 index: KnowledgeIndex | None = None, provider: str = "auto",
                                 providers: Mapping[str, ModelProvider] | None = None,
                                 source: ProviderSource | None = None,
                                 retry: RetryPolicy | None = None) -> FinOpsReview:
    """Review FinOps recommendations with a model (cached when `db` is given) or the rules engine.

    Pass `source` (the advisor, see `CloudAIAdvisor.review_finops`) from the bot: its providers
    are built once and reused. Without it a provider is built for this call alone, in a worker
    thread so the event loop is not blocked, and closed afterwards.
    """
    rec_dicts = [as_dict(r) for r in recs]
    summary_dict = as_dict(summary)
    figures = input_figures(rec_dicts, summary_dict)
    hits: list[SearchHit] = []
    if index is not None:
        kinds = " ".join(dict.fromkeys(str(r.get("kind")) for r in rec_dicts))
        hits = await index.search(f"finops cost savings {kinds}".replace("_", " "), category="cost", k=4)
    notes: list[str] = []
    built: ModelProvider | None = None
    model_provider: ModelProvider | None
    if providers and provider in providers:
        model_provider = providers[provider]
    elif source is not None:
        model_provider, swapped = await source.aprovider_for(provider)
        notes += swapped
    else:
        choice, note = resolve(settings, provider)
        if note:
            notes.append(note)
        if choice.id == RULES_ID:
            model_provider = None
        elif providers and choice.id in providers:
            model_provider = providers[choice.id]
        else:
            model_provider = built = await build_provider_async(settings, choice, retry=retry)
    try:
        if model_provider is not None and rec_dicts:
            label = choice_id(model_provider.name, model_provider.model)
            system, user = build_finops_prompt(rec_dicts, summary_dict or None, hits, schema=RAW_FINOPS_SCHEMA)
            cache = AdviceCache(db, settings.ai_cache_ttl_hours) if db is not None else None
            key = cache_key(kind="finops_review", provider=model_provider.name, model=model_provider.model,
                            prompt_version=PROMPT_VERSION, inputs={"recs": rec_dicts, "summary": summary_dict,
                                                                   "knowledge": [h.entry.id for h in hits]})
            ids = {str(r.get("id")) for r in rec_dicts}
            try:
                validated = await ask_validated(model_provider, system, user, schema=RAW_FINOPS_SCHEMA,
                                                parse=lambda text: _parse(text, ids), cache=cache, key=key)
            except AdvisorError as exc:
                notes.append(f"{label} could not review ({getattr(exc, 'reason', 'error')}); the rules engine "
                             "reviewed the recommendations.")
            else:
                return await _model_review(validated.value, rec_dicts, summary_dict, figures, index, notes,
                                           provider=model_provider.name, model=validated.model,
                                           cached=validated.cached)
        return rules_review(rec_dicts, summary_dict, hits, notes)
    finally:
        if built is not None:
            await built.aclose()
