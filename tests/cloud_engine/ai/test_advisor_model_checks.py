"""A model's design is held to the same bar: world ports closed, citations on subject, parts named."""

from __future__ import annotations

import json

import pytest
import respx

from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.ai.test_advisor import GROQ_URL, advice_json, advisor, groq_reply
from tests.cloud_engine.ai.test_advisor import index as index  # noqa: F401 - the fixture

OPEN_DATA_PORTS = {"spec": {"kind": "firewall", "name": "fw", "rules": [
    {"ports": [443, 5432, 6379, 9200], "sources": ["0.0.0.0/0"]}, {"ports": [5432], "sources": ["::/0"]}]},
    "rationale": "Open the app and data ports.", "citations": []}


@pytest.mark.parametrize("options", [{"compliance": "GDPR"}, {"compliance": "HIPAA", "security": "compliance"},
                                     {"security": "standard"}])
@respx.mock
async def test_a_model_firewall_opening_data_ports_is_closed_under_every_setting(
        settings: Settings, db: Database, index: KnowledgeIndex, options: dict[str, str]) -> None:
    resources = json.loads(advice_json())["resources"] + [OPEN_DATA_PORTS]
    respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json(resources=resources)))
    request = AdviceRequest(use_case="web app with a postgres database", provider="gcp",
                            model="groq:llama-3.3-70b-versatile", **options)
    answer = await advisor(settings, db, index).advise(request)
    assert answer.provider == "groq"
    fw = next(r.spec for r in answer.resources if r.spec.kind == "firewall")
    for rule in fw.rules:
        if rule.opens_world():
            assert all(not rule.covers_port(p) for p in (5432, 6379, 9200, 22, 3389))
    check = next(g for g in answer.guardrails if g.name == "no-world-ingress")
    assert check.corrected and check.passed
    assert all(g.passed is None for g in answer.guardrails if not g.enforced)


@respx.mock
async def test_citations_off_subject_are_dropped_and_missing_parts_noted(settings: Settings, db: Database,
                                                                         index: KnowledgeIndex) -> None:
    resources = [{"spec": {"kind": "database", "name": "db", "engine": "postgres", "tier": "db-g1-small"},
                  "rationale": "Managed Postgres.", "citations": ["aws-sec-s3-block-public", "gcp-sec-sql-private"]}]
    risks = [{"text": "One server is a single point of failure.", "citations": ["general-sec-firewall-ssh"]}]
    respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json(resources=resources, risks=risks)))
    request = AdviceRequest(use_case="web shop with postgres and product images", provider="gcp",
                            model="groq:llama-3.3-70b-versatile")
    answer = await advisor(settings, db, index).advise(request)
    db_res = next(r for r in answer.resources if r.spec.kind == "database")
    assert db_res.citations == ["gcp-sec-sql-private"]
    assert answer.risks[0].citations == []
    notes = " ".join(answer.notes)
    assert "aws-sec-s3-block-public" in notes and "general-sec-firewall-ssh" in notes
    assert "compute to run the application" in notes and "object storage" in notes
