"""Plan findings: what is wrong with a Terraform plan, decided by code alone (the k8sgpt pattern).

Open ingress from 0.0.0.0/0 (with the port), unencrypted storage, public buckets, public IPs,
missing owner/env/cost-center tags, a design over the budget, and destroy or replace of
stateful resources (databases, buckets, disks). Works on sandbox plans, whose
`null_resource.<kind>__<name>` mirrors carry the spec in their triggers, and on real provider
resource types. `plan_review` explains and ranks these; it can never add, drop or re-grade one.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from cloud_engine.ai.guardrails import DEFAULT_REGIONS
from cloud_engine.ai.schemas import (
    Finding,
)
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.core.policies import ADMIN_PORTS
from cloud_engine.errors import EngineError
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.iac.sandbox import logical_changes

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
STATEFUL_KINDS = frozenset({"database", "bucket", "disk"})
WEB_PORTS = frozenset({80, 443})
REQUIRED_TAGS: tuple[tuple[str, ...], ...] = (("owner",), ("env", "environment"),
                                              ("cost-center", "cost_center", "costcenter"))
TAGGABLE_KINDS = frozenset({"vm", "database", "bucket", "disk", "k8s_cluster", "network"})
OVER_BUDGET_HIGH = 1.25  # a total this many times the budget or more is a high finding
WORLD = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any"})

# Real provider resource types, by the kind of thing they are.
TYPE_KINDS: dict[str, str] = {
    "aws_instance": "vm", "google_compute_instance": "vm", "azurerm_linux_virtual_machine": "vm",
    "azurerm_windows_virtual_machine": "vm",
    "aws_db_instance": "database", "aws_rds_cluster": "database", "aws_dynamodb_table": "database",
    "google_sql_database_instance": "database", "azurerm_postgresql_flexible_server": "database",
    "azurerm_mysql_flexible_server": "database",
    "aws_s3_bucket": "bucket", "google_storage_bucket": "bucket", "azurerm_storage_account": "bucket",
    "azurerm_storage_container": "bucket",
    "aws_ebs_volume": "disk", "google_compute_disk": "disk", "azurerm_managed_disk": "disk",
    "aws_security_group": "firewall", "aws_security_group_rule": "firewall",
    "aws_vpc_security_group_ingress_rule": "firewall", "google_compute_firewall": "firewall",
    "azurerm_network_security_group": "firewall", "azurerm_network_security_rule": "firewall",
    "aws_vpc": "network", "google_compute_network": "network", "azurerm_virtual_network": "network",
    "aws_eks_cluster": "k8s_cluster", "google_container_cluster": "k8s_cluster", "azurerm_kubernetes_cluster": "k8s_cluster",
}

CODE_QUERIES: dict[str, tuple[str, str]] = {
    "OPEN_INGRESS": ("firewall ingress open port 0.0.0.0/0 security group", "security"),
    "OPEN_ADMIN_INGRESS": ("ssh rdp bastion firewall ingress", "security"),
    "UNENCRYPTED": ("encryption at rest storage database disk", "security"),
    "PUBLIC_BUCKET": ("public bucket access block storage", "security"),
    "PUBLIC_IP": ("public ip private network instance", "security"),
    "MISSING_TAGS": ("tags labels cost allocation owner", "cost"),
    "OVER_BUDGET": ("budget rightsizing cost", "cost"),
    "STATEFUL_DESTROY": ("database backup deletion protection destroy", "reliability"),
    "STATEFUL_REPLACE": ("database replace backup deletion protection", "reliability"),
}


def change_kind(change: ResourceChange) -> tuple[str | None, str]:
    """(kind, display name) of a planned change: `<kind>__<name>` for sandbox mirrors, else by type."""
    if change.type == "null_resource" and "__" in change.name:
        kind, _, name = change.name.partition("__")
        return kind, name
    return TYPE_KINDS.get(change.type), change.name


def spec_from_triggers(change: ResourceChange) -> ResourceSpec | None:
    """The ResourceSpec a sandbox `null_resource` mirror carries in its triggers, if readable."""
    triggers = (change.after or change.before or {}).get("triggers")
    if not isinstance(triggers, dict):
        return None
    candidates: list[Any] = [triggers]
    for value in triggers.values():
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                candidates.append(json.loads(value))
            except json.JSONDecodeError:
                continue
    for data in candidates:
        if isinstance(data, dict) and "kind" in data and "name" in data:
            try:
                return ResourceSpec.model_validate(data)
            except ValidationError:
                continue
    return None


def _ports_text(ports: Sequence[int | str]) -> str:
    return ", ".join(str(p) for p in ports) if ports else "all ports"


def _port_range(lo: Any, hi: Any) -> tuple[int, int]:
    try:
        return int(lo), int(hi if hi not in (None, "") else lo)
    except (TypeError, ValueError):
        return 0, 65535


def _range_text(lo: int, hi: int) -> str:
    if (lo, hi) in ((0, 65535), (0, 0), (-1, -1), (1, 65535)):
        return "all ports"
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _ingress_finding(address: str, lo: int, hi: int, source: str, how: str) -> Finding:
    admin = [p for p in ADMIN_PORTS if lo <= p <= hi]
    everything = hi - lo > 1000 or (lo, hi) in ((0, 0), (-1, -1))
    if admin or everything:
        code, severity = ("OPEN_ADMIN_INGRESS" if admin else "OPEN_INGRESS"), "high"
    elif lo in WEB_PORTS and hi == lo:
        code, severity = "OPEN_INGRESS", "low"
    else:
        code, severity = "OPEN_INGRESS", "medium"
    ports = _range_text(lo, hi)
    rec = ("Limit SSH/RDP to a bastion, VPN or IAP range" if admin else
           "Serve only 443 publicly behind a load balancer/WAF" if severity == "low" else
           "Restrict the sources to known ranges or put the service behind a load balancer")
    return Finding(severity=severity, code=code, address=address,
                   evidence=f"{how} allows ingress from {source} on port {ports}", recommendation=rec + ".")


class _Findings:
    """Collects findings, one per (code, address)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Finding] = {}

    def add(self, finding: Finding) -> None:
        key = (finding.code, finding.address)
        old = self.items.get(key)
        if old is None or SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[old.severity]:
            self.items[key] = finding

    def has(self, code: str, address: str) -> bool:
        return (code, address) in self.items


def _spec_findings(out: _Findings, spec: ResourceSpec, address: str) -> None:
    if spec.kind == "firewall":
        for rule in spec.rules or []:
            if not rule.opens_world():
                continue
            ports = rule.ports or ["1-65535"]
            for port in ports:
                lo, _, hi = str(port).partition("-")
                out.add(_ingress_finding(address, int(lo), int(hi or lo), "0.0.0.0/0",
                                         f"firewall {spec.name} ({rule.protocol})"))
    if spec.kind in ("vm", "database", "bucket") and not spec.encrypted:
        out.add(Finding(severity="high", code="UNENCRYPTED", address=address,
                        evidence=f"{spec.kind} {spec.name} has encrypted = false",
                        recommendation="Turn encryption at rest on (provider-managed or customer-managed keys)."))
    if spec.kind == "bucket" and spec.public_access:
        out.add(Finding(severity="high", code="PUBLIC_BUCKET", address=address,
                        evidence=f"bucket {spec.name} has public_access = true",
                        recommendation="Make the bucket private; serve public files through a CDN with origin access."))
    if spec.kind == "vm" and spec.public_ip:
        out.add(Finding(severity="medium", code="PUBLIC_IP", address=address,
                        evidence=f"vm {spec.name} has a public IP",
                        recommendation="Drop the public IP; reach the VM through a load balancer, bastion or IAP."))
    if spec.kind in TAGGABLE_KINDS:
        _tag_finding(out, address, spec.tags)


def _tag_finding(out: _Findings, address: str, tags: Any) -> None:
    keys = {str(k).lower() for k in tags} if isinstance(tags, dict) else set()
    missing = [names[0] for names in REQUIRED_TAGS if not keys & set(names)]
    if missing:
        out.add(Finding(severity="low", code="MISSING_TAGS", address=address,
                        evidence=f"missing tag(s): {', '.join(missing)}",
                        recommendation="Add owner, env and cost-center tags so costs can be allocated and owners "
                                       "found."))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _provider_findings(out: _Findings, change: ResourceChange) -> None:
    """Checks on real provider types' planned attributes."""
    after = change.after or {}
    address, t = change.address, change.type
    if t == "aws_security_group":
        for rule in _as_list(after.get("ingress")):
            if isinstance(rule, dict):
                _aws_rule(out, address, rule)
    elif t == "aws_security_group_rule" and after.get("type") == "ingress":
        _aws_rule(out, address, after)
    elif t == "aws_vpc_security_group_ingress_rule":
        _aws_rule(out, address, {"cidr_blocks": [after.get("cidr_ipv4")], "ipv6_cidr_blocks": [after.get("cidr_ipv6")],
                                 "from_port": after.get("from_port"), "to_port": after.get("to_port")})
    elif t == "google_compute_firewall" and str(after.get("direction") or "INGRESS").upper() == "INGRESS":
        sources = [s for s in _as_list(after.get("source_ranges")) if str(s).lower() in WORLD]
        if sources:
            for allow in _as_list(after.get("allow")):
                ports = _as_list(allow.get("ports")) if isinstance(allow, dict) else []
                for port in ports or ["0-65535"]:
                    lo, _, hi = str(port).partition("-")
                    out.add(_ingress_finding(address, *_port_range(lo, hi), str(sources[0]), f"{t} {change.name}"))
    elif t in ("azurerm_network_security_rule", "azurerm_network_security_group"):
        rules = _as_list(after.get("security_rule")) if t == "azurerm_network_security_group" else [after]
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            if str(rule.get("direction", "")).lower() != "inbound" or str(rule.get("access", "")).lower() != "allow":
                continue
            prefixes = [rule.get("source_address_prefix"), *_as_list(rule.get("source_address_prefixes"))]
            world = [p for p in prefixes if str(p).lower() in WORLD]
            if world:
                ports = [rule.get("destination_port_range"), *_as_list(rule.get("destination_port_ranges"))]
                for port in [p for p in ports if p] or ["*"]:
                    lo, _, hi = str(port).replace("*", "0-65535").partition("-")
                    out.add(_ingress_finding(address, *_port_range(lo, hi), str(world[0]), f"{t} {change.name}"))
    if (t in ("aws_db_instance", "aws_rds_cluster") and after.get("storage_encrypted") is False) or (
            t == "aws_ebs_volume" and after.get("encrypted") is False):
        out.add(Finding(severity="high", code="UNENCRYPTED", address=address,
                        evidence=f"{t} {change.name} is planned without encryption at rest",
                        recommendation="Set storage encryption on; it cannot be added later without a replace."))
    public = (
        (t in ("aws_s3_bucket", "aws_s3_bucket_acl") and str(after.get("acl", "")).startswith("public"))
        or (t == "aws_s3_bucket_public_access_block"
            and any(after.get(k) is False for k in ("block_public_acls", "block_public_policy",
                                                     "ignore_public_acls", "restrict_public_buckets")))
        or (t.startswith("google_storage_bucket_iam") and any(
            m in ("allUsers", "allAuthenticatedUsers")
            for m in [after.get("member"), *_as_list(after.get("members"))]))
        or (t == "azurerm_storage_container" and after.get("container_access_type") not in (None, "private"))
        or (t == "azurerm_storage_account" and after.get("allow_nested_items_to_be_public") is True)
    )
    if public:
        out.add(Finding(severity="high", code="PUBLIC_BUCKET", address=address,
                        evidence=f"{t} {change.name} makes stored objects publicly readable",
                        recommendation="Block public access; share objects with signed URLs or a CDN instead."))
    kind = TYPE_KINDS.get(t)
    if kind in TAGGABLE_KINDS and change.action in ("create", "update"):
        tags = after.get("labels") if t.startswith("google_") else after.get("tags")
        if isinstance(tags, dict) or tags is None:
            _tag_finding(out, address, tags or {})


def _aws_rule(out: _Findings, address: str, rule: dict[str, Any]) -> None:
    sources = [s for s in [*_as_list(rule.get("cidr_blocks")), *_as_list(rule.get("ipv6_cidr_blocks"))]
               if str(s).lower() in WORLD]
    if sources:
        lo, hi = _port_range(rule.get("from_port"), rule.get("to_port"))
        if str(rule.get("protocol", "tcp")) == "-1":
            lo, hi = 0, 65535
        out.add(_ingress_finding(address, lo, hi, str(sources[0]), "security group rule"))


def _stateful_findings(out: _Findings, change: ResourceChange) -> None:
    kind, name = change_kind(change)
    if kind not in STATEFUL_KINDS or change.action not in ("delete", "replace"):
        return
    if change.action == "delete":
        out.add(Finding(severity="high", code="STATEFUL_DESTROY", address=change.address,
                        evidence=f"{kind} {name} will be destroyed, with its data",
                        recommendation="Take a backup or snapshot first and confirm the data is no longer needed; "
                                       "keep deletion protection on for production data."))
    else:
        why = ", ".join(change.replace_paths) or ", ".join(change.changed_attributes) or "a changed attribute"
        out.add(Finding(severity="high", code="STATEFUL_REPLACE", address=change.address,
                        evidence=f"{kind} {name} will be destroyed and re-created because of: {why}",
                        recommendation="Change the attribute in place if the provider allows it, or migrate the data "
                                       "to a new resource before the old one is destroyed."))


def _address_for(spec: ResourceSpec, plan: PlanResult, where: dict[str, str]) -> str:
    """The address users see for `spec`: its block in the provider HCL (shown beside a sandbox
    mirror too), else its planned change, else `kind.name`."""
    for address in where:
        rtype, _, name = address.partition(".")
        if TYPE_KINDS.get(rtype) == spec.kind and (name == spec.name or name.startswith(f"{spec.name}__")):
            return address
    mirror = f"{spec.kind}__{spec.name}"
    for change in plan.changes:
        if change.type == "null_resource" and change.name == mirror:
            return change.address
    for change in plan.changes:
        if TYPE_KINDS.get(change.type) == spec.kind and change.name in (mirror, spec.name, spec.name.replace("-", "_")):
            return change.address
    return f"{spec.kind}.{spec.name}"


def plan_counts(plan: PlanResult) -> str:
    """The plan's counts in the user's terms: a sandbox mirror counts user resources, not null_resources."""
    if plan.changes and all(c.type == "null_resource" for c in plan.changes):
        logical = Counter(c.action for c in logical_changes(plan))
        return (f"{logical['create']} to add, {logical['update']} to change, {logical['replace']} to replace, "
                f"{logical['delete']} to destroy")
    return plan.summary()


def _hcl_lines(hcl: dict[str, str] | None) -> dict[str, str]:
    """`type.name` -> `file:line` of its resource block, for evidence."""
    where: dict[str, str] = {}
    for file, text in (hcl or {}).items():
        for number, line in enumerate(text.splitlines(), start=1):
            m = re.match(r'\s*resource\s+"([^"]+)"\s+"([^"]+)"', line)
            if m:
                where.setdefault(f"{m.group(1)}.{m.group(2)}", f"{file}:{number}")
    return where


def deterministic_findings(plan: PlanResult, specs: Sequence[ResourceSpec], *, provider: str,
                           estimator: CostEstimator | None = None, budget_monthly: float | None = None,
                           hcl: dict[str, str] | None = None) -> tuple[list[Finding], float | None, list[str]]:
    """Every finding the code can prove, the priced monthly total of `specs`, and notes."""
    out = _Findings()
    notes: list[str] = []
    by_key = {s.key: s for s in specs}
    for change in plan.changes:
        if change.action in ("no-op", "read"):
            continue
        _stateful_findings(out, change)
        if change.action == "delete":
            continue
        if change.type == "null_resource":
            spec = spec_from_triggers(change)
            if spec is not None and spec.key not in by_key:
                by_key[spec.key] = spec
        else:
            _provider_findings(out, change)
    all_specs = list(by_key.values())
    where = _hcl_lines(hcl)
    for spec in all_specs:
        _spec_findings(out, spec, _address_for(spec, plan, where))

    total: float | None = None
    if all_specs:
        estimator = estimator or CostEstimator()
        cloud = "gcp" if provider == "sandbox" else provider
        region = DEFAULT_REGIONS.get(cloud, "us-central1")
        lines = []
        for spec in all_specs:
            try:
                lines.append(estimator.estimate(cloud, region, spec, among=all_specs))
            except (EngineError, KeyError) as exc:
                notes.append(f"{spec.kind} {spec.name} could not be priced: {exc}")
        total = round(sum(line.monthly for line in lines), 2)
        if budget_monthly is not None and total > budget_monthly:
            top = sorted(lines, key=lambda line: line.monthly, reverse=True)[:3]
            severity = "high" if total >= budget_monthly * OVER_BUDGET_HIGH else "medium"
            out.add(Finding(
                severity=severity, code="OVER_BUDGET", address="plan",
                evidence=f"the design costs ${total:,.2f}/month against a ${budget_monthly:,.2f} budget; largest: "
                         + ", ".join(f"{line.resource} ${line.monthly:,.2f}" for line in top),
                recommendation="Downsize the largest items, schedule non-production machines off-hours, or raise "
                               "the budget."))
    findings = []
    for f in out.items.values():
        loc = where.get(f.address)
        findings.append(f.model_copy(update={"evidence": f"{f.evidence} ({loc})"}) if loc else f)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.address))
    return findings, total, notes
