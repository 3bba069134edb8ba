"""A plan's scan findings judged: suppressions, what is new since the last apply, and scanner policies.

Why apart from policies.py: the other policy types judge the resources a session asks for,
before any plan; a `scanner` policy judges what Checkov found in the configuration the plan
will apply, so it runs after the plan (planning.py) and its findings decide whether (and by
whom) the plan may be approved: `deny` (the plan cannot be approved), `warn` (shown in the
lobby) or `require_approval` (an approval rule, core/approvals.py).

A scanner policy matches a finding by check id (`checks`: exact ids or globs like
`CKV_AWS_*`) and/or by severity (`min_severity`: at or above LOW, MEDIUM, HIGH, CRITICAL),
on resources its `pattern` matches (a glob on the Terraform address). For one finding the
enabled scanner policy with the lowest priority decides, as for the other types.

Checkov without a Prisma Cloud key gives most findings no severity. A severity rule never
passes such a finding silently: by default (`unrated: match`) it counts as meeting the
threshold and the finding says "no severity given"; `unrated: warn` makes it a warning of
that policy instead. Either way it is named in the lobby.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloud_engine.core.models import Violation
from cloud_engine.core.policies import SEVERITIES, Policy
from cloud_engine.core.suppressions import Suppression, first_covering

__all__ = ["SHOWN_FINDINGS", "SHOWN_SUPPRESSED", "ScanJudgement", "denial", "judge_scan", "severity_rank"]

SHOWN_FINDINGS = 20  # open findings kept in the plan summary (all are stored in scan_findings)
SHOWN_SUPPRESSED = 10
VIOLATIONS_PER_POLICY = 10  # beyond this, one line counts the rest: the lobby stays readable
_RANK = {name: i + 1 for i, name in enumerate(SEVERITIES)}


def severity_rank(severity: object) -> int | None:
    """LOW 1 … CRITICAL 4; None when Checkov gave none (0 for a word it may add later, e.g. INFO)."""
    if severity is None or str(severity).strip() == "":
        return None
    return _RANK.get(str(severity).strip().upper(), 0)


@dataclass
class ScanJudgement:
    """What planning stores: the lobby's summary, the policy findings, and every finding for scan_findings."""

    summary: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _decides(policy: Policy, finding: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether `policy` matches the finding, and the note to add when it matched an unrated finding."""
    p = policy.params
    resource, check = str(finding.get("resource") or ""), str(finding.get("check_id") or "")
    if not fnmatch.fnmatchcase(resource, policy.pattern):
        return False, None
    if p.get("checks") and not any(fnmatch.fnmatchcase(check, glob) for glob in p["checks"]):
        return False, None
    if p.get("min_severity"):
        rank = severity_rank(finding.get("severity"))
        if rank is None:
            return True, f"no severity given by Checkov; counted as {p['min_severity']} or above"
        if rank < _RANK[p["min_severity"]]:
            return False, None
    return True, None


def _violation(policy: Policy, finding: Mapping[str, Any], note: str | None) -> Violation:
    action = policy.action
    if note and policy.params.get("unrated") == "warn":
        action, note = "warn", "no severity given by Checkov; a warning instead of a " + policy.action.replace("_", " ")
    severity = finding.get("severity")
    said = note or (str(severity).upper() if severity else "")
    where = f" ({said})" if said else ""
    name = str(finding.get("name") or "")[:160]
    return Violation(policy=policy.name, type="scanner", action=action, resource=str(finding.get("resource")),
                     priority=policy.priority,
                     message=f"{finding.get('check_id')} on {finding.get('resource')}{where}: {name}".rstrip(": "))


def _capped(found: list[Violation]) -> list[Violation]:
    out: list[Violation] = []
    counts: dict[tuple[str, str], int] = {}
    for v in found:
        key = (v.policy, v.action)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= VIOLATIONS_PER_POLICY:
            out.append(v)
    for (policy, action), n in counts.items():
        if n > VIOLATIONS_PER_POLICY:
            first = next(v for v in found if (v.policy, v.action) == (policy, action))
            out.append(first.model_copy(update={"resource": None, "message": f"… and {n - VIOLATIONS_PER_POLICY} "
                                                                           f"more finding(s) of policy {policy}"}))
    return out


def judge_scan(scan: Mapping[str, Any] | None, policies: Sequence[Policy], suppressions: Sequence[Suppression],
               baseline: Mapping[str, Any] | None) -> ScanJudgement | None:
    """Judge one plan's scan (iac/scan.scan_files); None when there was no scan (SCAN_PLANS off) and no scanner policy.

    `baseline` is the project's last applied plan: {"session": id, "scanned": bool, "keys": {(check, resource)}},
    or None when nothing was applied yet (every finding is then new).
    """
    scanners = sorted((p for p in policies if p.enabled and p.type == "scanner"), key=lambda p: (p.priority, p.id))
    if scan is None:  # SCAN_PLANS is off: only worth saying when a scanner policy expected a scan
        if not scanners:
            return None
        scan = {"scanned": False, "reason": "SCAN_PLANS is off"}
    if not scan.get("scanned"):  # a missing scanner never stops a plan, but the policies say they could not judge
        return ScanJudgement(summary=dict(scan), violations=[Violation(
            policy=p.name, type="scanner", action="warn", resource=None, priority=p.priority,
            message=f"scanner policy {p.name} could not judge this plan: not scanned ({scan.get('reason')})")
            for p in scanners])
    compared = baseline is None or bool(baseline.get("scanned"))
    known: set[tuple[str, str]] = set(baseline.get("keys") or ()) if baseline else set()
    open_findings: list[dict[str, Any]] = []
    suppressed: list[dict[str, Any]] = []
    found: list[Violation] = []
    rows: list[dict[str, Any]] = []
    for raw in scan.get("findings") or []:
        finding = dict(raw)
        key = (str(finding.get("check_id")), str(finding.get("resource")))
        finding["new"] = key not in known if compared else None
        covering = first_covering(suppressions, *key)
        rows.append({**finding, "suppression_id": covering.id if covering else None})
        if covering is not None:
            suppressed.append({**finding, "suppressed": covering.to_json()})
            continue
        open_findings.append(finding)
        for policy in scanners:
            matched, note = _decides(policy, finding)
            if matched:
                found.append(_violation(policy, finding, note))
                break
    summary = {key: scan[key] for key in ("scanned", "version", "passed", "accepted") if key in scan}
    summary.update({
        "failed": len(open_findings), "findings": open_findings[:SHOWN_FINDINGS],
        "suppressed_count": len(suppressed), "suppressed": suppressed[:SHOWN_SUPPRESSED],
        "new": sum(1 for f in open_findings if f["new"]) if compared else None,
        "baseline": None if baseline is None else {"session": baseline.get("session"), "scanned": compared},
    })
    return ScanJudgement(summary=summary, violations=_capped(found), rows=rows)


def denial(violations: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The first scanner finding a policy denies, as (policy, one-line detail), or None: such a plan is not approved."""
    for v in violations:
        if v.get("type") == "scanner" and v.get("action") == "deny" and v.get("resource"):
            return str(v.get("policy")), (f"{v.get('message')}; change the configuration, or ask a CloudAdmin to "
                                          "suppress it with /cloud-policy suppress")
    return None
