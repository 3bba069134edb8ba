"""Scanner policies judge a plan's findings: by check id or glob, by severity (never passing an unrated one silently),
with suppressions that apply until they expire, and findings new since the last apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from cloud_engine.core.policies import Policy, PolicySpec
from cloud_engine.core.scanner_policy import denial, judge_scan
from cloud_engine.core.suppressions import Suppression, check_glob, resource_glob
from cloud_engine.errors import InvalidInput

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def finding(check: str, resource: str, severity: str | None = None) -> dict[str, Any]:
    return {"check_id": check, "name": f"Ensure {check} holds", "severity": severity, "resource": resource,
            "file": "main.tf", "line": 3, "guideline": None}


def scan(*findings: dict[str, Any]) -> dict[str, Any]:
    return {"scanned": True, "version": "3.2", "passed": 9, "accepted": 2, "failed": len(findings),
            "findings": list(findings)}


def policy(name: str, action: str = "deny", *, priority: int = 100, pattern: str = "*", pid: int = 1,
           **params: Any) -> Policy:
    return Policy(id=pid, name=name, type="scanner", action=action, pattern=pattern, priority=priority, params=params)


def test_a_check_glob_denies_its_findings_and_names_check_and_resource() -> None:
    judged = judge_scan(scan(finding("CKV_AWS_8", "aws_instance.web"), finding("CKV_GCP_1", "google_x.y")),
                        [policy("aws-checks", checks=["CKV_AWS_*"])], [], None)
    assert judged is not None
    assert [(v.action, v.resource) for v in judged.violations] == [("deny", "aws_instance.web")]
    assert "CKV_AWS_8 on aws_instance.web" in judged.violations[0].message
    refused = denial([v.model_dump() for v in judged.violations])
    assert refused is not None and refused[0] == "aws-checks"
    assert "CKV_AWS_8 on aws_instance.web" in refused[1] and "/cloud-policy suppress" in refused[1]
    assert "\n" not in refused[1]


def test_a_severity_rule_takes_findings_at_or_above_it() -> None:
    judged = judge_scan(scan(finding("CKV_1", "a.high", "HIGH"), finding("CKV_2", "a.crit", "CRITICAL"),
                             finding("CKV_3", "a.low", "LOW")),
                        [policy("high", "require_approval", min_severity="HIGH")], [], None)
    assert judged is not None
    assert sorted(v.resource or "" for v in judged.violations) == ["a.crit", "a.high"]
    assert all(v.action == "require_approval" for v in judged.violations)


def test_a_finding_without_severity_meets_a_severity_rule_and_says_so() -> None:
    judged = judge_scan(scan(finding("CKV_AWS_8", "aws_instance.web")), [policy("high", min_severity="HIGH")], [], None)
    assert judged is not None
    [found] = judged.violations
    assert found.action == "deny" and "no severity given by Checkov; counted as HIGH or above" in found.message


def test_unrated_warn_turns_an_unrated_finding_into_a_named_warning() -> None:
    judged = judge_scan(scan(finding("CKV_AWS_8", "aws_instance.web"), finding("CKV_AWS_9", "aws_instance.db", "HIGH")),
                        [policy("high", min_severity="HIGH", unrated="warn")], [], None)
    assert judged is not None
    assert {(v.resource, v.action) for v in judged.violations} == {("aws_instance.web", "warn"),
                                                                   ("aws_instance.db", "deny")}
    warned = next(v for v in judged.violations if v.action == "warn")
    assert "no severity given by Checkov" in warned.message and warned.policy == "high"


def test_the_lowest_priority_scanner_policy_decides_for_a_finding() -> None:
    rules = [policy("deny-all", checks=["CKV_*"], pid=1),
             policy("dev-warn", "warn", priority=10, pattern="aws_instance.dev-*", pid=2, checks=["CKV_AWS_8"])]
    judged = judge_scan(scan(finding("CKV_AWS_8", "aws_instance.dev-1"), finding("CKV_AWS_8", "aws_instance.prod")),
                        rules, [], None)
    assert judged is not None
    assert {(v.resource, v.policy, v.action) for v in judged.violations} == {
        ("aws_instance.dev-1", "dev-warn", "warn"), ("aws_instance.prod", "deny-all", "deny")}


def _suppression(expires: datetime | None = None, check: str = "CKV_AWS_8", glob: str = "aws_instance.web*") -> Suppression:
    return Suppression(id=7, check_id=check, resource_glob=glob, reason="test disks hold no data", created_by=100,
                       created_at=NOW, expires_at=expires)


def test_a_suppressed_finding_is_shown_with_its_reason_and_not_counted() -> None:
    judged = judge_scan(scan(finding("CKV_AWS_8", "aws_instance.web-1"), finding("CKV_AWS_8", "aws_instance.db")),
                        [policy("deny", checks=["CKV_AWS_8"])], [_suppression(NOW + timedelta(days=1))], None)
    assert judged is not None
    assert [v.resource for v in judged.violations] == ["aws_instance.db"]
    assert judged.summary["failed"] == 1 and judged.summary["suppressed_count"] == 1
    [shown] = judged.summary["suppressed"]
    assert shown["resource"] == "aws_instance.web-1"
    assert shown["suppressed"] == {"id": 7, "reason": "test disks hold no data", "by": 100,
                                   "until": (NOW + timedelta(days=1)).isoformat()}
    assert [r["suppression_id"] for r in judged.rows] == [7, None]  # every finding is stored, with what applied


def test_an_expired_suppression_no_longer_covers() -> None:
    expired = _suppression(NOW - timedelta(minutes=1))
    assert not expired.active(NOW) and _suppression(None).active(NOW)


def test_findings_are_new_unless_the_last_applied_plan_had_them() -> None:
    findings = scan(finding("CKV_AWS_8", "aws_instance.web"), finding("CKV_AWS_21", "aws_s3_bucket.assets"))
    first = judge_scan(findings, [], [], None)
    assert first is not None and first.summary["new"] == 2 and first.summary["baseline"] is None
    later = judge_scan(findings, [], [], {"session": 4, "scanned": True, "keys": {("CKV_AWS_8", "aws_instance.web")}})
    assert later is not None and later.summary["new"] == 1
    assert [f["new"] for f in later.summary["findings"]] == [False, True]
    unknown = judge_scan(findings, [], [], {"session": 4, "scanned": False, "keys": set()})
    assert unknown is not None and unknown.summary["new"] is None  # "not compared", never "all new"
    assert unknown.summary["baseline"] == {"session": 4, "scanned": False}


def test_an_unscanned_plan_is_judged_as_not_scanned_and_no_scan_is_none() -> None:
    judged = judge_scan({"scanned": False, "reason": "checkov is not installed"}, [policy("p", checks=["CKV_*"])],
                        [], None)
    assert judged is not None and judged.summary["reason"] == "checkov is not installed"
    [said] = judged.violations  # never a silent pass: the policy says it could not judge, and the plan goes on
    assert (said.action, said.message) == ("warn", "scanner policy p could not judge this plan: not scanned "
                                                   "(checkov is not installed)")
    assert judge_scan(None, [], [], None) is None
    off = judge_scan(None, [policy("p", checks=["CKV_*"])], [], None)
    assert off is not None and off.summary == {"scanned": False, "reason": "SCAN_PLANS is off"}
    assert [v.message for v in off.violations] == ["scanner policy p could not judge this plan: not scanned "
                                                   "(SCAN_PLANS is off)"]


def test_many_findings_of_one_policy_are_capped_with_a_count() -> None:
    many = scan(*(finding("CKV_AWS_8", f"aws_instance.vm-{i}") for i in range(30)))
    judged = judge_scan(many, [policy("p", checks=["CKV_AWS_8"])], [], None)
    assert judged is not None and len(judged.violations) == 11
    assert judged.violations[-1].message == "… and 20 more finding(s) of policy p" and len(judged.rows) == 30
    assert len(judged.summary["findings"]) == 20 and judged.summary["failed"] == 30


@pytest.mark.parametrize(("params", "said"), [
    ({}, "needs params.checks"),
    ({"checks": ["ckv aws 8"]}, "is not a check id"),
    ({"checks": []}, "a list of 1 to 20"),
    ({"min_severity": "SEVERE"}, "params.min_severity must be one of LOW, MEDIUM, HIGH, CRITICAL"),
    ({"checks": ["CKV_AWS_8"], "unrated": "warn"}, "only applies with params.min_severity"),
    ({"min_severity": "HIGH", "unrated": "ignore"}, "params.unrated must be one of match, warn"),
])
def test_a_bad_scanner_policy_is_refused_with_one_line(params: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PolicySpec(name="scan", type="scanner", params=params)
    assert said in str(caught.value)


def test_scanner_params_are_normalised() -> None:
    spec = PolicySpec(name="scan", type="scanner", params={"checks": [" ckv_aws_* "], "min_severity": "high"})
    assert spec.params == {"checks": ["CKV_AWS_*"], "min_severity": "HIGH"}


@pytest.mark.parametrize(("check", "ok"), [("CKV_AWS_144", True), ("ckv2_aws_*", True), ("CKV AWS", False),
                                           ("`CKV`", False), ("", False)])
def test_suppression_check_ids_are_validated(check: str, ok: bool) -> None:
    if ok:
        assert check_glob(check) == check.upper()
    else:
        with pytest.raises(InvalidInput, match="Invalid check: a Checkov check id"):
            check_glob(check)


def test_suppression_resource_globs_are_validated() -> None:
    assert resource_glob(" aws_s3_bucket.logs* ") == "aws_s3_bucket.logs*"
    with pytest.raises(InvalidInput, match="Invalid resource: a glob on Terraform addresses"):
        resource_glob("aws_s3_bucket.logs`; rm")
