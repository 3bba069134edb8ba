"""Persistence: the aiosqlite database, numbered migrations and repositories."""

from cloud_engine.store.database import Database

__all__ = ["Database"]
