"""Operational FinOps state in the main SQLite database: feedback, suppressions, ingest runs.

Why SQLite and not the DuckDB ledger: these are small, frequently written rows that belong
with the rest of the bot's state (backups, migrations), while the ledger is bulk analytics.
A "noisy" verdict hides that recommendation for `finops_noisy_suppress_days`.

Every row and query is scoped to one Discord server (`guild_id`), like the ledger: a verdict
given in one server never hides a recommendation in another, even when both imported the
same bill and therefore see the same recommendation ids.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud_engine.errors import InvalidInput
from cloud_engine.finops.models import FeedbackResult, IngestReport, Verdict
from cloud_engine.store import Database

VERDICTS: tuple[str, ...] = ("helpful", "noisy", "risky")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class FinOpsRepository:
    """All SQL for FinOps operational tables; parameterised, one transaction per write."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_feedback(self, guild_id: int, recommendation_id: str, user_id: str | int, verdict: str, *,
                              suppress_days: int, now: datetime | None = None) -> FeedbackResult:
        if verdict not in VERDICTS:
            raise InvalidInput(field="verdict", rule=f"must be one of {', '.join(VERDICTS)}")
        now = now or _now()
        until = now + timedelta(days=suppress_days) if verdict == "noisy" else None
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO recommendation_feedback (guild_id, recommendation_id, user_id, verdict, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, recommendation_id, user_id) "
                "DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at",
                (guild_id, recommendation_id, str(user_id), verdict, now.isoformat()),
            )
            if until is not None:
                await conn.execute(
                    "INSERT INTO recommendation_suppressions (guild_id, recommendation_id, suppressed_until, "
                    "suppressed_by, reason) VALUES (?, ?, ?, ?, 'noisy') ON CONFLICT (guild_id, recommendation_id) "
                    "DO UPDATE SET suppressed_until = MAX(suppressed_until, excluded.suppressed_until), "
                    "suppressed_by = excluded.suppressed_by",
                    (guild_id, recommendation_id, until.isoformat(), str(user_id)),
                )
        verdict_lit: Verdict = verdict  # type: ignore[assignment]
        return FeedbackResult(recommendation_id=recommendation_id, user_id=str(user_id), verdict=verdict_lit,
                              suppressed_until=until)

    async def suppressed_ids(self, guild_id: int, now: datetime | None = None) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT recommendation_id FROM recommendation_suppressions WHERE guild_id = ? AND suppressed_until > ?",
            (guild_id, (now or _now()).isoformat()),
        )
        return {r["recommendation_id"] for r in rows}

    async def feedback_counts(self, guild_id: int, recommendation_id: str) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT verdict, COUNT(*) AS n FROM recommendation_feedback WHERE guild_id = ? AND recommendation_id = ? "
            "GROUP BY verdict",
            (guild_id, recommendation_id),
        )
        return {r["verdict"]: int(r["n"]) for r in rows}

    async def start_run(self, guild_id: int, target: str, source_kind: str, source_name: str) -> int:
        return await self.db.execute(
            "INSERT INTO finops_ingest_runs (guild_id, target, source_kind, source_name, started_at, status) "
            "VALUES (?, ?, ?, ?, ?, 'running')", (guild_id, target, source_kind, source_name, _now().isoformat()))

    async def finish_run(self, run_id: int, report: IngestReport | None, error: str | None = None) -> None:
        counts = ((report.rows_read, report.rows_added, report.rows_restated, report.rows_unchanged, report.rows_merged,
                   report.rows_removed) if report else (None,) * 6)
        await self.db.execute(
            "UPDATE finops_ingest_runs SET finished_at = ?, status = ?, rows_read = ?, rows_added = ?, "
            "rows_restated = ?, rows_unchanged = ?, rows_merged = ?, rows_removed = ?, error = ? WHERE id = ?",
            (_now().isoformat(), "ok" if report else "failed", *counts, error, run_id),
        )

    async def recent_runs(self, guild_id: int, limit: int = 20) -> list[dict[str, object]]:
        return await self.db.fetchall("SELECT * FROM finops_ingest_runs WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
                                      (guild_id, limit))


__all__ = ["VERDICTS", "FinOpsRepository"]
