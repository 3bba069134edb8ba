"""Shared fixtures: a real SQLite database per test, a controllable clock, the orchestrator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator
from cloud_engine.settings import Settings
from cloud_engine.store import Database

GUILD = 1
ADMIN = 100
USER = 200
OTHER = 300
VIEWER = 400


class FakeClock:
    """A clock tests move by hand (expiry, grant expiry, rate limits)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_path=str(tmp_path / "cloud.db"),
        terraform_runs_dir=tmp_path / "runs",
        finops_db_path=str(tmp_path / "finops.duckdb"),
        groq_api_key=None,
        gemini_api_key=None,
        user_actions_per_minute=3,
        scan_plans=False,  # a Checkov run per plan costs seconds; the scan has tests of its own
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = await Database.open(settings.database_path)
    yield database
    await database.close()


@pytest.fixture
async def engine(db: Database, settings: Settings, clock: FakeClock) -> CloudOrchestrator:
    eng = CloudOrchestrator(db, settings, clock=clock)
    await eng.grant(GUILD, ADMIN, ADMIN, "CloudAdmin")
    await eng.grant(GUILD, ADMIN, USER, "CloudUser")
    await eng.grant(GUILD, ADMIN, OTHER, "CloudUser")
    await eng.grant(GUILD, ADMIN, VIEWER, "CloudViewer")
    return eng
