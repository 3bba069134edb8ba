"""Offline retrieval evaluation for the knowledge index.

Why it exists: ranking tweaks (column weights, synonyms, stop words) and new entries can
silently push good answers out of the top results the advisor sees. A labelled query set
(`tests/data/retrieval_eval.jsonl`) turns that into two numbers the tests and
`main.py kb eval` check.

Definitions, per query with a non-empty set of relevant entry ids:
- recall@5: 1 if at least one relevant id is among the top 5 hits, else 0 (a "hit rate";
  the advisor only needs one good source in its context). The report averages it.
- MRR (mean reciprocal rank): 1/rank of the first relevant hit within the top 10, 0 if none.
- provider precision@5: over queries labelled with the clouds they are about ("providers"),
  the share of the top-5 hits from those clouds or cross-cloud ("general"). Such queries pass
  no provider filter: the index must read the cloud from the question, as a user writes it.

Each line of the file is a JSON object: {"query": str, "relevant": [id, ...]} with optional
"provider" and "category" filters passed to `KnowledgeIndex.search`, and optional
"providers": [cloud, ...] (the clouds the question names) for provider precision.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_engine.ai.knowledge import CATEGORIES, PROVIDERS, KnowledgeIndex
from cloud_engine.errors import InvalidInput

__all__ = ["EvalCase", "EvalReport", "evaluate", "load_cases"]

RECALL_K = 5
MRR_K = 10


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One labelled query."""

    query: str
    relevant: tuple[str, ...]
    provider: str | None = None
    category: str | None = None
    line: int = 0
    providers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Aggregate retrieval quality; `misses` lists queries with no relevant id in the top 5."""

    n: int
    recall_at_5: float
    mrr: float
    misses: tuple[str, ...] = field(default=())
    provider_precision_at_5: float | None = None
    provider_queries: int = 0
    off_provider: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """One line for the CLI."""
        line = f"queries {self.n}, recall@5 {self.recall_at_5:.3f}, MRR {self.mrr:.3f}"
        if self.provider_precision_at_5 is not None:
            line += f", provider precision@5 {self.provider_precision_at_5:.3f} ({self.provider_queries} queries)"
        return line


def _parse_case(raw: Any, where: str, line: int) -> EvalCase:
    if not isinstance(raw, dict):
        raise InvalidInput(field=where, rule="each line must be a JSON object")
    query, relevant = raw.get("query"), raw.get("relevant")
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput(field=where, rule="'query' must be a non-empty string")
    if not isinstance(relevant, list) or not relevant or not all(isinstance(r, str) for r in relevant):
        raise InvalidInput(field=where, rule="'relevant' must be a non-empty list of entry ids")
    provider, category, providers = raw.get("provider"), raw.get("category"), raw.get("providers", [])
    if provider is not None and provider not in PROVIDERS:
        raise InvalidInput(field=where, rule=f"unknown provider {provider!r}")
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(field=where, rule=f"unknown category {category!r}")
    if not isinstance(providers, list) or any(p not in PROVIDERS or p == "general" for p in providers):
        raise InvalidInput(field=where, rule="'providers' must list clouds among gcp, aws and azure")
    if providers and provider is not None:
        raise InvalidInput(field=where, rule="'providers' labels a question without a 'provider' filter")
    unknown = set(raw) - {"query", "relevant", "provider", "category", "providers"}
    if unknown:
        raise InvalidInput(field=where, rule=f"unknown keys {sorted(unknown)}")
    return EvalCase(query, tuple(relevant), provider, category, line, tuple(providers))


def _read_cases(path: Path) -> list[EvalCase]:
    cases = []
    for number, text in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(field=where, rule=f"not valid JSON ({exc.msg})") from None
        cases.append(_parse_case(raw, where, number))
    return cases


async def load_cases(path: str | Path) -> list[EvalCase]:
    """Read and validate the labelled queries (file read in a thread)."""
    return await asyncio.to_thread(_read_cases, Path(path))


async def evaluate(index: KnowledgeIndex, path: str | Path) -> EvalReport:
    """Run every labelled query against `index` and report recall@5 and MRR.

    Raises InvalidInput if the file is malformed, empty, or labels an id the index does not
    hold: a typo in a label would otherwise read as a retrieval failure.
    """
    cases = await load_cases(path)
    if not cases:
        raise InvalidInput(field=str(path), rule="contains no queries")
    labelled = {entry_id for case in cases for entry_id in case.relevant}
    missing = labelled - await index.existing_ids(labelled)
    if missing:
        raise InvalidInput(field=str(path), rule=f"labels unknown entry ids {sorted(missing)}")

    found = 0
    reciprocal_sum = 0.0
    misses: list[str] = []
    precisions: list[float] = []
    off: list[str] = []
    for case in cases:
        hits = await index.search(case.query, provider=case.provider, category=case.category, k=MRR_K)
        ranked = [hit.entry.id for hit in hits]
        if case.providers:
            top = hits[:RECALL_K]
            fitting = sum(1 for hit in top if hit.entry.provider in (*case.providers, "general"))
            precisions.append(fitting / len(top) if top else 0.0)
            if top and fitting < len(top):
                off.append(case.query)
        relevant = set(case.relevant)
        first = next((rank for rank, entry_id in enumerate(ranked, start=1) if entry_id in relevant), None)
        if first is not None and first <= RECALL_K:
            found += 1
        else:
            misses.append(case.query)
        if first is not None:
            reciprocal_sum += 1.0 / first
    return EvalReport(
        n=len(cases), recall_at_5=found / len(cases), mrr=reciprocal_sum / len(cases), misses=tuple(misses),
        provider_precision_at_5=sum(precisions) / len(precisions) if precisions else None,
        provider_queries=len(precisions), off_provider=tuple(off),
    )
