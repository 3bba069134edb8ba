"""Advisor benchmark: rules-engine latency (p50/p95) over a dozen typical use cases, and design quality.

Quality comes from the labelled design eval (`tests/data/design_eval.jsonl`, see
`cloud_engine/ai/design_eval.py`): the share of designs with every part they must have and
none they must not, and citation support (cited entries that cover their claim's subject).

Run with `python -m bench advisor` (or `python -m bench.bench_advisor`). Builds the knowledge
index from the shipped `knowledge/` folder (when present) in a temporary file database and
answers each use case several times with `model="rules"`, so the figure covers retrieval,
the rules draft, guardrails, pricing and citation checks: what a user waits for offline.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from cloud_engine.ai.advisor import CloudAIAdvisor
from cloud_engine.ai.design_eval import evaluate as evaluate_designs
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.settings import REPO_ROOT, Settings
from cloud_engine.store import Database

KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
DESIGN_EVAL = REPO_ROOT / "tests" / "data" / "design_eval.jsonl"
ROUNDS = 5
USE_CASES: tuple[tuple[str, dict[str, str]], ...] = (
    ("web app with a postgres database for a small online shop", {"budget": "low"}),
    ("REST API backend for a mobile app", {"provider": "aws"}),
    ("static website for a marketing landing page", {"budget": "low"}),
    ("store and archive scanned documents and backups", {"provider": "azure"}),
    ("nightly batch ETL analytics pipeline with dashboards", {"budget": "high", "provider": "gcp"}),
    ("microservices on kubernetes", {"provider": "gcp"}),
    ("machine learning model training with GPUs", {"provider": "aws"}),
    ("dev/test environment for a web app with mysql", {}),
    ("patient records API with postgres", {"compliance": "HIPAA", "security": "enhanced", "provider": "aws"}),
    ("customer portal for EU users with a database", {"compliance": "GDPR", "provider": "gcp"}),
    ("e-commerce checkout handling card payments", {"compliance": "PCI-DSS", "security": "compliance"}),
    ("financial reporting database", {"compliance": "SOX", "provider": "azure", "budget": "high"}),
)


def _percentile(samples: list[float], pct: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


async def run() -> dict[str, float]:
    """Answer every use case ROUNDS times with the rules engine; latency figures in ms."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_path=str(Path(tmp) / "bench.db"), groq_api_key=None,
                            gemini_api_key=None)
        db = await Database.open(settings.database_path)
        try:
            index = KnowledgeIndex(db)
            entries = 0
            if KNOWLEDGE_DIR.is_dir():
                await index.load_dir(KNOWLEDGE_DIR)
                entries = await index.count()
            advisor = CloudAIAdvisor(settings, db, index)
            samples: list[float] = []
            for _ in range(ROUNDS):
                for use_case, options in USE_CASES:
                    request = AdviceRequest(use_case=use_case, model="rules", **options)
                    started = time.perf_counter()
                    await advisor.advise(request)
                    samples.append((time.perf_counter() - started) * 1000)
            designs = await evaluate_designs(advisor, index, DESIGN_EVAL)
        finally:
            await db.close()
    result = {"answers": float(len(samples)), "knowledge_entries": float(entries),
              "rules_p50_ms": round(_percentile(samples, 50), 2), "rules_p95_ms": round(_percentile(samples, 95), 2),
              "rules_max_ms": round(max(samples), 2), "design_eval_cases": float(designs.n),
              "design_parts_right": round(designs.pass_rate, 3),
              "citation_support": round(designs.citation_support, 3)}
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


if __name__ == "__main__":
    asyncio.run(run())
