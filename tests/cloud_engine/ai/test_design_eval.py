"""The rules designer on thirty-odd labelled use cases: every named part, nothing extra, sound citations."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.ai.advisor import CloudAIAdvisor
from cloud_engine.ai.design.requirements import extract, missing_parts
from cloud_engine.ai.design_eval import evaluate, load_cases
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.settings import REPO_ROOT, Settings
from cloud_engine.store import Database

EVAL = REPO_ROOT / "tests" / "data" / "design_eval.jsonl"


@pytest.fixture
async def index(db: Database, tmp_path: Path) -> KnowledgeIndex:
    idx = KnowledgeIndex(db)
    await idx.load_dir(REPO_ROOT / "knowledge")
    return idx


def test_the_eval_has_at_least_thirty_labelled_cases() -> None:
    cases = load_cases(EVAL)
    assert len(cases) >= 30
    assert all(c.must for c in cases)


async def test_every_design_has_its_parts_and_citations_support_claims(settings: Settings, db: Database,
                                                                        index: KnowledgeIndex) -> None:
    report = await evaluate(CloudAIAdvisor(settings, db, index), index, EVAL)
    assert report.failures == []
    assert report.citations > 50
    assert report.citation_support >= 0.95, report.summary()


@pytest.mark.parametrize(("use_case", "parts", "unsupported"), [
    ("web shop with postgres", ["web tier", "postgres database"], []),
    ("a static marketing website", ["static site"], []),
    ("node api with mongodb and redis", ["api tier", "postgres database", "cache"],
     ["managed cache", "NoSQL/MongoDB database"]),
    ("GPU training cluster with a kafka queue", ["batch/background jobs", "ML workload", "queue"],
     ["message queue", "GPU machines"]),
])
def test_requirement_model(use_case: str, parts: list[str], unsupported: list[str]) -> None:
    req = extract(use_case)
    assert [p for p in parts if p not in req.parts()] == []
    assert [u.part for u in req.unsupported] == unsupported


def test_nothing_recognised_is_said_not_guessed() -> None:
    req = extract("something nice")
    assert req.unrecognised == ("something nice",) and req.parts() == []


def test_missing_parts_checks_a_model_design() -> None:
    req = extract("web shop with postgres and product images")
    assert missing_parts(req, {"database": {"postgres"}}) == ["compute to run the application", "object storage"]
    assert missing_parts(req, {"vm": {""}, "database": {"mysql"}, "bucket": {""}}) == ["a postgres database"]


def test_the_model_prompt_carries_the_same_requirement_model() -> None:
    from cloud_engine.ai.prompts import requirement_block

    block = requirement_block("node api with mongodb and redis")
    assert "- api tier" in block and "- postgres database" in block
    assert "NoSQL/MongoDB database" in block and "managed cache" in block
    assert "The HTTPS entry point is the load_balancer kind" in block


async def test_text_is_rewritten_after_guardrail_corrections(settings: Settings, db: Database,
                                                            index: KnowledgeIndex) -> None:
    from cloud_engine.ai.schemas import AdviceRequest

    request = AdviceRequest(use_case="web shop with postgres", provider="gcp", security="compliance", model="rules")
    answer = await CloudAIAdvisor(settings, db, index).advise(request)
    database = next(r for r in answer.resources if r.spec.kind == "database")
    web = next(r for r in answer.resources if r.spec.kind == "vm")
    assert database.spec.high_availability and "highly available" in database.rationale
    assert not any("runs in one zone" in r.text for r in answer.risks)
    assert not web.spec.public_ip and "No public IP" in web.rationale
    # a public web tier is reached through the load balancer the design now offers, on a placeholder domain
    assert "through the HTTPS load balancer web-lb" in web.rationale
    [lb] = [r for r in answer.resources if r.spec.kind == "load_balancer"]
    assert lb.spec.backend == web.spec.name and "Replace app.example.com" in lb.rationale
