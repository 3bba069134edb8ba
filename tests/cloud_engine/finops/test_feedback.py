"""Feedback: verdicts are stored per user and server, and "noisy" hides a recommendation for a while."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.finops import FinOpsService
from tests.cloud_engine.finops.conftest import GUILD

OTHER_GUILD = 2


async def test_noisy_suppresses_for_configured_days(loaded: FinOpsService) -> None:
    recs = await loaded.recommendations(guild_id=GUILD)
    target = recs.items[0]
    helpful = await loaded.record_feedback(recs.items[1].id, 42, "helpful", guild_id=GUILD)
    assert helpful.suppressed_until is None
    result = await loaded.record_feedback(target.id, 42, "noisy", guild_id=GUILD)
    assert result.suppressed_until is not None
    days = (result.suppressed_until - datetime.utcnow()).total_seconds() / 86400
    assert days == pytest.approx(loaded.settings.finops_noisy_suppress_days, abs=0.01)

    after = await loaded.recommendations(guild_id=GUILD)
    assert target.id not in {r.id for r in after.items} and after.suppressed == 1
    assert recs.items[1].id in {r.id for r in after.items}
    assert after.total_monthly_savings == pytest.approx(recs.total_monthly_savings - target.monthly_savings, abs=0.01)
    everything = await loaded.recommendations(include_suppressed=True, guild_id=GUILD)
    assert target.id in {r.id for r in everything.items}

    later = datetime.utcnow() + timedelta(days=loaded.settings.finops_noisy_suppress_days + 1)
    assert target.id not in await loaded.repo.suppressed_ids(GUILD, now=later)


async def test_one_verdict_per_user_and_validation(loaded: FinOpsService) -> None:
    rec_id = (await loaded.recommendations(guild_id=GUILD)).items[0].id
    await loaded.record_feedback(rec_id, "u1", "risky", guild_id=GUILD)
    await loaded.record_feedback(rec_id, "u1", "helpful", guild_id=GUILD)
    await loaded.record_feedback(rec_id, "u2", "helpful", guild_id=GUILD)
    assert await loaded.repo.feedback_counts(GUILD, rec_id) == {"helpful": 2}
    with pytest.raises(InvalidInput):
        await loaded.record_feedback(rec_id, "u1", "meh", guild_id=GUILD)


async def test_feedback_on_an_id_this_server_was_never_shown_is_refused(loaded: FinOpsService) -> None:
    rec_id = (await loaded.recommendations(guild_id=GUILD)).items[0].id
    with pytest.raises(NotFound, match="recommendation in this server"):
        await loaded.record_feedback(rec_id, "u1", "noisy", guild_id=OTHER_GUILD)  # it holds no data
    with pytest.raises(NotFound):
        await loaded.record_feedback("not-a-recommendation", "u1", "helpful", guild_id=GUILD)
    assert await loaded.repo.feedback_counts(OTHER_GUILD, rec_id) == {}
    assert await loaded.repo.suppressed_ids(OTHER_GUILD) == set()


async def test_noisy_in_one_server_does_not_hide_it_in_another(loaded: FinOpsService,
                                                             synthetic_files: tuple[Path, Path]) -> None:
    focus, metrics = synthetic_files
    await loaded.ingest_focus_file(focus, guild_id=OTHER_GUILD)  # the same bill, imported in a second server
    await loaded.ingest_metrics_file(metrics, guild_id=OTHER_GUILD)
    mine = await loaded.recommendations(guild_id=GUILD)
    theirs = await loaded.recommendations(guild_id=OTHER_GUILD)
    assert [r.id for r in mine.items] == [r.id for r in theirs.items]  # ids name a resource, not a server
    target = mine.items[0]
    await loaded.record_feedback(target.id, "u1", "noisy", guild_id=GUILD)
    assert target.id not in {r.id for r in (await loaded.recommendations(guild_id=GUILD)).items}
    still = await loaded.recommendations(guild_id=OTHER_GUILD)
    assert target.id in {r.id for r in still.items} and still.suppressed == 0
