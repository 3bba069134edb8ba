"""CloudAIAdvisor end to end with respx-mocked Groq/Gemini: validation, re-ask, fallback, cache, deploy."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
import respx

from cloud_engine.ai.advisor import CloudAIAdvisor
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.providers.retry import RetryPolicy
from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import State
from cloud_engine.core.policies import PolicySpec
from cloud_engine.errors import InvalidInput
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.conftest import ADMIN, GUILD, USER

GROQ_URL = "https://api.groq.com/openai/v1/chat/completions"
GEMINI_URL = r"https://generativelanguage\.googleapis\.com/v1(beta)?/models/gemini-2\.5-flash:generateContent"
GROQ_KEY = "gsk_advisortest0123456789abcdef"
GEMINI_KEY = "AIzaSyADVISORTEST_0123456789abcdefghijk"

ENTRIES = {
    "gcp-sec-sql-private": ("Give Cloud SQL a private IP", "gcp", "security", "[Cloud SQL, VPC]", "[database, private-ip]",
                            "[HIPAA]", "Use private IP for Cloud SQL databases and require TLS."),
    "gcp-cost-rightsize-vms": ("Rightsize Compute Engine VMs", "gcp", "cost", "[Compute Engine]", "[vm, rightsizing]",
                               "[]", "Pick the smallest machine type that fits the web app load."),
    "general-comp-gdpr-residency": ("Keep EU personal data in EU regions", "general", "compliance", "[Storage]",
                                    "[gdpr, residency]", "[GDPR]", "GDPR data residency: store data in EU regions."),
    "aws-sec-s3-block-public": ("Block public access to S3 buckets", "aws", "security", "[S3]", "[bucket, storage]",
                                "[PCI-DSS]", "Turn on S3 Block Public Access for every bucket and account."),
    "general-sec-firewall-ssh": ("Never open SSH to the internet", "general", "security", "[Firewall]",
                                 "[firewall, ssh, ingress]", "[]", "Use a bastion or IAP for SSH; block 0.0.0.0/0."),
}


def write_entries(root: Path) -> Path:
    for entry_id, (title, provider, category, services, tags, frameworks, body) in ENTRIES.items():
        folder = root / provider / category
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{entry_id}.md").write_text(
            f"---\nid: {entry_id}\ntitle: {title}\nprovider: {provider}\ncategory: {category}\nservices: {services}\n"
            f"tags: {tags}\nframeworks: {frameworks}\n---\n{body}\n", "utf-8")
    return root


@pytest.fixture
async def index(db: Database, tmp_path: Path) -> KnowledgeIndex:
    idx = KnowledgeIndex(db)
    await idx.load_dir(write_entries(tmp_path / "kb"))
    return idx


def keyed(settings: Settings, **extra: object) -> Settings:
    from pydantic import SecretStr

    return settings.model_copy(update={"groq_api_key": SecretStr(GROQ_KEY), "gemini_api_key": SecretStr(GEMINI_KEY),
                                       "ai_timeout_s": 2.0, **extra})


def advisor(settings: Settings, db: Database, index: KnowledgeIndex, **kw: object) -> CloudAIAdvisor:
    async def no_sleep(_: float) -> None:
        return None

    return CloudAIAdvisor(keyed(settings), db, index, retry=RetryPolicy(initial_s=0, max_s=0, jitter_s=0, sleep=no_sleep),
                          **kw)


def advice_json(**over: object) -> str:
    data = {
        "summary": "A web app on GCP costing $12 per month with a private database.",
        "cloud_provider": "gcp", "region": "us-central1",
        "reasoning": {"requirements": "A small web app with a database.", "architecture": "One VM and Cloud SQL.",
                      "cost": "Small sizes.", "security": "Private database."},
        "resources": [
            {"spec": {"kind": "vm", "name": "web", "machine_type": "e2-small", "public_ip": True},
             "rationale": "Small VM for the app.", "citations": ["gcp-cost-rightsize-vms"]},
            {"spec": {"kind": "database", "name": "db", "engine": "postgres", "tier": "db-g1-small"},
             "rationale": "Managed Postgres.", "citations": ["gcp-sec-sql-private", "invented-entry"]},
            {"spec": {"kind": "bucket", "name": "uploads", "encrypted": False, "public_access": True},
             "rationale": "User uploads."},
        ],
        "risks": [{"text": "Single VM.", "citations": ["does-not-exist"]}],
        "citations": ["gcp-cost-rightsize-vms"],
    }
    data.update(over)
    return json.dumps(data)


def groq_reply(content: str) -> httpx.Response:
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 1, "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}})


def gemini_reply(text: str) -> httpx.Response:
    return httpx.Response(200, json={"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}}],
                                     "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 9}})


REQUEST = AdviceRequest(use_case="web app with a postgres database for a small shop", provider="gcp", budget="low",
                        model="groq:llama-3.3-70b-versatile")


@respx.mock
async def test_valid_model_answer_is_guarded_priced_and_sourced(settings: Settings, db: Database,
                                                                 index: KnowledgeIndex) -> None:
    route = respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json()))
    adv = advisor(settings, db, index)
    answer = await adv.advise(REQUEST)
    assert answer.written_by == "groq:llama-3.3-70b-versatile" and not answer.cached
    prompt = json.loads(route.calls.last.request.content)["messages"][1]["content"]
    assert "<user_request>" in prompt and '<knowledge id="gcp-' in prompt
    specs = {r.spec.name: r for r in answer.resources}
    # guardrails corrected what the model got wrong
    assert specs["uploads"].spec.encrypted and not specs["uploads"].spec.public_access
    assert {g.name for g in answer.guardrails if g.corrected} >= {"encryption-at-rest", "no-public-buckets"}
    # prices come from the estimator, never from the model's "$12 per month"
    est = CostEstimator()
    for r in answer.resources:
        assert r.monthly_cost == est.estimate("gcp", "us-central1", r.spec).monthly
    assert "$12" not in answer.summary
    # invented citations are dropped and the claim shown as unsourced
    assert "invented-entry" not in answer.citations and "does-not-exist" not in answer.citations
    assert specs["db"].citations == ["gcp-sec-sql-private"]
    assert not answer.risks[0].sourced
    assert any("invented-entry" in n for n in answer.notes)
    assert [s.step for s in answer.reasoning] == ["requirements", "architecture", "cost", "security"]
    await adv.aclose()


@respx.mock
async def test_invalid_json_is_reasked_with_the_validation_error(settings: Settings, db: Database,
                                                                  index: KnowledgeIndex) -> None:
    bad = advice_json(resources=[{"spec": {"kind": "vm", "name": "Web_1", "machine_type": "e2-small"},
                                  "rationale": "x"}])
    route = respx.post(GROQ_URL).mock(side_effect=[groq_reply(bad), groq_reply(advice_json())])
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert route.call_count == 2
    second = json.loads(route.calls[1].request.content)["messages"][1]["content"]
    assert "<validation_errors>" in second and "resources.0.spec.name" in second
    assert answer.provider == "groq"
    assert any("asked once more" in n for n in answer.notes)


@respx.mock
async def test_invalid_twice_falls_back_to_rules(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    route = respx.post(GROQ_URL).mock(return_value=groq_reply("not json at all"))
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert route.call_count == 2
    assert answer.written_by == "rules engine"
    assert any("invalid" in n and "rules engine" in n for n in answer.notes)
    assert answer.resources and answer.total_monthly_cost <= answer.budget_ceiling


@pytest.mark.parametrize("reply", ["[" * 5000 + "]" * 5000,
                                   advice_json().replace('"cloud_provider"', '"n": ' + "9" * 5000 + ', "cloud_provider"')],
                         ids=["deeply-nested", "huge-integer"])
@respx.mock
async def test_replies_the_json_decoder_chokes_on_fall_back_to_rules(settings: Settings, db: Database,
                                                                     index: KnowledgeIndex, reply: str) -> None:
    route = respx.post(GROQ_URL).mock(return_value=groq_reply(reply))
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert route.call_count == 2
    assert answer.written_by == "rules engine" and answer.resources
    assert any("invalid" in n and "rules engine" in n for n in answer.notes)


@respx.mock
async def test_model_prices_in_any_currency_form_are_not_shown(settings: Settings, db: Database,
                                                               index: KnowledgeIndex) -> None:
    summary = "A small web app for about 9 USD per month (roughly €8/month, 12 dollars at most; was $12)."
    reasoning = {"requirements": "A shop.", "architecture": "One VM and Cloud SQL.",
                 "cost": "About twelve dollars a month.", "security": "Private database, under GBP 10."}
    respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json(summary=summary, reasoning=reasoning)))
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert answer.provider == "groq"
    shown = " ".join([answer.summary, *(step.text for step in answer.reasoning)])
    for price in ("9 USD", "€8", "12 dollars", "$12", "twelve dollars", "GBP 10"):
        assert price not in shown, price
    assert f"${answer.total_monthly_cost:,.2f}/month" in shown  # the engine's own figure stays


@respx.mock
async def test_wrong_catalogue_values_are_fed_back(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    bad = advice_json(resources=[{"spec": {"kind": "vm", "name": "web", "machine_type": "t3.small"},
                                  "rationale": "x"}])
    route = respx.post(GROQ_URL).mock(side_effect=[groq_reply(bad), groq_reply(bad)])
    answer = await advisor(settings, db, index).advise(REQUEST)
    second = json.loads(route.calls[1].request.content)["messages"][1]["content"]
    assert "'t3.small' is not a gcp machine type" in second
    assert answer.provider == "rules"


@respx.mock
async def test_timeout_falls_back_to_rules(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    respx.post(GROQ_URL).mock(side_effect=httpx.ReadTimeout("too slow"))
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert answer.provider == "rules" and any("timeout" in n for n in answer.notes)


@respx.mock
async def test_429_then_success_is_retried(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    route = respx.post(GROQ_URL).mock(side_effect=[httpx.Response(429, headers={"retry-after": "0"}, json={}),
                                                   groq_reply(advice_json())])
    answer = await advisor(settings, db, index).advise(REQUEST)
    assert route.call_count == 2 and answer.provider == "groq"


@respx.mock
async def test_cache_hit_makes_no_request(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    route = respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json()))
    adv = advisor(settings, db, index)
    first = await adv.advise(REQUEST)
    again = await adv.advise(AdviceRequest(**{**REQUEST.model_dump(),
                                              "use_case": "  Web app with a  Postgres database for a small shop"}))
    assert route.call_count == 1
    assert not first.cached and again.cached
    assert [r.spec for r in again.resources] == [r.spec for r in first.resources]


@respx.mock
async def test_gemini_answers_and_keys_stay_secret(settings: Settings, db: Database, index: KnowledgeIndex,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    respx.post(url__regex=GEMINI_URL).mock(return_value=gemini_reply(advice_json()))
    answer = await advisor(settings, db, index).advise(REQUEST.model_copy(update={"model": "gemini:gemini-2.5-flash"}))
    assert answer.written_by.startswith("gemini:")
    dumped = answer.model_dump_json()
    for key in (GROQ_KEY, GEMINI_KEY):
        assert key not in caplog.text and key not in dumped
    assert "model call" in caplog.text  # tokens and latency are logged


@respx.mock
async def test_compare_falls_back_per_provider(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    respx.post(GROQ_URL).mock(return_value=groq_reply(advice_json()))
    respx.post(url__regex=GEMINI_URL).mock(return_value=httpx.Response(500, json={"error": {"code": 500}}))
    groq_answer, gemini_answer = await advisor(settings, db, index).compare(REQUEST)
    assert groq_answer.provider == "groq"
    assert gemini_answer.provider == "rules" and any("gemini:gemini-2.5-flash" in n for n in gemini_answer.notes)


async def test_no_key_means_rules_engine_with_a_note(settings: Settings, db: Database, index: KnowledgeIndex) -> None:
    answer = await CloudAIAdvisor(settings, db, index).advise(REQUEST.model_copy(update={"model": "auto"}))
    assert answer.written_by == "rules engine"
    assert any("GROQ_API_KEY" in n for n in answer.notes)


async def test_guild_policy_and_quota_shape_the_answer(settings: Settings, db: Database, index: KnowledgeIndex,
                                                       engine) -> None:
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="eu-only", type="region", params={"allowed": ["europe-west1"]}))
    await engine.set_quota(GUILD, ADMIN, "database.instances", 0)
    adv = CloudAIAdvisor(settings, db, index, engine=engine)
    answer = await adv.advise(AdviceRequest(use_case="web app with postgres", provider="gcp", model="rules"),
                              guild_id=GUILD)
    assert {r.spec.region for r in answer.resources} == {"europe-west1"}
    assert not any(r.spec.kind == "database" for r in answer.resources)
    assert any(r.kind == "database" for r in answer.rejected)
    assert any(g.name == "quotas" and not g.passed for g in answer.guardrails)


async def test_deploy_this_goes_through_the_engine(settings: Settings, db: Database, index: KnowledgeIndex,
                                                   engine) -> None:
    project = await engine.create_project(GUILD, USER, name="shop", provider="sandbox", region="us-central1")
    adv = CloudAIAdvisor(settings, db, index)
    answer = await adv.advise(AdviceRequest(use_case="web app with postgres", provider="gcp", budget="low",
                                            model="rules"))
    session = await adv.deploy_answer(answer, engine, project.id, USER)
    assert session.state == State.DRAFT
    assert {(r.kind, r.name) for r in session.resources} == {(r.spec.kind, r.spec.name) for r in answer.resources}


def test_request_validation() -> None:
    with pytest.raises(InvalidInput, match=r"use case: must be 3 to 1000 characters \(got 1001\)"):
        AdviceRequest(use_case="x" * 1001)
    with pytest.raises(InvalidInput, match="unknown model 'openai:gpt'; choose auto, rules, groq:<model> or gemini"):
        AdviceRequest(use_case="web app", model="openai:gpt")
    assert AdviceRequest(use_case="  web \n app  ", compliance="hipaa").use_case == "web app"
    assert AdviceRequest(use_case="web app", compliance="pci-dss").compliance == "PCI-DSS"
