"""The knowledge index: entries mirrored into SQLite, searched with FTS5/BM25.

Why FTS5/BM25 rather than embeddings: the corpus is a few hundred short, keyword-dense
entries written for this project; lexical ranking with column weights, stemming and a small
synonym table retrieves them well (see `kb_eval.py` and `tests/data/retrieval_eval.jsonl`),
runs offline in the one SQLite database, and gives the advisor stable, citable entry ids.

Files are parsed in `entries.py`; queries in `query.py` (typos: `spelling.py`, synonyms:
`synonyms.py`, the clouds a question names: `providers.py`).

The index mirrors one directory: `load_dir` adds new files, updates changed ones (by
sha256 of the file bytes), removes entries whose file is gone, and skips malformed files
with a reason. A file that becomes malformed therefore drops out of the index until fixed,
so the advisor never cites text that no longer exists on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cloud_engine.ai.knowledge.entries import (
    CATEGORIES,
    MAX_K,
    PROVIDERS,
    KnowledgeEntry,
    LoadReport,
    SearchHit,
    scan_dir,
)
from cloud_engine.ai.knowledge.providers import provider_scope
from cloud_engine.ai.knowledge.query import MAX_QUERY_CHARS, match_expression, parse_query
from cloud_engine.ai.knowledge.spelling import Vocabulary
from cloud_engine.errors import InvalidInput
from cloud_engine.store import Database

_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# Changes whenever an entry is added, removed or rewritten, so the vocabulary is rebuilt.
_VOCAB_KEY_SQL = ("SELECT COUNT(*) AS n, TOTAL(doc) AS docs, MAX(loaded_at) AS loaded, TOTAL(length(body)) AS chars"
                  " FROM kb_entries")

# Names a user may type for each provider; indexed with the entry so "aws ..." favours AWS.
_PROVIDER_TERMS: dict[str, str] = {
    "gcp": "gcp google cloud platform",
    "aws": "aws amazon web services",
    "azure": "azure microsoft",
    "general": "general multi cloud",
}

# bm25() column weights, in kb_fts column order: title, services, tags, body, provider_terms.
# Titles and tags are written to name the topic, so a hit there says more than one in prose;
# tuned against tests/data/retrieval_eval.jsonl.
_BM25_WEIGHTS: tuple[float, ...] = (6.0, 3.0, 4.0, 1.0, 1.5)

# Synonym expansions are scored in a second BM25 pass and count this much of a typed word:
# they rescue queries whose words the entries never use ("bucket" -> "blob") without letting
# a generic synonym outrank an entry that matches what the user actually wrote.
_EXPANSION_WEIGHT = 0.4
# How many best matches each BM25 pass contributes before the two are combined.
_CANDIDATES = 200


def _row_to_entry(row: dict[str, Any]) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row["id"],
        title=row["title"],
        provider=row["provider"],
        category=row["category"],
        services=tuple(json.loads(row["services"])),
        tags=tuple(json.loads(row["tags"])),
        frameworks=tuple(json.loads(row["frameworks"])),
        body=row["body"],
        path=row["path"],
        sha256=row["sha256"],
    )


def _entry_params(entry: KnowledgeEntry) -> tuple[Any, ...]:
    return (
        entry.id,
        entry.path,
        entry.sha256,
        entry.title,
        entry.provider,
        entry.category,
        json.dumps(list(entry.services)),
        json.dumps(list(entry.tags)),
        json.dumps(list(entry.frameworks)),
        entry.body,
    )


def _fts_params(doc: int, entry: KnowledgeEntry) -> tuple[Any, ...]:
    # Tags are written kebab-case ("private-ip"); the tokenizer splits them into words.
    return (
        doc,
        entry.title,
        " ; ".join(entry.services),
        " ; ".join(entry.tags + entry.frameworks),
        entry.body,
        _PROVIDER_TERMS[entry.provider],
    )


# One BM25 pass over kb_fts with the metadata filters; `rank` is bm25() (lower = better).
# The provider clause admits provider 'general' entries unless strict is requested.
_RANK_SQL = (
    "SELECT kb_fts.rowid AS doc, e.provider AS provider, bm25(kb_fts, ?, ?, ?, ?, ?) AS rank"
    " FROM kb_fts JOIN kb_entries e ON e.doc = kb_fts.rowid"
    " WHERE kb_fts MATCH ?"
    " AND (? IS NULL OR e.provider = ? OR (? = 0 AND e.provider = 'general'))"
    " AND (? IS NULL OR e.category = ?)"
    " AND (? IS NULL OR EXISTS (SELECT 1 FROM json_each(e.services) s"
    "      WHERE instr(lower(s.value), lower(?)) > 0))"
    " ORDER BY rank LIMIT ?"
)


_VOCABULARIES: dict[str, Vocabulary] = {}
_MAX_SHARED = 8


def _shared_vocabulary(text: str) -> Vocabulary:
    """One `Vocabulary` per distinct corpus text, shared by every index over it (its table is costly)."""
    key = hashlib.sha256(text.encode()).hexdigest()
    if key not in _VOCABULARIES:
        if len(_VOCABULARIES) >= _MAX_SHARED:
            _VOCABULARIES.pop(next(iter(_VOCABULARIES)))
        _VOCABULARIES[key] = Vocabulary(w.lower() for w in _WORD_RE.findall(text))
    return _VOCABULARIES[key]


class KnowledgeIndex:
    """Knowledge entries in the main SQLite database, with BM25 search and metadata filters."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_key: tuple[Any, ...] | None = None

    async def vocabulary(self) -> Vocabulary:
        """Every word of the indexed entries, rebuilt only when the index changed (for spelling)."""
        row = await self.db.fetchone(_VOCAB_KEY_SQL)
        key = tuple(row[k] for k in ("n", "docs", "loaded", "chars")) if row else ()
        if self._vocabulary is None or key != self._vocabulary_key:
            rows = await self.db.fetchall("SELECT title, services, tags, body FROM kb_entries")
            text = " ".join(" ".join((r["title"], r["services"], r["tags"], r["body"])) for r in rows)
            self._vocabulary = _shared_vocabulary(text)
            self._vocabulary_key = key
        return self._vocabulary

    async def load_dir(self, path: str | Path) -> LoadReport:
        """Make the index mirror the entry files under `path`; idempotent, never fails on a bad file."""
        root = Path(path)
        if not await asyncio.to_thread(root.is_dir):
            raise InvalidInput(field="knowledge directory", rule=f"{root} is not a directory")
        scanned = await asyncio.to_thread(scan_dir, root)
        report = LoadReport()
        wanted: dict[str, KnowledgeEntry] = {}
        seen_in: dict[str, str] = {}
        for item in scanned:
            if item.entry is None:
                report.errors.append((item.rel_path, item.error or "malformed"))
            elif item.entry.id in wanted:
                report.errors.append(
                    (item.rel_path, f"duplicate id {item.entry.id!r} (also in {seen_in[item.entry.id]})")
                )
            else:
                wanted[item.entry.id] = item.entry
                seen_in[item.entry.id] = item.rel_path

        async with self.db.transaction() as conn:
            async with conn.execute("SELECT doc, id, path, sha256 FROM kb_entries") as cur:
                existing = {row["id"]: row for row in await cur.fetchall()}
            for entry_id in existing.keys() - wanted.keys():
                doc = existing[entry_id]["doc"]
                await conn.execute("DELETE FROM kb_fts WHERE rowid = ?", (doc,))
                await conn.execute("DELETE FROM kb_entries WHERE doc = ?", (doc,))
                report.removed += 1
            for entry_id, entry in wanted.items():
                old = existing.get(entry_id)
                if old is not None and old["sha256"] == entry.sha256 and old["path"] == entry.path:
                    report.unchanged += 1
                    continue
                if old is None:
                    async with conn.execute(
                        "INSERT INTO kb_entries (id, path, sha256, title, provider, category, services, tags,"
                        " frameworks, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _entry_params(entry),
                    ) as cur:
                        doc = cur.lastrowid
                    report.added += 1
                else:
                    doc = old["doc"]
                    await conn.execute(
                        "UPDATE kb_entries SET id = ?, path = ?, sha256 = ?, title = ?, provider = ?, category = ?,"
                        " services = ?, tags = ?, frameworks = ?, body = ?, loaded_at = datetime('now')"
                        " WHERE doc = ?",
                        (*_entry_params(entry), doc),
                    )
                    await conn.execute("DELETE FROM kb_fts WHERE rowid = ?", (doc,))
                    report.updated += 1
                await conn.execute(
                    "INSERT INTO kb_fts (rowid, title, services, tags, body, provider_terms) VALUES (?, ?, ?, ?, ?, ?)",
                    _fts_params(doc, entry),
                )
        return report

    async def search(
        self,
        query: str,
        *,
        provider: str | None = None,
        category: str | None = None,
        service: str | None = None,
        k: int = 5,
        strict_provider: bool = False,
        detect_provider: bool = True,
    ) -> list[SearchHit]:
        """Best `k` entries for free-text `query`, optionally filtered; never raises on odd text.

        A `provider` filter also admits provider "general" entries (compliance and FinOps
        guidance that applies everywhere) unless `strict_provider` is set. Without one, the
        clouds the query names ("gke nodes", "on azure") filter the same way unless the query
        compares clouds (`providers.provider_scope`). `service` matches case-insensitively
        anywhere in a service name ("sql" finds "Cloud SQL"). Words the index does not know
        are spell-corrected against its vocabulary. A query with no searchable words returns
        no hits.
        """
        if not 1 <= k <= MAX_K:
            raise InvalidInput(field="k", rule=f"must be between 1 and {MAX_K}")
        if provider is not None and provider not in PROVIDERS:
            raise InvalidInput(field="provider", rule=f"must be one of {', '.join(PROVIDERS)}")
        if category is not None and category not in CATEGORIES:
            raise InvalidInput(field="category", rule=f"must be one of {', '.join(CATEGORIES)}")
        service = service.strip() if service else None
        parsed = parse_query(query, await self.vocabulary())
        if parsed.empty:
            return []
        allowed = None
        if provider is None and detect_provider:
            allowed = provider_scope(" ".join([query[:MAX_QUERY_CHARS], *parsed.terms])).allowed
        filters = (provider, provider, int(strict_provider), category, category, service, service)
        scores: dict[int, float] = {}
        for terms, weight in ((parsed.terms, 1.0), (parsed.expansions, _EXPANSION_WEIGHT)):
            match = match_expression(terms)
            if match is None:
                continue
            rows = await self.db.fetchall(_RANK_SQL, (*_BM25_WEIGHTS, match, *filters, _CANDIDATES))
            for row in rows:
                if allowed is not None and row["provider"] not in allowed:
                    continue
                scores[row["doc"]] = scores.get(row["doc"], 0.0) - weight * float(row["rank"])
        best = sorted(scores.items(), key=lambda item: -item[1])[:k]
        if not best:
            return []
        rows = await self.db.fetchall(
            "SELECT doc, id, path, sha256, title, provider, category, services, tags, frameworks, body"
            " FROM kb_entries WHERE doc IN (SELECT value FROM json_each(?))",
            (json.dumps([doc for doc, _ in best]),),
        )
        by_doc = {row["doc"]: _row_to_entry(row) for row in rows}
        hits = [SearchHit(entry=by_doc[doc], score=score) for doc, score in best if doc in by_doc]
        return sorted(hits, key=lambda hit: (-hit.score, hit.entry.id))

    async def get(self, entry_id: str) -> KnowledgeEntry | None:
        """The entry with this id, or None."""
        row = await self.db.fetchone(
            "SELECT id, path, sha256, title, provider, category, services, tags, frameworks, body"
            " FROM kb_entries WHERE id = ?",
            (entry_id,),
        )
        return _row_to_entry(row) if row else None

    async def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` present in the index (lets the advisor drop invented citations)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        rows = await self.db.fetchall(
            "SELECT id FROM kb_entries WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)
        )
        return {row["id"] for row in rows}

    async def count(self) -> int:
        """How many entries the index holds."""
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM kb_entries")
        return int(row["n"]) if row else 0
