"""The knowledge base: markdown best-practice entries and their SQLite FTS5 retrieval index.

`entries` parses and validates the files, `index` mirrors them into SQLite and searches them,
`query` turns questions into safe search words (with `spelling`, `synonyms` and `providers`).
"""

from __future__ import annotations

from cloud_engine.ai.knowledge.entries import (
    CATEGORIES,
    FRAMEWORKS,
    MAX_K,
    PROVIDERS,
    KnowledgeEntry,
    LoadReport,
    MalformedEntry,
    SearchHit,
    parse_entry,
)
from cloud_engine.ai.knowledge.index import KnowledgeIndex
from cloud_engine.ai.knowledge.providers import ProviderScope, provider_scope
from cloud_engine.ai.knowledge.query import (
    ParsedQuery,
    build_match_query,
    match_expression,
    parse_query,
    query_terms,
)
from cloud_engine.ai.knowledge.spelling import Vocabulary

__all__ = [
    "CATEGORIES", "FRAMEWORKS", "MAX_K", "PROVIDERS", "KnowledgeEntry", "KnowledgeIndex", "LoadReport",
    "MalformedEntry", "ParsedQuery", "ProviderScope", "SearchHit", "Vocabulary", "build_match_query",
    "match_expression", "parse_entry", "parse_query", "provider_scope", "query_terms",
]
