"""Feedback: verdicts are stored per user, and "noisy" hides a recommendation for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cloud_engine.errors import InvalidInput
from cloud_engine.finops import FinOpsService


async def test_noisy_suppresses_for_configured_days(loaded: FinOpsService) -> None:
    recs = await loaded.recommendations()
    target = recs.items[0]
    helpful = await loaded.record_feedback(recs.items[1].id, 42, "helpful")
    assert helpful.suppressed_until is None
    result = await loaded.record_feedback(target.id, 42, "noisy")
    assert result.suppressed_until is not None
    days = (result.suppressed_until - datetime.utcnow()).total_seconds() / 86400
    assert days == pytest.approx(loaded.settings.finops_noisy_suppress_days, abs=0.01)

    after = await loaded.recommendations()
    assert target.id not in {r.id for r in after.items} and after.suppressed == 1
    assert recs.items[1].id in {r.id for r in after.items}
    assert after.total_monthly_savings == pytest.approx(recs.total_monthly_savings - target.monthly_savings, abs=0.01)
    everything = await loaded.recommendations(include_suppressed=True)
    assert target.id in {r.id for r in everything.items}

    later = datetime.utcnow() + timedelta(days=loaded.settings.finops_noisy_suppress_days + 1)
    assert target.id not in await loaded.repo.suppressed_ids(now=later)


async def test_one_verdict_per_user_and_validation(loaded: FinOpsService) -> None:
    await loaded.record_feedback("abc", "u1", "risky")
    await loaded.record_feedback("abc", "u1", "helpful")
    await loaded.record_feedback("abc", "u2", "helpful")
    assert await loaded.repo.feedback_counts("abc") == {"helpful": 2}
    with pytest.raises(InvalidInput):
        await loaded.record_feedback("abc", "u1", "meh")
