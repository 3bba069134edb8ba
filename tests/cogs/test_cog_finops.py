"""/cloud-ingest, /cloud-finops-costs and /cloud-recommend against a real FinOps ledger on a temp file."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest

from bot.finops_views import PER_PAGE, RecommendationPager
from bot.limits import EMBED_FIELDS, EMBED_TOTAL
from cloud_engine.finops._files import MB
from cloud_engine.finops.models import RecommendationKind
from cloud_engine.finops.synthetic import DEFAULT_END, write_synthetic
from tests.cogs import test_cog_advise
from tests.cogs.test_cog_commands import invoke
from tests.conftest import USER, VIEWER
from tests.fakes.discord import make_interaction, make_member

ai_bot = test_cog_advise.ai_bot  # the real bot with the FinOps cog loaded (shared fixture)

FOCUS_CSV = (
    "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,BillingCurrency,"
    "ProviderName,ResourceName\n"
    "12.50,12.50,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,Compute Engine,projects/p/instances/web-1,us-central1,"
    "USD,Google Cloud,web-1\n"
    "3.25,3.00,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,Cloud Storage,projects/p/buckets/assets,us-central1,"
    "USD,Google Cloud,assets\n"
)


def attachment(filename: str, data: bytes, *, size: int | None = None) -> Any:
    """A spec-bound discord.Attachment whose download is recorded."""
    file = mock.NonCallableMagicMock(spec=discord.Attachment)
    file.filename = filename
    file.size = len(data) if size is None else size
    file.read = mock.AsyncMock(return_value=data)
    return file


def _param(command, name):
    return next(p for p in command.parameters if p.name == name)


async def test_finops_commands_and_parameters(ai_bot) -> None:
    found = {c.name: c for c in ai_bot.tree.get_commands()}
    ingest = found["cloud-ingest"]
    assert [p.name for p in ingest.parameters] == ["file", "kind", "replace_window"]
    assert _param(ingest, "file").type is discord.AppCommandOptionType.attachment
    replace = _param(ingest, "replace_window")
    assert replace.type is discord.AppCommandOptionType.boolean and not replace.required
    assert "charges missing from it are removed" in replace.description
    assert [c.value for c in _param(ingest, "kind").choices] == ["focus", "metrics"]
    assert [p.name for p in found["cloud-finops-costs"].parameters] == []
    assert [p.name for p in found["cloud-recommend"].parameters] == []
    assert [p.name for p in found["cloud-costs"].parameters] == ["project"]  # the project estimate is untouched


@pytest.mark.parametrize(("name", "size", "expected"), [
    ("costs.csv", 51 * MB, "over the 50 MB limit"),
    ("costs.xlsx", 100, "unsupported file type"),
    ("metrics.parquet", 100, "metrics must be a CSV"),
])
async def test_ingest_rejects_before_downloading(ai_bot, name: str, size: int, expected: str) -> None:
    file = attachment(name, b"x", size=size)
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-ingest", asking, file=file, kind="metrics" if name.startswith("metrics") else "focus")
    assert expected in asking.response.text and "Import rejected" in asking.response.text
    file.read.assert_not_awaited()


async def test_ingest_accepts_a_small_focus_csv_and_is_idempotent(ai_bot) -> None:
    for added, unchanged in ((2, 0), (0, 2)):
        asking = make_interaction(ai_bot, make_member(USER))
        await invoke(ai_bot, "cloud-ingest", asking, file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
        embed = asking.followup.sent[0]["embed"]
        assert embed.title == "Imported costs · october.csv"
        assert (f"**2** rows read · **{added}** added · **0** restated (corrected charges replaced) · "
                f"**{unchanged}** unchanged") in embed.description


async def test_ingest_shows_a_restated_charge_and_costs_use_the_corrected_amount(ai_bot) -> None:
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    asking = make_interaction(ai_bot, make_member(USER))
    corrected = FOCUS_CSV.replace("12.50,12.50", "14.00,13.00").encode()
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("october-v2.csv", corrected), kind="focus")
    assert "**0** added · **1** restated" in asking.followup.sent[0]["embed"].description
    costs = make_interaction(ai_bot, make_member(VIEWER))
    await invoke(ai_bot, "cloud-finops-costs", costs)
    assert "$16.00" in costs.followup.sent[0]["embed"].description  # 13.00 + 3.00 effective, not 28.50


async def test_ingest_replace_window_removes_a_dropped_charge_and_says_so(ai_bot) -> None:
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    reissued = "\n".join(FOCUS_CSV.splitlines()[:2]) + "\n"  # the Cloud Storage charge was dropped
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("october-v2.csv", reissued.encode()), kind="focus",
                 replace_window=True)
    description = asking.followup.sent[0]["embed"].description
    assert "**1** unchanged" in description
    assert "**1** removed (stored charges the re-issued export no longer lists)" in description
    costs = make_interaction(ai_bot, make_member(VIEWER))
    await invoke(ai_bot, "cloud-finops-costs", costs)
    assert "$12.50" in costs.followup.sent[0]["embed"].description


async def test_ingest_without_replace_window_keeps_a_dropped_charge(ai_bot) -> None:
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    asking = make_interaction(ai_bot, make_member(USER))
    reissued = "\n".join(FOCUS_CSV.splitlines()[:2]) + "\n"
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("october-v2.csv", reissued.encode()), kind="focus")
    assert "removed" not in asking.followup.sent[0]["embed"].description
    summary = await (await ai_bot.services.finops()).cost_summary(guild_id=1)
    assert summary.total_billed_cost == 15.75


async def test_replace_window_is_refused_for_metrics_before_downloading(ai_bot) -> None:
    file = attachment("cpu.csv", b"resource_id,metric,timestamp,value,unit\n")
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-ingest", asking, file=file, kind="metrics", replace_window=True)
    assert "Invalid **replace\\_window**: applies to a FOCUS cost export only" in asking.response.text
    file.read.assert_not_awaited()


async def test_one_server_never_sees_another_servers_costs(ai_bot) -> None:
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    elsewhere = make_interaction(ai_bot, make_member(4242, administrator=True), guild_id=2)
    await invoke(ai_bot, "cloud-finops-costs", elsewhere)
    embed = elsewhere.followup.sent[0]["embed"]
    assert "$0.00" in embed.description and "all imported data" in embed.description
    assert "Compute Engine" not in str(embed.to_dict())
    recs = make_interaction(ai_bot, make_member(4242, administrator=True), guild_id=2)
    await invoke(ai_bot, "cloud-recommend", recs)
    assert recs.followup.sent[0]["view"].items == []


async def test_metrics_upload_goes_through_the_service(ai_bot) -> None:
    data = b"resource_id,metric,timestamp,value,unit\nvm-1,cpu,2026-11-01T00:00:00Z,12.5,percent\n"
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("cpu.csv", data), kind="metrics")
    embed = asking.followup.sent[0]["embed"]
    assert embed.title == "Imported metrics · cpu.csv" and "**1** added" in embed.description
    runs = await (await ai_bot.services.finops()).recent_runs(guild_id=1)
    assert (runs[0]["target"], runs[0]["source_name"], runs[0]["rows_added"]) == ("metrics", "cpu.csv", 1)


async def test_ingest_names_the_bad_column_and_row(ai_bot) -> None:
    bad = FOCUS_CSV.replace("3.25,3.00", "lots,3.00").encode()
    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("bad.csv", bad), kind="focus")
    assert "BilledCost" in asking.followup.text and "row 2" in asking.followup.text


async def test_viewers_may_not_ingest(ai_bot) -> None:
    asking = make_interaction(ai_bot, make_member(VIEWER))
    await invoke(ai_bot, "cloud-ingest", asking, file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    assert "CloudUser" in asking.response.text


async def test_finops_costs_shows_the_summary_with_a_png_chart(ai_bot) -> None:
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("october.csv", FOCUS_CSV.encode()), kind="focus")
    asking = make_interaction(ai_bot, make_member(VIEWER))
    await invoke(ai_bot, "cloud-finops-costs", asking)
    [sent] = asking.followup.sent
    embed, file = sent["embed"], sent["file"]
    fields = {f.name: f.value for f in embed.fields}
    assert "$15.50" in embed.description
    assert "Google Cloud" in fields["By provider"] or "gcp" in fields["By provider"]
    assert "Compute Engine" in fields["By service"] and any(n.startswith("Anomalies") for n in fields)
    assert file.filename == "daily_costs.png" and file.fp.read(8) == b"\x89PNG\r\n\x1a\n"
    assert embed.image.url == "attachment://daily_costs.png"


@pytest.fixture
async def loaded(ai_bot, tmp_path: Path):
    focus, metrics = write_synthetic(tmp_path, days=21, end=DEFAULT_END)
    finops = await ai_bot.services.finops()
    await finops.ingest_focus_file(focus, guild_id=1)
    await finops.ingest_metrics_file(metrics, guild_id=1)
    return finops


async def recommend(ai_bot, user: int = USER) -> tuple[Any, RecommendationPager]:
    asking = make_interaction(ai_bot, make_member(user))
    await invoke(ai_bot, "cloud-recommend", asking)
    sent = asking.followup.sent[0]
    return sent["embed"], sent["view"]


async def test_recommendations_page_and_move(ai_bot, loaded) -> None:
    embed, pager = await recommend(ai_bot)
    assert pager.pages > 1 and len(embed.fields) == PER_PAGE <= EMBED_FIELDS and len(embed) <= EMBED_TOTAL
    assert embed.title == f"FinOps recommendations · page 1/{pager.pages}"
    first = embed.fields[0].value
    assert "/mo" in first and "CO2e" in first and "confidence" in first and "risk" in first
    assert len(pager.children) <= 25 and max(c.row or 0 for c in pager.children) < 5
    press = make_interaction(ai_bot, make_member(USER))
    await pager.buttons["next"].callback(press)
    name, kwargs = press.response.calls[0]
    assert name == "edit_message" and kwargs["embed"].title.startswith("FinOps recommendations · page 2/")
    assert kwargs["embed"].fields[0].name.startswith(f"{PER_PAGE + 1}. ")


async def test_an_expired_pager_greys_out_and_says_so(ai_bot, loaded) -> None:
    from bot.expiring import EXPIRED_NOTE

    asking = make_interaction(ai_bot, make_member(USER))
    await invoke(ai_bot, "cloud-recommend", asking)
    pager: RecommendationPager = asking.followup.sent[0]["view"]
    await pager.on_timeout()  # what discord.py calls once the view's timeout passes
    [message] = asking.followup.messages
    assert message.edits[-1]["view"] is pager and all(item.disabled for item in pager.children)
    assert message.content == EXPIRED_NOTE and message.embed is not None, "the recommendations stay readable"


async def test_noisy_hides_the_recommendation_here_and_next_time(ai_bot, loaded) -> None:
    _, pager = await recommend(ai_bot)
    target = pager.current()
    press = make_interaction(ai_bot, make_member(USER))
    await pager.buttons["noisy"].callback(press)
    assert target.id not in {r.id for r in pager.items}
    assert "Hidden" in press.followup.text and "1 hidden as noisy" in press.response.calls[0][1]["embed"].description
    _, again = await recommend(ai_bot, VIEWER)
    assert target.id not in {r.id for r in again.items} and again.suppressed == 1


async def test_helpful_is_recorded_without_hiding(ai_bot, loaded) -> None:
    _, pager = await recommend(ai_bot)
    count = len(pager.items)
    press = make_interaction(ai_bot, make_member(USER))
    await pager.buttons["helpful"].callback(press)
    assert "marked **helpful**" in press.response.text and len(pager.items) == count


async def test_explain_shows_the_evidence_in_words(ai_bot, loaded) -> None:
    _, pager = await recommend(ai_bot)
    press = make_interaction(ai_bot, make_member(USER))
    await pager.buttons["explain"].callback(press)
    embed = press.followup.sent[0]["embed"]
    assert embed.title.startswith("Why: ") and "Evidence" in [f.name for f in embed.fields]
    assert embed.footer.text.startswith("written by rules engine")


async def test_act_on_an_unmanaged_resource_is_refused_plainly(ai_bot, loaded, channel) -> None:
    _, pager = await recommend(ai_bot)
    press = make_interaction(ai_bot, make_member(USER), channel=channel)
    await pager.buttons["act"].callback(press)
    assert "No change opened" in press.followup.text and channel.sent == []


async def test_act_on_a_managed_vm_opens_a_resize_lobby(ai_bot, loaded, engine, db, channel) -> None:
    project = await engine.create_project(1, USER, name="erp", provider="aws", region="us-east-1")
    await db.execute("INSERT INTO project_resources (project_id, kind, name, spec, cost_monthly, session_id, updated_at)"
                     " VALUES (?, 'vm', 'aws-erp-app', ?, 280.0, NULL, '2026-11-01T00:00:00')",
                     (project.id, '{"kind": "vm", "name": "aws-erp-app", "machine_type": "m5.2xlarge", '
                                  '"image": "ubuntu-2204-lts"}'))
    _, pager = await recommend(ai_bot)
    index, rec = next((i, r) for i, r in enumerate(pager.items)
                      if r.resource_name == "aws-erp-app" and r.kind == RecommendationKind.RIGHTSIZE)
    pager.page, pager.selected = index // PER_PAGE, rec.id
    press = make_interaction(ai_bot, make_member(USER), channel=channel)
    await pager.buttons["act"].callback(press)
    lobby = channel.sent[-1]
    assert lobby.jump_url in press.followup.text and "m5.xlarge" in lobby.embed.fields[0].value
    embed, _ = await recommend(ai_bot)  # the list now follows what was acted on, until the bills tell
    acted = next(f for f in embed.fields if f.name == "Acted on: promised vs realised")
    assert acted.value.startswith("• ⏳ aws-erp-app: Resize") and "is DRAFT; the saving is measured after it" in acted.value


HOSTILE = "[login](https://evil.example) @everyone `x`"


async def test_a_hostile_provider_name_in_an_upload_renders_inert(ai_bot, tmp_path: Path) -> None:
    """ProviderName is whatever the uploader wrote: a masked link, a mass mention or backticks stay plain text."""
    import csv
    import io
    import re

    focus, _ = write_synthetic(tmp_path, days=21, end=DEFAULT_END)
    rows = list(csv.DictReader(focus.open(encoding="utf-8")))
    for row in rows:
        if row["ProviderName"] == "Google Cloud":  # the provider whose BigQuery spend has the synthetic anomaly
            row["ProviderName"] = HOSTILE
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    await invoke(ai_bot, "cloud-ingest", make_interaction(ai_bot, make_member(USER)),
                 file=attachment("hostile.csv", out.getvalue().encode()), kind="focus")
    asking = make_interaction(ai_bot, make_member(VIEWER))
    await invoke(ai_bot, "cloud-finops-costs", asking)
    fields = {f.name: f.value for f in asking.followup.sent[0]["embed"].fields}
    anomalies = next(v for k, v in fields.items() if k.startswith("Anomalies (") and not k.endswith("(0)"))
    for shown in (fields["By provider"], anomalies):
        assert "\\[login](https://evil.example)" in shown and not re.search(r"(?<!\\)\[login\]", shown), shown
        assert "@everyone" not in shown and "@\u200beveryone" in shown and "\\`x\\`" in shown


async def test_green_moves_are_shown_apart_and_what_was_not_checked_is_said(ai_bot, tmp_path: Path) -> None:
    focus, _ = write_synthetic(tmp_path, days=21, end=DEFAULT_END)
    finops = await ai_bot.services.finops()
    await finops.ingest_focus_file(focus, guild_id=1)  # a bill, and no utilisation metrics
    recs = await finops.recommendations(guild_id=1)
    embed, _ = await recommend(ai_bot)
    assert recs.notes and embed.footer.text.startswith("Not checked: ")
    assert recs.notes[0][:40] in embed.footer.text
    if recs.green_moves:
        assert f"🌱 {len(recs.green_moves)} move(s) to a greener region, kept apart from the savings" in (
            embed.description)
    assert all(rec.kind != RecommendationKind.GREEN_REGION for rec in recs.items)
