"""Plan review findings on crafted plans (sandbox mirrors and real provider types) and their ranking."""

from __future__ import annotations

import json

from cloud_engine.ai.plan_review import PlanReviewer, deterministic_findings
from cloud_engine.ai.providers.base import ProviderReply
from cloud_engine.core.models import FirewallRule, ResourceSpec
from cloud_engine.iac.plan import PlanResult, ResourceChange


def change(address: str, action: str = "create", after: dict | None = None, **kw: object) -> ResourceChange:
    type_, _, name = address.partition(".")
    actions = {"replace": ["delete", "create"]}.get(action, [action])
    return ResourceChange(address=address, type=type_, name=name, action=action, actions=actions, after=after, **kw)


def codes(findings) -> set[tuple[str, str]]:
    return {(f.code, f.address) for f in findings}


def test_sandbox_mirrors_with_specs() -> None:
    specs = [ResourceSpec(kind="firewall", name="web", rules=[FirewallRule(ports=[22], sources=["0.0.0.0/0"])]),
             ResourceSpec(kind="bucket", name="files", public_access=True, encrypted=False,
                          tags={"owner": "ana", "env": "prod", "cost-center": "42"})]
    plan = PlanResult(changes=[
        change("null_resource.firewall__web"), change("null_resource.bucket__files"),
        change("null_resource.database__orders", "replace", replace_paths=["triggers"],
               before={"triggers": {}}, after={"triggers": {}}),
        change("null_resource.bucket__old", "delete"),
    ])
    findings, total, _ = deterministic_findings(plan, specs, provider="sandbox")
    got = codes(findings)
    assert ("OPEN_ADMIN_INGRESS", "null_resource.firewall__web") in got
    assert ("PUBLIC_BUCKET", "null_resource.bucket__files") in got
    assert ("UNENCRYPTED", "null_resource.bucket__files") in got
    assert ("STATEFUL_REPLACE", "null_resource.database__orders") in got
    assert ("STATEFUL_DESTROY", "null_resource.bucket__old") in got
    assert not any(c == "MISSING_TAGS" and a.endswith("files") for c, a in got)
    ssh = next(f for f in findings if f.code == "OPEN_ADMIN_INGRESS")
    assert ssh.severity == "high" and "port 22" in ssh.evidence
    assert "triggers" in next(f for f in findings if f.code == "STATEFUL_REPLACE").evidence
    assert [f.severity for f in findings] == sorted((f.severity for f in findings), key=lambda s: "hml".index(s[0]))
    assert total is not None


def test_spec_read_from_null_resource_triggers() -> None:
    spec = {"kind": "vm", "name": "web-1", "machine_type": "e2-small", "public_ip": True}
    plan = PlanResult(changes=[change("null_resource.vm__web-1", after={"triggers": {"spec": json.dumps(spec)}})])
    findings, total, _ = deterministic_findings(plan, [], provider="sandbox", budget_monthly=1.0)
    got = codes(findings)
    assert ("PUBLIC_IP", "null_resource.vm__web-1") in got
    assert ("MISSING_TAGS", "null_resource.vm__web-1") in got
    assert any(c == "OVER_BUDGET" for c, _ in got) and total and total > 1.0


def test_real_provider_types() -> None:
    plan = PlanResult(changes=[
        change("aws_security_group.web", after={"ingress": [
            {"cidr_blocks": ["0.0.0.0/0"], "from_port": 443, "to_port": 443, "protocol": "tcp"},
            {"cidr_blocks": ["0.0.0.0/0"], "from_port": 3389, "to_port": 3389, "protocol": "tcp"}]}),
        change("google_compute_firewall.db", after={"source_ranges": ["0.0.0.0/0"],
                                                    "allow": [{"protocol": "tcp", "ports": ["5432"]}]}),
        change("google_storage_bucket.logs", after={"labels": {"env": "prod"}}),
        change("google_storage_bucket_iam_member.pub", after={"member": "allUsers"}),
        change("aws_db_instance.main", "update", after={"storage_encrypted": False,
                                                        "tags": {"owner": "a", "env": "b", "cost-center": "c"}}),
        change("aws_s3_bucket.data", "delete"),
    ])
    findings, _, _ = deterministic_findings(plan, [], provider="aws")
    by = {(f.code, f.address): f for f in findings}
    assert by[("OPEN_ADMIN_INGRESS", "aws_security_group.web")].severity == "high"
    assert by[("OPEN_INGRESS", "google_compute_firewall.db")].severity == "medium"
    assert "owner" in by[("MISSING_TAGS", "google_storage_bucket.logs")].evidence
    assert ("PUBLIC_BUCKET", "google_storage_bucket_iam_member.pub") in by
    assert ("UNENCRYPTED", "aws_db_instance.main") in by
    assert ("STATEFUL_DESTROY", "aws_s3_bucket.data") in by


def test_hcl_location_is_added_to_evidence() -> None:
    plan = PlanResult(changes=[change("aws_ebs_volume.data", after={"encrypted": False})])
    hcl = {"main.tf": 'terraform {}\n\nresource "aws_ebs_volume" "data" {\n  encrypted = false\n}\n'}
    findings, _, _ = deterministic_findings(plan, [], provider="aws", hcl=hcl)
    assert "main.tf:3" in next(f for f in findings if f.code == "UNENCRYPTED").evidence


class ScriptedProvider:
    """A ModelProvider that replays fixed replies (no network) and records the prompts."""

    name = "groq"
    model = "llama-3.3-70b-versatile"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    async def complete_json(self, system: str, user: str, *, schema: dict) -> ProviderReply:
        self.prompts.append(user)
        return ProviderReply(self.replies.pop(0), self.model, self.name, 1, 1, 1.0)

    async def aclose(self) -> None:
        return None


PLAN = PlanResult(changes=[
    change("aws_security_group.web", after={"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 22,
                                                         "to_port": 22}], "tags": {}}),
    change("aws_s3_bucket.logs", after={"tags": {}}),
])


async def test_rules_ranking_by_severity() -> None:
    review = await PlanReviewer(None).review(PLAN, [], provider="aws")
    assert review.written_by == "rules engine"
    assert [(f.severity, f.code) for f in review.findings] == [("high", "OPEN_ADMIN_INGRESS"), ("low", "MISSING_TAGS")]
    assert [f.rank for f in review.findings] == [1, 2]


async def test_model_ranks_and_explains_but_cannot_invent_findings() -> None:
    refs_prompt = ScriptedProvider(
        json.dumps({"summary": "x", "ranked": [{"ref": "MADE_UP@nowhere", "explanation": "y"}]}),
        json.dumps({"summary": "Fix SSH first; it costs $500/month to clean up.",
                    "ranked": [{"ref": "MISSING_TAGS@aws_s3_bucket.logs", "explanation": "Tag it."}]}))
    review = await PlanReviewer(None).review(PLAN, [], provider="aws", model_provider=refs_prompt)
    assert "MADE_UP@nowhere" in refs_prompt.prompts[1]  # the validation error went back
    assert review.provider == "groq"
    # the model's order is kept, and the finding it left out is still shown (after it)
    assert [f.ref for f in review.findings] == ["MISSING_TAGS@aws_s3_bucket.logs",
                                                "OPEN_ADMIN_INGRESS@aws_security_group.web"]
    assert review.findings[0].explanation == "Tag it."
    assert "$500" not in review.summary
