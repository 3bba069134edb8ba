"""Result models of the FinOps service: what the bot, CLI and advisor receive.

All are frozen pydantic models so callers can `model_dump()` them for `--json` output or
an LLM prompt, and can never mutate a result another caller also holds.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["focus_file", "azure_api", "aws_api", "gcp_api", "metrics_file", "synthetic"]
Level = Literal["low", "medium", "high"]
Verdict = Literal["helpful", "noisy", "risky"]
GroupBy = Literal["service", "provider", "project", "tag", "day", "region", "resource"]


class RecommendationKind(StrEnum):
    """What a recommendation proposes; one recommender per kind (`recommenders.engine.RECOMMENDERS`).

    A StrEnum so the vocabulary has one source while every output stays as it was: a member
    is a `str` equal to its value, so JSON (`model_dump(mode="json")`), stored rows, audit
    details, recommendation ids and f-strings all carry the bare value, e.g. "green_region".
    """

    IDLE = "idle"
    RIGHTSIZE = "rightsize"
    ORPHANED = "orphaned"
    SCHEDULE = "schedule"
    COMMITMENT = "commitment"
    GREEN_REGION = "green_region"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class IngestReport(_Frozen):
    """What one import did to one server's ledger; every row read is counted exactly once.

    rows_read = rows_added + rows_restated + rows_unchanged + rows_merged.

    `rows_removed` is outside that sum: it counts ledger rows of earlier imports that a
    `replace_window` import deleted (charges the re-issued export no longer lists), not rows read.
    """

    target: Literal["costs", "metrics"]
    guild_id: int = Field(description="the scope (Discord server id; 0 = CLI default) the rows were imported into")
    source_kind: str
    source_name: str
    fetched_at: datetime
    rows_read: int
    rows_added: int = Field(default=0, description="charges (or metric points) the scope did not hold")
    rows_restated: int = Field(default=0, description="charges already held whose amounts or attributes changed; "
                                                      "the new values replaced the old (costs only)")
    rows_unchanged: int = Field(default=0, description="already held with the same values (metrics: already held; "
                                                       "the first value is kept)")
    rows_merged: int = Field(default=0, description="lines summed into another line of the same charge in this "
                                                    "file (metrics: repeats of a point, the first kept)")
    rows_removed: int = Field(default=0, description="stored charges of earlier imports in the file's window that "
                                                     "it no longer lists, removed (costs with replace_window only; "
                                                     "not rows read)")
    period_start: datetime | None = None
    period_end: datetime | None = None
    focus_version_hint: str | None = Field(
        default=None, description="the FOCUS version the file's columns show: '1.0', '1.1', '1.2' or '1.3'"
    )


class Risk(_Frozen):
    level: Level
    reason: str


class Recommendation(_Frozen):
    """One deterministic finding with its evidence, money and carbon deltas."""

    id: str
    resource_id: str
    resource_name: str
    provider: str
    region: str | None
    kind: RecommendationKind
    action: str
    evidence: dict[str, Any]
    monthly_cost_current: float = Field(ge=0)
    monthly_savings: float = Field(description="per month in `currency`; negative means the action costs more")
    currency: str | None = Field(default="USD", description="billing currency of monthly_cost_current and "
                                                            "monthly_savings (the bill's BillingCurrency)")
    co2e_kg_month_delta: float = Field(description="kg CO2e per month; negative is a saving")
    confidence: float = Field(ge=0, le=1)
    risk: Risk
    status: Literal["ok", "insufficient_telemetry"] = "ok"
    needs: tuple[str, ...] = ()
    suggested_machine_type: str | None = None
    target_region: str | None = None


OutcomeStatus = Literal["open", "not_applied", "waiting_for_bills", "measured"]


class ActionOutcome(_Frozen):
    """A recommendation acted on through the lobby, and what the bill says it saved (cloud_engine/finops/outcomes.py).

    `open`: its deployment has not been applied yet; `not_applied`: it ended without an
    apply (cancelled, failed, expired); `waiting_for_bills`: applied, but the imports do not
    yet cover enough days on both sides of the change; `measured`: both sides are covered.
    """

    recommendation_id: str
    kind: RecommendationKind
    action: str
    resource_id: str
    resource_name: str
    provider: str
    session_id: int
    session_state: str
    acted_by: int
    acted_at: datetime
    promised_monthly: float = Field(description="the saving the recommendation promised, per month in `currency`")
    currency: str | None
    status: OutcomeStatus
    applied_at: datetime | None = None
    days_before: int = Field(default=0, description="billed days before the apply day that the baseline averages")
    days_after: int = Field(default=0, description="billed days after the apply day that the result averages")
    daily_before: float | None = Field(default=None, description="the resource's effective cost per billed day before")
    daily_after: float | None = Field(default=None, description="the resource's effective cost per billed day after")
    realised_monthly: float | None = Field(default=None, description="(daily_before - daily_after) x 730 / 24")
    note: str = Field(description="one line saying where it stands, in words")


class RecommendationSet(_Frozen):
    """The list the bot shows, with totals that are exactly the sums of the items in one currency.

    Why the validator: items carry the currency of their bill and amounts are never
    converted (there is no exchange-rate source), so a sum over a JPY and a USD item means
    nothing. Whoever builds the set, `savings_by_currency` is derived from the items and,
    when they span several currencies, `total_monthly_savings` counts only `currency` (the
    one most items are in) and `notes` says so.
    """

    as_of: date | None
    items: tuple[Recommendation, ...]
    total_monthly_savings: float = Field(description="sum of the items' savings in `currency`")
    total_co2e_kg_month_delta: float
    suppressed: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    currency: str | None = Field(default=None, description="currency of total_monthly_savings")
    savings_by_currency: dict[str, float] = Field(default_factory=dict)
    notes: tuple[str, ...] = Field(default=(), description="what could not be looked at and what to import so it can")
    acted: tuple[ActionOutcome, ...] = Field(
        default=(), description="recommendations acted on through the lobby, newest first, with the saving realised")
    green_moves: tuple[Recommendation, ...] = Field(
        default=(), description="green-region moves, apart: they usually cost money and are never in the totals; each "
                                "is judged after the resource's rightsize, so its CO2e adds to the rightsize's once")

    @model_validator(mode="before")
    @classmethod
    def _totals_per_currency(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "items" not in data:
            return data
        per: dict[str, float] = {}
        count: dict[str, int] = {}
        for item in data["items"]:
            cur, saving = ((item.currency, item.monthly_savings) if isinstance(item, Recommendation)
                           else (item.get("currency", "USD"), item.get("monthly_savings", 0.0)))
            key = cur or "USD"
            per[key] = per.get(key, 0.0) + float(saving)
            count[key] = count.get(key, 0) + 1
        if not per:
            return data
        primary = min(per, key=lambda c: (-count[c], c))
        out = {**data, "currency": primary, "savings_by_currency": {c: round(v, 2) for c, v in sorted(per.items())}}
        if len(per) > 1:
            listed = "; ".join(f"{v:,.2f} {c}" for c, v in sorted(per.items()))
            out["total_monthly_savings"] = round(per[primary], 2)
            out["notes"] = (*tuple(data.get("notes", ())),
                            f"savings are in more than one currency ({listed}) and are not converted; "
                            f"the total counts {primary} only")
        return out


class CostGroup(_Frozen):
    key: str
    billed_cost: float
    effective_cost: float
    share: float = Field(description="share of the total effective cost, 0..1")


class CostSummary(_Frozen):
    by: str
    start: date | None
    end: date | None
    currency: str | None
    total_billed_cost: float
    total_effective_cost: float
    groups: tuple[CostGroup, ...]
    notes: tuple[str, ...] = ()


class DailyServiceCosts(_Frozen):
    """Daily effective cost per service in one currency; what the chart draws."""

    currency: str | None
    days: tuple[date, ...]
    series: dict[str, tuple[float, ...]]
    notes: tuple[str, ...] = Field(default=(), description="e.g. other billing currencies left out")


class Forecast(_Frozen):
    month: str
    as_of: date
    currency: str | None
    month_to_date: float
    daily_run_rate: float
    days_elapsed: int
    days_remaining: int
    forecast_month_end: float
    previous_month_total: float | None
    method: str
    notes: tuple[str, ...] = Field(default=(), description="other billing currencies left out, short history, "
                                                           "an incomplete last day")


class Anomaly(_Frozen):
    day: date
    service: str
    provider: str
    currency: str | None = None
    amount: float
    expected: float = Field(description="median of the charged days of the same kind (weekdays or weekends)")
    robust_z: float
    reason: str = Field(default="", description="why this day is an anomaly, in one sentence")
    baseline_days: int = Field(default=0, description="how many charged days the expectation is the median of")


class AnomalyReport(_Frozen):
    start: date | None
    end: date | None
    threshold: float
    items: tuple[Anomaly, ...]
    method: str


class FeedbackResult(_Frozen):
    recommendation_id: str
    user_id: str
    verdict: Verdict
    suppressed_until: datetime | None


__all__ = [
    "ActionOutcome", "Anomaly", "AnomalyReport", "CostGroup", "CostSummary", "DailyServiceCosts", "FeedbackResult",
    "Forecast", "GroupBy", "IngestReport", "OutcomeStatus", "Recommendation", "RecommendationKind", "RecommendationSet",
    "Risk", "SourceKind", "Verdict",
]
