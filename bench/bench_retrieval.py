"""Retrieval benchmark: index build time, search latency (p50/p95) and quality.

Quality: recall@5, MRR and provider precision@5 (goals: recall@5 ≥ 0.95, provider
precision@5 ≥ 0.9; see `cloud_engine/ai/kb_eval.py`).

Run with `python -m bench retrieval` (or `python -m bench.bench_retrieval`). Builds the
knowledge index from the shipped `knowledge/` folder into a temporary file database (WAL,
like production) and replays every labelled query in
`tests/data/retrieval_eval.jsonl` several times, so latency covers query parsing, both BM25
passes and entry loading, as the advisor sees it.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from cloud_engine.ai.kb_eval import evaluate, load_cases
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.settings import REPO_ROOT
from cloud_engine.store import Database

KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
EVAL_FILE = REPO_ROOT / "tests" / "data" / "retrieval_eval.jsonl"
ROUNDS = 5


def _percentile(samples: list[float], pct: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


async def run() -> dict[str, float]:
    """Build the index in a temp DB and return latency (ms) and quality figures."""
    cases = await load_cases(EVAL_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        try:
            index = KnowledgeIndex(db)
            t0 = time.perf_counter()
            report = await index.load_dir(KNOWLEDGE_DIR)
            build_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            await index.load_dir(KNOWLEDGE_DIR)
            resync_ms = (time.perf_counter() - t0) * 1000

            latencies: list[float] = []
            for _ in range(ROUNDS):
                for case in cases:
                    t0 = time.perf_counter()
                    await index.search(case.query, provider=case.provider, category=case.category, k=5)
                    latencies.append((time.perf_counter() - t0) * 1000)
            quality = await evaluate(index, EVAL_FILE)
        finally:
            await db.close()
    return {
        "entries indexed": float(report.added),
        "index build (ms)": build_ms,
        "re-sync, nothing changed (ms)": resync_ms,
        "eval queries": float(quality.n),
        "search p50 latency (ms)": statistics.median(latencies),
        "search p95 latency (ms)": _percentile(latencies, 95),
        "recall@5": quality.recall_at_5,
        "MRR": quality.mrr,
        "provider precision@5": quality.provider_precision_at_5 or 0.0,
        "provider-named queries": float(quality.provider_queries),
    }


if __name__ == "__main__":
    for key, value in asyncio.run(run()).items():
        print(f"{key:<32} {value:,.3f}")
