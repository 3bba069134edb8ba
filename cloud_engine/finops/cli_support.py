"""Shared plumbing for the FinOps CLI commands (cloud_engine/cli/ingest|costs|recommend): open/close the service, JSON output."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from cloud_engine.finops import FinOpsService
from cloud_engine.settings import Settings
from cloud_engine.store import Database


@asynccontextmanager
async def finops_service(settings: Settings) -> AsyncIterator[FinOpsService]:
    db = await Database.open(settings.database_file)
    try:
        service = await FinOpsService.open(settings, db)
        try:
            yield service
        finally:
            await service.close()
    finally:
        await db.close()


def dump(value: BaseModel | list[BaseModel] | dict[str, Any] | None) -> str:
    """JSON for --json output (dates as ISO strings)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list):
        data = [v.model_dump(mode="json") for v in value]
    else:
        data = value
    return json.dumps(data, indent=2, ensure_ascii=False)
