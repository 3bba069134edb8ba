"""FinOps renderers with text an uploader controls: every such string is shown inert (bot/limits.py `safe`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import discord

from bot import embeds_ai
from bot.limits import EMBED_FIELD_NAME, EMBED_FIELD_VALUE, EMBED_TITLE
from cloud_engine.finops.models import (
    ActionOutcome,
    Anomaly,
    AnomalyReport,
    CostGroup,
    CostSummary,
    IngestReport,
    Recommendation,
    RecommendationKind,
    Risk,
)

LINK = "[login](https://evil.example)"
PROVIDER = f"{LINK} @everyone `x`"
RESOURCE = "[verify](https://evil.example) @here `y`"


def assert_inert(text: str) -> None:
    """What `safe` does: brackets, backticks and mentions escaped, so no masked link, code span or ping."""
    assert not re.search(r"(?<!\\)\[(login|verify)\]", text), text
    assert "@everyone" not in text and "@here" not in text, text
    assert not re.search(r"(?<!\\)`[xy]`", text), text


def recommendation(**changes: object) -> Recommendation:
    return Recommendation(**{
        "id": "rec-1", "resource_id": "r-1", "resource_name": RESOURCE, "provider": PROVIDER, "region": "us-central1",
        "kind": "idle", "action": f"Stop {RESOURCE}", "evidence": {"cpu_p95": "1%"}, "monthly_cost_current": 40.0,
        "monthly_savings": 40.0, "co2e_kg_month_delta": -3.0, "confidence": 0.9,
        "risk": Risk(level="low", reason="idle for 21 days"), **changes})


def test_recommendation_page_and_detail_render_provider_name_and_action_inert() -> None:
    page = embeds_ai.recommendations_page([recommendation()], page=0, pages=1, total_savings=40.0, suppressed=0,
                                          start=0)
    [field] = page.fields
    assert field.name.startswith("1. Stop \\[verify](") and len(field.name) <= EMBED_FIELD_NAME
    assert "\\[login](https://evil.example)" in field.value and "@\u200beveryone" in field.value
    for text in (field.name, field.value):
        assert_inert(text)
    detail = embeds_ai.recommendation_detail(recommendation(), "note", "basis", "rules engine")
    assert detail.title.startswith("Why: Stop \\[verify](") and len(detail.title) <= EMBED_TITLE
    assert_inert(detail.title)


def test_long_hostile_names_still_fit_their_slots() -> None:
    rec = recommendation(resource_name="`" * 500, action="@everyone " * 100)
    page = embeds_ai.recommendations_page([rec], page=0, pages=1, total_savings=0.0, suppressed=0, start=0)
    detail = embeds_ai.recommendation_detail(rec, "", "", "rules engine")
    assert len(page.fields[0].name) <= EMBED_FIELD_NAME and len(detail.title) <= EMBED_TITLE
    assert_inert(page.fields[0].name)
    assert_inert(detail.title)


def test_costs_overview_shows_anomaly_provider_and_currency_inert() -> None:
    summary = CostSummary(by="provider", start=date(2026, 10, 1), end=date(2026, 10, 21), currency="`EUR` @here",
                          total_billed_cost=10.0, total_effective_cost=10.0,
                          groups=(CostGroup(key=PROVIDER, billed_cost=10.0, effective_cost=10.0, share=1.0),))
    anomalies = AnomalyReport(start=None, end=None, threshold=3.5, method="robust z", items=(
        Anomaly(day=date(2026, 10, 9), service="BigQuery", provider=PROVIDER, amount=96.0, expected=5.0,
                robust_z=12.0),))
    embed = embeds_ai.costs_overview(summary, summary, None, anomalies)
    anomaly = next(f.value for f in embed.fields if f.name == "Anomalies (1)")
    assert "(\\[login](https://evil.example) @\u200beveryone \\`x\\`)" in anomaly
    for text in (embed.description, anomaly, *(f.value for f in embed.fields)):
        assert "@here" not in text and not re.search(r"(?<!\\)`EUR", text)
        assert_inert(text)


def test_ingest_report_shows_the_focus_version_hint_inert() -> None:
    report = IngestReport(target="costs", guild_id=1, source_kind="focus_file", source_name="october.csv",
                          fetched_at=datetime(2026, 11, 2, tzinfo=UTC), rows_read=1, rows_added=1,
                          focus_version_hint=PROVIDER)
    embed: discord.Embed = embeds_ai.ingest_report(report)
    version = next(f.value for f in embed.fields if f.name == "FOCUS version")
    assert version.startswith("\\[login]")
    assert_inert(version)


def test_acted_recommendations_show_promised_and_realised_inert_within_one_field() -> None:
    outcome = ActionOutcome(recommendation_id="rec-1", kind=RecommendationKind.RIGHTSIZE, action=f"Resize {RESOURCE}",
                            resource_id="r-1", resource_name=RESOURCE, provider="aws", session_id=7,
                            session_state="APPLIED", acted_by=1, acted_at=datetime(2026, 11, 2, tzinfo=UTC),
                            promised_monthly=140.0, currency="USD", status="measured", realised_monthly=139.92,
                            note="realised 139.92 USD/month of the 140.00 USD promised")
    page = embeds_ai.recommendations_page([], page=0, pages=1, total_savings=0.0, suppressed=0, start=0,
                                          acted=[outcome] * 30)
    field = next(f for f in page.fields if f.name == "Acted on: promised vs realised")
    assert field.value.startswith("• ✅ \\[verify](") and "realised 139.92 USD/month of the 140.00" in field.value
    assert len(field.value) <= EMBED_FIELD_VALUE and field.value.rstrip().endswith("more")  # 30 do not fit: counted
    assert_inert(field.value)
