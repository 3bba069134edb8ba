"""The shipped knowledge base: coverage rules, and retrieval quality on the labelled queries."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_engine.ai.kb_eval import evaluate, load_cases
from cloud_engine.ai.knowledge import CATEGORIES, FRAMEWORKS, KnowledgeEntry, KnowledgeIndex
from cloud_engine.cli import main as cli_main
from cloud_engine.errors import InvalidInput
from cloud_engine.settings import REPO_ROOT
from cloud_engine.store import Database

KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
EVAL_FILE = REPO_ROOT / "tests" / "data" / "retrieval_eval.jsonl"
CLOUD_PROVIDERS = ("gcp", "aws", "azure")


@pytest.fixture
async def shipped() -> AsyncIterator[KnowledgeIndex]:
    db = await Database.open(":memory:")
    index = KnowledgeIndex(db)
    report = await index.load_dir(KNOWLEDGE_DIR)
    assert report.errors == []
    try:
        yield index
    finally:
        await db.close()


async def all_entries(index: KnowledgeIndex) -> list[KnowledgeEntry]:
    rows = await index.db.fetchall("SELECT id FROM kb_entries ORDER BY id")
    entries = [await index.get(row["id"]) for row in rows]
    return [e for e in entries if e is not None]


async def test_every_file_loads_and_ids_are_unique(shipped: KnowledgeIndex) -> None:
    files = [p for p in KNOWLEDGE_DIR.rglob("*.md") if p.name.lower() != "readme.md"]
    stems = Counter(p.stem for p in files)
    assert [stem for stem, n in stems.items() if n > 1] == []
    assert await shipped.count() == len(files) >= 186


async def test_each_cloud_provider_has_enough_entries_in_every_category(shipped: KnowledgeIndex) -> None:
    entries = await all_entries(shipped)
    per_provider = Counter(e.provider for e in entries)
    for provider in CLOUD_PROVIDERS:
        assert per_provider[provider] >= 55, provider
        categories = {e.category for e in entries if e.provider == provider}
        assert categories == set(CATEGORIES), provider


async def test_every_compliance_framework_is_covered(shipped: KnowledgeIndex) -> None:
    entries = await all_entries(shipped)
    covered = Counter(f for e in entries for f in e.frameworks)
    for framework in FRAMEWORKS:
        assert covered[framework] >= 3, framework
    # Each framework also has guidance that applies to every cloud.
    general = {f for e in entries if e.provider == "general" for f in e.frameworks}
    assert general == set(FRAMEWORKS)


async def test_entries_follow_the_layout_and_length_rules(shipped: KnowledgeIndex) -> None:
    for entry in await all_entries(shipped):
        assert entry.path == f"{entry.provider}/{entry.category}/{entry.id}.md"
        assert entry.id.startswith(f"{entry.provider}-")
        words = len(re.findall(r"\S+", entry.body))
        assert 60 <= words <= 180, (entry.id, words)
        assert entry.tags, entry.id


async def test_deployable_resource_kinds_are_covered_per_provider(shipped: KnowledgeIndex) -> None:
    """The product deploys VMs, databases, networks, buckets, firewall rules and clusters."""
    kinds = {
        "vm": "virtual machine instance",
        "database": "database",
        "network": "network subnets",
        "bucket": "bucket",
        "firewall": "firewall rules",
        "kubernetes": "kubernetes cluster",
    }
    for provider in CLOUD_PROVIDERS:
        for kind, query in kinds.items():
            hits = await shipped.search(query, provider=provider, strict_provider=True, k=5)
            tagged = [h for h in hits if kind in h.entry.tags or kind in h.entry.title.lower()]
            assert tagged, (provider, kind)


async def test_eval_file_is_well_formed_and_labels_real_entries(shipped: KnowledgeIndex) -> None:
    cases = await load_cases(EVAL_FILE)
    assert len(cases) >= 60
    assert len({c.query.lower() for c in cases}) == len(cases)
    labelled = {i for c in cases for i in c.relevant}
    assert await shipped.existing_ids(labelled) == labelled
    titles = {e.title.lower() for e in await all_entries(shipped)}
    assert not [c.query for c in cases if c.query.lower() in titles]


async def test_recall_at_5_meets_the_bar(shipped: KnowledgeIndex) -> None:
    report = await evaluate(shipped, EVAL_FILE)
    assert report.n >= 60
    assert report.recall_at_5 >= 0.95, report.misses
    assert 0 < report.mrr <= 1
    assert report.mrr >= 0.8
    assert report.provider_queries >= 50
    assert report.provider_precision_at_5 is not None and report.provider_precision_at_5 >= 0.9, report.off_provider


async def test_evaluate_scores_a_known_miss_and_rank(shipped: KnowledgeIndex, tmp_path: Path) -> None:
    top = await shipped.search("S3 Block Public Access", k=2)
    path = tmp_path / "eval.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"query": "S3 Block Public Access", "relevant": [top[1].entry.id]}),
                json.dumps({"query": "qwertyuiop", "relevant": [top[0].entry.id]}),
                "",
            ]
        ),
        encoding="utf-8",
    )
    report = await evaluate(shipped, path)
    assert report.n == 2
    assert report.recall_at_5 == 0.5
    assert report.mrr == pytest.approx(0.25)  # (1/2 + 0) / 2
    assert report.misses == ("qwertyuiop",)


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        json.dumps({"query": "x"}),
        json.dumps({"query": "", "relevant": ["a"]}),
        json.dumps({"query": "x", "relevant": ["aws-sec-ec2-imdsv2"], "provider": "oracle"}),
        json.dumps({"query": "x", "relevant": ["no-such-entry-id"]}),
    ],
)
async def test_evaluate_rejects_bad_eval_files(shipped: KnowledgeIndex, tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        await evaluate(shipped, path)


def test_cli_eval_passes_on_shipped_set_and_fails_below_threshold(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(KNOWLEDGE_DIR))
    assert cli_main(["kb", "eval"]) == 0
    assert "recall@5" in capsys.readouterr().out
    poor = tmp_path / "poor.jsonl"
    poor.write_text(
        json.dumps({"query": "qwertyuiop", "relevant": ["aws-sec-ec2-imdsv2"]}) + "\n", encoding="utf-8"
    )
    assert cli_main(["kb", "eval", "--file", str(poor)]) == 1
    assert "below 0.85" in capsys.readouterr().err
