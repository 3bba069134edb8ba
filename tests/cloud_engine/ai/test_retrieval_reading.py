"""Retrieval that reads like a user: the clouds a question names, typos, synonyms and phrases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cloud_engine.ai.knowledge import KnowledgeIndex, Vocabulary, parse_query, provider_scope
from cloud_engine.ai.knowledge.spelling import edit_distance
from cloud_engine.settings import REPO_ROOT
from cloud_engine.store import Database


@pytest.fixture
async def shipped() -> AsyncIterator[KnowledgeIndex]:
    db = await Database.open(":memory:")
    index = KnowledgeIndex(db)
    await index.load_dir(REPO_ROOT / "knowledge")
    try:
        yield index
    finally:
        await db.close()


@pytest.mark.parametrize(("question", "named", "allowed"), [
    ("gke nodes cost too much", {"gcp"}, {"gcp", "general"}),
    ("azure savings plan", {"azure"}, {"azure", "general"}),
    ("ec2 and rds backups", {"aws"}, {"aws", "general"}),
    ("compare spot on aws and azure", {"aws", "azure"}, {"aws", "azure", "general"}),
    ("which cloud is cheapest for spot machines", set(), None),
    ("how does azure compare to other clouds", {"azure"}, None),
    ("encrypt data in transit", set(), None),
])
def test_provider_scope(question: str, named: set[str], allowed: set[str] | None) -> None:
    scope = provider_scope(question)
    assert scope.named == named
    assert scope.allowed == (frozenset(allowed) if allowed is not None else None)


def test_spelling_corrects_against_the_vocabulary_and_leaves_short_words() -> None:
    vocab = Vocabulary(["maintenance", "maintenance", "database", "cloud", "sql", "sql", "autoscaling", "stop"])
    assert vocab.correct("maintenence") == ["maintenance"]
    assert vocab.correct("databse") == ["database"]
    assert vocab.correct("autoscalling") == ["autoscaling"]
    assert vocab.correct("cloudsql") == ["cloud", "sql"]
    assert vocab.correct("shop") == ["shop"]  # too short to guess
    assert vocab.correct("x" * 500) == ["x" * 500]  # too long to try
    assert vocab.correct("zzzzzzz") == ["zzzzzzz"]


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("encyrption", "encryption") == 1
    assert edit_distance("kitten", "sitting") == 3


def test_phrases_add_topic_words_as_terms() -> None:
    assert {"rightsizing"} <= set(parse_query("our machines are too big").terms)
    assert {"autoscaling"} <= set(parse_query("add servers when traffic grows").terms)
    assert {"autoscaling"} <= set(parse_query("scale out the web tier").terms)
    assert "instance" in parse_query("gce").expansions


@pytest.mark.parametrize(("question", "expected", "cloud"), [
    ("azure savings plan", "azure-cost-savings-plan-compute", "azure"),
    ("gke nodes", "gcp-cost-gke-cost", "gcp"),
    ("cloudsql maintenence window", "gcp-rel-cloud-sql-ha-backups", "gcp"),
    ("GCE machines too big", "gcp-cost-rightsizing-recommendations", "gcp"),
    ("automatically add web servers when traffic grows on aws", "aws-perf-autoscaling-target-tracking", "aws"),
])
async def test_the_issue_queries_find_the_right_cloud_and_topic(shipped: KnowledgeIndex, question: str,
                                                               expected: str, cloud: str) -> None:
    hits = await shipped.search(question, k=5)
    assert expected in [h.entry.id for h in hits[:3]]
    assert all(h.entry.provider in (cloud, "general") for h in hits)


async def test_a_comparison_keeps_each_named_cloud(shipped: KnowledgeIndex) -> None:
    hits = await shipped.search("compare spot instances on aws and azure", k=5)
    assert {"aws", "azure"} <= {h.entry.provider for h in hits}
    assert "gcp" not in {h.entry.provider for h in hits}


async def test_provider_detection_can_be_turned_off(shipped: KnowledgeIndex) -> None:
    hits = await shipped.search("gke spot nodes", k=10, detect_provider=False)
    assert len({h.entry.provider for h in hits}) > 1
