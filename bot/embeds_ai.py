"""Renderers for the advisor and FinOps: answers, plan reviews, costs and recommendations.

Why apart from bot/embeds.py: these show AI and analytics results whose text is partly
model-written, so every string goes through `safe` (no markdown or mention injection) and
every embed through `fit_embed`, like the lobby's; they decide nothing, they only show
what the advisor and the FinOps service returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import discord

from bot.embeds_scan import suppressed_findings
from bot.limits import (
    EMBED_FIELD_NAME,
    EMBED_FIELD_VALUE,
    EMBED_FOOTER,
    EMBED_TITLE,
    code,
    fit_embed,
    fit_lines,
    safe,
    truncate,
)
from cloud_engine.ai.schemas import AdviceAnswer, PlanReview
from cloud_engine.finops.models import (
    ActionOutcome,
    AnomalyReport,
    CostSummary,
    Forecast,
    IngestReport,
    Recommendation,
)

__all__ = ["advice", "costs_overview", "ingest_report", "plan_review", "recommendation_detail", "recommendations_page"]

_SEVERITY = {"high": "🔴", "medium": "🟠", "low": "🟡"}
_RISK = {"high": "🔴", "medium": "🟠", "low": "🟢"}


def _money(value: float, currency: str | None = None) -> str:
    """An amount; a currency other than USD comes from an uploaded file's BillingCurrency, so it is made inert."""
    return f"${value:,.2f}" if currency in (None, "USD") else f"{value:,.2f} {safe(currency, 12)}"


def _sources(ids: Sequence[str]) -> str:
    return ", ".join(f"`{code(i, 80)}`" for i in ids) if ids else ""


def advice(answer: AdviceAnswer) -> discord.Embed:
    """The design: summary, the four reasoning steps, priced resources, guardrails, risks, sources, author."""
    provider = answer.resources[0].provider.upper() if answer.resources else "—"
    embed = discord.Embed(title=truncate(f"Advice · {provider} · {_money(answer.total_monthly_cost)}/mo", 256),
                          colour=discord.Colour.blurple(), description=safe(answer.summary, 1500))
    for step in answer.reasoning:
        embed.add_field(name=step.step.title(), value=safe(step.text, 500), inline=False)
    embed.add_field(name=f"Resources ({len(answer.resources)}) · ceiling {_money(answer.budget_ceiling)}/mo",
                    inline=False, value=fit_lines(
                        f"`{r.spec.kind}/{safe(r.spec.name, 60)}` {safe(r.spec.region or '', 30)} "
                        f"**{_money(r.monthly_cost)}**/mo · {safe(r.rationale, 120)}" for r in answer.resources))
    embed.add_field(name="Guardrails", inline=False, value=fit_lines(_guardrail(g) for g in answer.guardrails))
    if answer.rejected:
        embed.add_field(name="Left out", inline=False, value=fit_lines(
            f"`{r.kind}/{safe(r.name, 60)}`: {safe(r.reason, 200)}" for r in answer.rejected))
    if answer.risks:
        embed.add_field(name="Risks", inline=False, value=fit_lines(
            f"• {safe(r.text, 300)}" + (f" [{_sources(r.citations)}]" if r.citations else " *(unsourced)*")
            for r in answer.risks))
    embed.add_field(name="Sources", value=truncate(_sources(answer.citations) or "none", EMBED_FIELD_VALUE), inline=False)
    if answer.notes:
        embed.add_field(name="Notes", inline=False, value=fit_lines(f"• {safe(n, 300)}" for n in answer.notes))
    cached = ", cached" if answer.cached else ""
    embed.set_footer(text=f"written by {answer.written_by}{cached} · prices: {answer.cost_source or 'catalogue'}")
    return fit_embed(embed)


def _guardrail(g: Any) -> str:
    mark = "📝 action" if not g.enforced else "🔧 corrected" if g.corrected else "✅" if g.passed else "⛔"
    return f"{mark} **{safe(g.name, 60)}**: {safe(g.detail, 200)}"


def plan_review(review: PlanReview, session_id: int, scan: Mapping[str, Any] | None = None) -> discord.Embed:
    """Findings on a saved plan, most urgent first, before anyone approves it.

    `scan` is the plan's judged Checkov summary (the session's `plan_summary["scan"]`): the
    review lists open findings only, so the count of suppressed ones is said beside them.
    """
    worst = next((f.severity for f in review.findings), None)
    colour = {"high": discord.Colour.red(), "medium": discord.Colour.orange()}.get(worst or "", discord.Colour.green())
    embed = discord.Embed(title=f"Plan review · deployment #{session_id}", colour=colour,
                          description=safe(review.summary, 1500))
    if review.monthly_total is not None:
        budget = f" of {_money(review.budget_monthly)}" if review.budget_monthly else ""
        embed.add_field(name="Monthly cost", value=f"{_money(review.monthly_total)}{budget}", inline=False)
    for f in review.findings[:15]:
        embed.add_field(name=truncate(f"{_SEVERITY.get(f.severity, '•')} {f.rank}. {f.code} · {f.address}", 256),
                        value=f"{safe(f.explanation, 400)}\n-# evidence: {safe(f.evidence, 250)}\n"
                              f"→ {safe(f.recommendation, 250)}", inline=False)
    if not review.findings:
        embed.add_field(name="Findings", value="None: nothing risky found in this plan.", inline=False)
    if hidden := suppressed_findings(scan):
        embed.add_field(name="Suppressed scan findings", value=hidden, inline=False)
    if review.citations:
        embed.add_field(name="Sources", value=truncate(_sources(review.citations), EMBED_FIELD_VALUE), inline=False)
    embed.set_footer(text=f"written by {review.written_by}" + (" · " + "; ".join(review.notes) if review.notes else ""))
    return fit_embed(embed)


def ingest_report(report: IngestReport) -> discord.Embed:
    """What an import did: rows read, added, restated (corrected amounts replaced), unchanged and merged, and
    stored charges removed (a re-issued export imported with replace_window)."""
    parts = [f"**{report.rows_read:,}** rows read", f"**{report.rows_added:,}** added"]
    if report.target == "costs":
        parts.append(f"**{report.rows_restated:,}** restated (corrected charges replaced)")
    parts.append(f"**{report.rows_unchanged:,}** unchanged (already in the ledger)")
    if report.rows_merged:
        parts.append(f"**{report.rows_merged:,}** merged (split lines of one charge)" if report.target == "costs"
                     else f"**{report.rows_merged:,}** repeated in the file")
    if report.rows_removed:
        parts.append(f"**{report.rows_removed:,}** removed (stored charges the re-issued export no longer lists)")
    embed = discord.Embed(title=f"Imported {report.target} · {safe(report.source_name, 150)}",
                          colour=discord.Colour.green(), description=" · ".join(parts))
    if report.period_start and report.period_end:
        embed.add_field(name="Period", value=f"{report.period_start:%Y-%m-%d} → {report.period_end:%Y-%m-%d}")
    if report.focus_version_hint:
        embed.add_field(name="FOCUS version", value=safe(report.focus_version_hint, 100))
    return fit_embed(embed)


def costs_overview(by_provider: CostSummary, by_service: CostSummary, forecast: Forecast | None,
                   anomalies: AnomalyReport, *, chart_name: str | None = None) -> discord.Embed:
    """Spend by provider and service, month to date with its forecast, and anomalies.

    Each figure is shown in its own currency (summaries, forecast and anomalies may each be
    in a different one when a server is billed in several); the notes say what was left out.
    """
    cur = by_service.currency
    period = f"{by_service.start} → {by_service.end}" if by_service.start else "all imported data"
    embed = discord.Embed(title="Cloud costs (FinOps ledger)", colour=discord.Colour.gold(),
                          description=f"Effective **{_money(by_service.total_effective_cost, cur)}** · billed "
                                      f"{_money(by_service.total_billed_cost, cur)} · {period}")
    for title, summary in (("By provider", by_provider), ("By service", by_service)):
        embed.add_field(name=title, inline=True, value=fit_lines(
            f"**{safe(g.key or 'unknown', 60)}** {_money(g.effective_cost, summary.currency)} ({g.share:.0%})"
            for g in summary.groups[:15]))
    if forecast is not None:
        fcur = forecast.currency
        prev = f" · last month {_money(forecast.previous_month_total, fcur)}" if forecast.previous_month_total else ""
        embed.add_field(name=f"Month to date · {forecast.month}", inline=False, value=(
            f"{_money(forecast.month_to_date, fcur)} in {forecast.days_elapsed} days → forecast "
            f"**{_money(forecast.forecast_month_end, fcur)}** ({forecast.days_remaining} days left){prev}\n"
            f"-# method: {safe(forecast.method, 300)}"))
    embed.add_field(name=f"Anomalies ({len(anomalies.items)})", inline=False, value=fit_lines(
        (f"{a.day} **{safe(a.service, 60)}** ({safe(a.provider, 60)}) {_money(a.amount, a.currency or cur)} vs "
         f"~{_money(a.expected, a.currency or cur)} (z {a.robust_z:.1f})" for a in anomalies.items),
        empty="None found.") + f"\n-# {safe(anomalies.method, 200)}")
    forecast_notes = forecast.notes if forecast is not None else ()
    notes = "; ".join(dict.fromkeys((*by_service.notes, *forecast_notes)))
    if notes:
        embed.add_field(name="Notes", value=safe(notes, 500), inline=False)
    if chart_name:
        embed.set_image(url=f"attachment://{chart_name}")
    return fit_embed(embed)


def _evidence_words(rec: Recommendation, limit: int = 300) -> str:
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in rec.evidence.items()]
    return safe(", ".join(parts), limit) or "—"


def _headline(rec: Recommendation) -> str:
    """"action · resource" for a field name or title; both come from uploaded files, so both are made inert."""
    return f"{safe(rec.action, 120)} · {safe(rec.resource_name, 120)}"


def _savings_total(total: float, currency: str | None, by_currency: Mapping[str, float] | None) -> str:
    """The list's savings: one amount per currency, never a sum across them (amounts are not converted)."""
    if by_currency and len(by_currency) > 1:
        return " + ".join(f"**{_money(v, c)}/mo**" for c, v in sorted(by_currency.items())) + " (not converted)"
    return f"**{_money(total, currency)}/mo**"


def recommendations_page(items: Sequence[Recommendation], *, page: int, pages: int, total_savings: float,
                         suppressed: int, start: int, currency: str | None = None,
                         savings_by_currency: Mapping[str, float] | None = None,
                         green_moves: Sequence[Recommendation] = (), notes: Sequence[str] = (),
                         acted: Sequence[ActionOutcome] = ()) -> discord.Embed:
    """One page of recommendations, numbered from `start` + 1, with the totals of the whole list.

    `acted` (page one) closes the loop: each recommendation acted on through the lobby, with
    the saving it promised beside what the bills show it realised (finops/outcomes.py).

    `currency` is that of `total_savings` (`RecommendationSet.currency`); with
    `savings_by_currency` spanning several currencies each is shown on its own. Every item
    shows its savings in its own billing currency.
    """
    embed = discord.Embed(title=f"FinOps recommendations · page {page + 1}/{max(pages, 1)}",
                          colour=discord.Colour.green(),
                          description=f"Up to {_savings_total(total_savings, currency, savings_by_currency)} in "
                                      "savings across the list"
                                      + (f" · {suppressed} hidden as noisy" if suppressed else ""))
    for i, rec in enumerate(items, start=start + 1):
        embed.add_field(name=truncate(f"{i}. {_headline(rec)}", EMBED_FIELD_NAME), inline=False, value=(
            f"**{_money(rec.monthly_savings, rec.currency)}/mo** · CO2e {rec.co2e_kg_month_delta:+.1f} kg/mo · "
            f"confidence {rec.confidence:.0%} · risk {_RISK.get(rec.risk.level, '')} {rec.risk.level}\n"
            f"`{rec.kind}` {safe(rec.provider, 60)} {safe(rec.region or '', 30)} · {_evidence_words(rec)}"))
    if not items:
        embed.add_field(name="Nothing to recommend", value="Import costs and metrics with `/cloud-ingest` first, "
                                                           "or everything is already lean.", inline=False)
    if green_moves:  # apart from the savings: a move to a cleaner region usually costs money
        best = min(green_moves, key=lambda rec: rec.co2e_kg_month_delta)
        cost = f", {_money(-best.monthly_savings, best.currency)}/mo more" if best.monthly_savings < 0 else ""
        embed.description = (f"{embed.description}\n🌱 {len(green_moves)} move(s) to a greener region, kept apart "
                             f"from the savings; the largest: {safe(_headline(best), 150)} (CO2e "
                             f"{best.co2e_kg_month_delta:+.1f} kg/mo{cost})")
    if acted:
        embed.add_field(name="Acted on: promised vs realised", inline=False, value=fit_lines(
            f"• {_OUTCOME.get(o.status, '')} {safe(o.resource_name, 60)}: {safe(o.action, 80)} · {safe(o.note, 300)}"
            for o in acted))
    if notes:
        embed.set_footer(text=truncate("Not checked: " + " · ".join(notes), EMBED_FOOTER))
    return fit_embed(embed)


_OUTCOME = {"open": "⏳", "not_applied": "✖️", "waiting_for_bills": "🧾", "measured": "✅"}


def recommendation_detail(rec: Recommendation, note: str, base: str, written_by: str) -> discord.Embed:
    """Why a recommendation was made: the reviewer's note, the basis, and every piece of evidence."""
    embed = discord.Embed(title=truncate(f"Why: {_headline(rec)}", EMBED_TITLE),
                          colour=discord.Colour.blurple(), description=safe(note, 1500) or None)
    embed.add_field(name="Evidence", inline=False, value=fit_lines(
        f"• {safe(k.replace('_', ' '), 60)}: {safe(v, 200)}" for k, v in rec.evidence.items()))
    embed.add_field(name="Risk", value=f"{rec.risk.level}: {safe(rec.risk.reason, 300)}", inline=False)
    if base:
        embed.add_field(name="Basis", value=safe(base, 1000), inline=False)
    embed.set_footer(text=f"written by {written_by} · id {rec.id}")
    return fit_embed(embed)
