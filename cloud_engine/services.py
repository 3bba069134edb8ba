"""The engine's services wired together once, for the bot, the CLI and the demo.

Why one container: the bot's setup_hook and every CLI command need the same database,
orchestrator, knowledge index, advisor and FinOps service, opened in the same order and
closed together. Optional parts (advisor, FinOps) are created on first use so a command
that does not need them never pays for them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from cloud_engine.core import CloudOrchestrator
from cloud_engine.settings import Settings
from cloud_engine.store import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: CloudOrchestrator
    _extras: dict[str, Any] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        """Open the database (running migrations) and build the orchestrator."""
        db = await Database.open(settings.database_file)
        return cls(settings=settings, db=db, engine=CloudOrchestrator(db, settings))

    async def close(self) -> None:
        for name, value in list(self._extras.items()):
            closer = getattr(value, "close", None)
            if closer is not None:
                try:
                    result = closer()
                    if asyncio.iscoroutine(result):
                        await result
                except Exception:
                    log.exception("closing service failed", extra={"service": name})
        await self.db.close()
