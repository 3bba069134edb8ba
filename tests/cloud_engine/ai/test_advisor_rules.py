"""The rules engine answers a dozen typical use cases sensibly, offline, over the real knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.ai.advisor import CloudAIAdvisor
from cloud_engine.ai.guardrails import BUDGET_CEILINGS, EU_REGIONS
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.core.policies import ADMIN_PORTS
from cloud_engine.settings import REPO_ROOT, Settings
from cloud_engine.store import Database

KNOWLEDGE = REPO_ROOT / "knowledge"

CASES: list[tuple[str, dict, set[str]]] = [
    ("web app with a postgres database for a small online shop", {"budget": "low"}, {"vm", "database"}),
    ("REST API backend for a mobile app", {"provider": "aws"}, {"vm"}),
    ("static website for a marketing landing page", {"budget": "low"}, {"bucket"}),
    ("store and archive scanned documents and backups", {"provider": "azure"}, {"bucket"}),
    ("nightly batch ETL analytics pipeline with dashboards", {"budget": "high", "provider": "gcp"}, {"vm", "bucket"}),
    ("microservices on kubernetes", {"budget": "medium", "provider": "gcp"}, {"k8s_cluster"}),
    ("microservices in containers on a tight budget", {"budget": "low"}, {"vm"}),
    ("machine learning model training with GPUs", {"provider": "aws"}, {"vm", "bucket"}),
    ("dev/test environment for a web app with mysql", {"budget": "medium"}, {"vm", "database"}),
    ("patient records API with postgres", {"compliance": "HIPAA", "security": "enhanced", "provider": "aws"},
     {"vm", "database"}),
    ("customer portal for EU users with a database", {"compliance": "GDPR", "provider": "gcp", "region": "us-east1"},
     {"vm", "database"}),
    ("e-commerce checkout handling card payments with a database", {"compliance": "PCI-DSS", "security": "compliance"},
     {"vm", "database", "network", "firewall"}),
    ("financial reporting database", {"compliance": "SOX", "provider": "azure", "budget": "high"}, {"database"}),
]


@pytest.fixture
async def index(db: Database, tmp_path: Path) -> KnowledgeIndex:
    idx = KnowledgeIndex(db)
    if KNOWLEDGE.is_dir() and any(KNOWLEDGE.rglob("*.md")):
        await idx.load_dir(KNOWLEDGE)
    return idx


@pytest.mark.parametrize(("use_case", "options", "kinds"), CASES, ids=[c[0][:30] for c in CASES])
async def test_rules_answers_are_sensible(settings: Settings, db: Database, index: KnowledgeIndex, use_case: str,
                                          options: dict, kinds: set[str]) -> None:
    request = AdviceRequest(use_case=use_case, model="rules", **options)
    answer = await CloudAIAdvisor(settings, db, index).advise(request)
    assert answer.written_by == "rules engine"
    assert answer.resources and kinds <= {r.spec.kind for r in answer.resources}
    assert answer.total_monthly_cost <= BUDGET_CEILINGS[request.budget] == answer.budget_ceiling
    assert answer.total_monthly_cost == round(sum(r.monthly_cost for r in answer.resources), 2)
    assert all(g.passed for g in answer.guardrails if g.enforced), [g for g in answer.guardrails if g.passed is False]
    for r in answer.resources:
        spec = r.spec
        assert spec.encrypted
        assert not (spec.kind == "bucket" and spec.public_access)
        if spec.kind == "firewall":
            assert not any(rule.opens_world() and rule.covers_port(p) for rule in spec.rules for p in ADMIN_PORTS)
        if request.security != "standard" or request.compliance == "PCI-DSS":
            assert not spec.public_ip
        if request.compliance == "GDPR":
            assert spec.region in EU_REGIONS[r.provider]
        if request.provider != "any":
            assert r.provider == request.provider
    if request.security == "compliance":
        assert all(r.spec.high_availability for r in answer.resources if r.spec.kind == "database")
    assert [s.step for s in answer.reasoning] == ["requirements", "architecture", "cost", "security"]
    if await index.count():
        assert answer.citations, "rules answers cite the knowledge they used"
        assert await index.existing_ids(answer.citations) == set(answer.citations)
    if "GPU" in use_case:
        assert any("GPU" in risk.text for risk in answer.risks)


async def test_kubernetes_is_not_offered_on_a_low_budget(settings: Settings, db: Database,
                                                         index: KnowledgeIndex) -> None:
    answer = await CloudAIAdvisor(settings, db, index).advise(
        AdviceRequest(use_case="kubernetes microservices", budget="low", model="rules"))
    assert not any(r.spec.kind == "k8s_cluster" for r in answer.resources)


async def test_any_provider_picks_the_cheapest_and_says_so(settings: Settings, db: Database,
                                                           index: KnowledgeIndex) -> None:
    answer = await CloudAIAdvisor(settings, db, index).advise(AdviceRequest(use_case="web app", model="rules"))
    assert any("cheapest" in n for n in answer.notes)
