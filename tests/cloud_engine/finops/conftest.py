"""Fixtures for FinOps tests: in-memory stores and a small synthetic data set (21 days)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.synthetic import DEFAULT_END, write_synthetic
from cloud_engine.settings import Settings
from cloud_engine.store import Database

TEST_DAYS = 21
GUILD = 1  # the Discord server the shared fixtures import into


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_synthetic(tmp_path_factory.mktemp("synthetic"), days=TEST_DAYS, end=DEFAULT_END)


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, database_path=":memory:", finops_db_path=":memory:", finops_max_upload_mb=20)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[FinOpsService]:
    db = await Database.open(":memory:")
    svc = await FinOpsService.open(settings, db)
    yield svc
    await svc.close()
    await db.close()


@pytest.fixture
async def loaded(service: FinOpsService, synthetic_files: tuple[Path, Path]) -> FinOpsService:
    focus, metrics = synthetic_files
    await service.ingest_focus_file(focus, guild_id=GUILD)
    await service.ingest_metrics_file(metrics, guild_id=GUILD)
    return service
