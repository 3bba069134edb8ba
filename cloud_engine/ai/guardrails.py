"""Guardrails enforced in code on every advised design, whoever wrote it.

Why in code and not only in the prompt: a model can ignore instructions, and the rules engine
can be wrong too. Every draft (model or rules) passes through `enforce`, which corrects what
it safely can (turn encryption on, make a bucket private, drop a public IP, move a resource
to an EU region, downsize to fit the budget) and rejects what it cannot, recording one
`GuardrailCheck` per control so the answer shows exactly what was changed.

Budget ceilings per budget level (USD per month, catalogue list prices):
    low ≤ 100, medium ≤ 1000, high ≤ 10000.
Security levels add controls cumulatively:
    standard   - encryption at rest, no public buckets, no SSH/RDP from 0.0.0.0/0;
    enhanced   - + private networking (no public IPs, private k8s nodes), backups ≥ 7 days,
                 deletion protection on databases;
    compliance - + highly available databases, bucket versioning, audit logging (advisory).
Compliance frameworks add their own:
    HIPAA   - encryption at rest and in transit, audit logs, BAA (advisory), backups ≥ 7 days;
    GDPR    - every resource in an EU region, encryption at rest;
    PCI-DSS - network segmentation (a network and firewall, world ingress only on 443),
              encryption, no public IPs on VMs, private k8s nodes;
    SOX     - audit logging and change approval (advisory), deletion protection, backups ≥ 7 days.
Complexity: a low budget gets no Kubernetes cluster (its control plane alone is most of the
budget); the cluster becomes one small VM running the containers.
With a guild, its quotas and policies apply too (permission policies are checked when the
design is deployed, not here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cloud_engine.ai.schemas import GuardrailCheck, RejectedResource
from cloud_engine.core import catalog_checks
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import CostLine, FirewallRule, ResourceSpec, Role
from cloud_engine.core.policies import ADMIN_PORTS, Policy, PolicyContext, evaluate
from cloud_engine.data.catalog import Catalog, MachineType, ProviderCatalog
from cloud_engine.errors import InvalidInput

BUDGET_CEILINGS: dict[str, float] = {"low": 100.0, "medium": 1000.0, "high": 10000.0}
SIZE_FOR_BUDGET: dict[str, str] = {"low": "small", "medium": "medium", "high": "large"}
# Minimum memory (GB) that makes a type "small/medium/large" enough for an app server or database.
VM_MEMORY_GB: dict[str, float] = {"small": 2, "medium": 8, "large": 16}
DB_MEMORY_GB: dict[str, float] = {"small": 1.5, "medium": 7, "large": 15}
DEFAULT_REGIONS: dict[str, str] = {"gcp": "us-central1", "aws": "us-east-1", "azure": "eastus"}
# EU member-state regions only (the UK and Switzerland are adequacy countries, not the EU).
EU_REGIONS: dict[str, tuple[str, ...]] = {
    "gcp": ("europe-west1", "europe-west4", "europe-north1"),
    "aws": ("eu-west-1", "eu-central-1", "eu-north-1"),
    "azure": ("westeurope", "northeurope", "swedencentral"),
}
PRIVATE_SOURCE = "10.0.0.0/8"
HTTPS_PORT = 443
MIN_BACKUP_DAYS = 7
MAX_DOWNSIZE_STEPS = 200
# A model writes prices in many ways; each form below is one amount and is replaced whole.
# A bare number ("4 vCPUs", "16 GB", "99.9%", "2026-11-15") is never a price: only a number
# next to a currency symbol, an ISO code or a currency word is.
_AMOUNT = r"\d+(?:[,.]\d{3})*(?:[.,]\d+)?(?:\s?(?:[kKM]\b|bn\b|(?i:thousand|million|billion)\b))?"
_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)")
_WORD_NUMBER = rf"(?i:(?:a\s+(?=hundred|thousand|million))?{_NUMBER_WORD}(?:[\s-]+(?:and\s+)?{_NUMBER_WORD})*)"
_SYMBOL = r"(?:(?:US|A|AU|C|CA|NZ|HK|S)?\$|€|£|¥|₹|₩)"
# Upper case only: "try 3 times" or "sar" in prose are not amounts.
_ISO = (r"(?:USD|EUR|GBP|JPY|CNY|RMB|CAD|AUD|NZD|CHF|SEK|NOK|DKK|PLN|CZK|HUF|INR|SGD|HKD|KRW|BRL|MXN|ZAR|"
        r"ILS|AED|SAR)")
_WORDS = (r"(?:(?:US|U\.S\.)\s)?(?i:dollars?|bucks|euros?|pounds?(?:\s+sterling)?|yen|yuan|rupees?|francs?|"
          r"kronor|kroner|cents?|pence)")
_PER = r"(?:\s?(?i:/|per|an?|each)\s?(?i:month|mo|hour|hr|h|year|yr|day|GB|TB|GiB|TiB|vCPU|request|query)\b)?"
_PRICE_RE = re.compile(
    rf"(?:[-+]?{_SYMBOL}\s?{_AMOUNT}"  # $12, US$3, €8, £1,200.50, ¥900
    rf"|(?<![\w.,]){_AMOUNT}\s?(?:{_SYMBOL}(?!\w)|{_ISO}\b|{_WORDS}\b)"  # 12 €, 9 USD, 9USD, 12 dollars
    rf"|\b{_ISO}\s?{_AMOUNT}"  # USD 9, EUR 12.50, CHF 40
    rf"|\b{_WORD_NUMBER}\s+{_WORDS}\b)"  # twelve dollars, a hundred euros
    rf"{_PER}")
PRICE_PLACEHOLDER = "(see the engine's estimate)"


def strip_prices(text: str) -> str:
    """Replace currency amounts in model prose: only the engine's catalogue prices are shown."""
    return _PRICE_RE.sub(PRICE_PLACEHOLDER, text)


@dataclass(frozen=True)
class Controls:
    """The controls one security level plus one compliance framework require."""

    encryption_at_rest: bool = True
    no_public_buckets: bool = True
    no_world_admin: bool = True
    private_networking: bool = False
    min_backup_days: int = 0
    deletion_protection: bool = False
    ha_databases: bool = False
    versioning: bool = False
    eu_only: bool = False
    segmentation: bool = False
    advisories: tuple[tuple[str, str], ...] = ()


_AUDIT = ("audit-logging", "Turn on audit logs for the whole account/project (Cloud Audit Logs, CloudTrail or the "
          "Azure Activity Log) and keep them at least one year; the resource specs cannot express this.")
_TLS = ("encryption-in-transit", "Serve every endpoint over TLS 1.2+ only and use TLS to the database; "
        "redirect or refuse plain HTTP at the load balancer.")
_BAA = ("baa", "Sign the provider's Business Associate Agreement (BAA) before any PHI is stored, and use only "
        "HIPAA-eligible services.")
_CHANGE = ("change-approval", "Deploy only through approved sessions with an approver other than the requester, "
           "and keep the audit trail.")
_GDPR = ("data-processing", "Record the processing of personal data and the provider's data processing terms; "
         "keep backups and logs in the EU as well.")
_PCI = ("cardholder-scope", "Keep cardholder data inside the segmented network only and scan it for "
        "vulnerabilities every quarter.")


def required_controls(security: str, compliance: str) -> Controls:
    """The union of the controls a security level and a compliance framework demand."""
    c: dict[str, Any] = {}
    advisories: list[tuple[str, str]] = []
    if security in ("enhanced", "compliance"):
        c.update(private_networking=True, min_backup_days=MIN_BACKUP_DAYS, deletion_protection=True)
    if security == "compliance":
        c.update(ha_databases=True, versioning=True)
        advisories.append(_AUDIT)
    if compliance == "HIPAA":
        c.update(min_backup_days=MIN_BACKUP_DAYS)
        advisories += [_TLS, _AUDIT, _BAA]
    elif compliance == "GDPR":
        c.update(eu_only=True)
        advisories.append(_GDPR)
    elif compliance == "PCI-DSS":
        c.update(segmentation=True, private_networking=True)
        advisories += [_TLS, _PCI]
    elif compliance == "SOX":
        c.update(deletion_protection=True, min_backup_days=MIN_BACKUP_DAYS)
        advisories += [_AUDIT, _CHANGE]
    unique = tuple(dict.fromkeys(advisories))
    return Controls(**c, advisories=unique)


def machine_type_for(cat: ProviderCatalog, size: str) -> str:
    """The cheapest machine type with enough memory for an app server of this size."""
    return _cheapest(cat.machine_types, VM_MEMORY_GB[size])


def db_tier_for(cat: ProviderCatalog, size: str) -> str:
    """The cheapest database tier with enough memory for this size."""
    return _cheapest(cat.database_tiers, DB_MEMORY_GB[size])


def _cheapest(types: Mapping[str, MachineType], min_memory: float) -> str:
    fitting = [(m.hourly_usd, name) for name, m in types.items() if m.memory_gb >= min_memory]
    if not fitting:  # nothing that large: take the biggest on offer
        return max(types, key=lambda name: types[name].memory_gb)
    return min(fitting)[1]


def eu_region_for(provider: str, region: str | None) -> str:
    """The EU region a resource moves to under GDPR (its own region if already in the EU)."""
    regions = EU_REGIONS[provider]
    return region if region in regions else regions[0]


def default_region(provider: str, compliance: str = "none") -> str:
    """The region used when the user names none: the EU one under GDPR."""
    return EU_REGIONS[provider][0] if compliance == "GDPR" else DEFAULT_REGIONS[provider]


def revalidate(spec: ResourceSpec, **changes: Any) -> ResourceSpec:
    """A copy of `spec` with `changes`, validated again (model_copy would skip validation)."""
    data = spec.model_dump(exclude_none=True)
    data.update({k: v for k, v in changes.items()})
    return ResourceSpec.model_validate({k: v for k, v in data.items() if v is not None})


@dataclass
class GuardrailContext:
    """What enforcement needs besides the design: the request's levels, the catalogue, the guild."""

    provider: str
    region: str
    budget: str
    security: str
    compliance: str
    estimator: CostEstimator
    policies: Sequence[Policy] = ()
    quota_free: Mapping[str, int] | None = None
    env: str = "prod"

    @property
    def catalog(self) -> Catalog:
        return self.estimator.catalog

    @property
    def controls(self) -> Controls:
        return required_controls(self.security, self.compliance)


@dataclass
class GuardrailOutcome:
    """The corrected design, its prices, and what every guardrail did."""

    specs: list[ResourceSpec]
    costs: dict[tuple[str, str], CostLine]
    checks: list[GuardrailCheck]
    rejected: list[RejectedResource] = field(default_factory=list)
    ceiling: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.costs.values()), 2)

    @property
    def corrected(self) -> list[GuardrailCheck]:
        return [c for c in self.checks if c.corrected]


class _Enforcer:
    """Applies each control in turn to a working list of specs, recording checks."""

    def __init__(self, specs: Sequence[ResourceSpec], ctx: GuardrailContext) -> None:
        self.ctx = ctx
        self.controls = ctx.controls
        self.cat = ctx.catalog.for_provider(ctx.provider)
        self.specs = list(specs)
        self.checks: list[GuardrailCheck] = []
        self.rejected: list[RejectedResource] = []

    # -- helpers
    def check(self, name: str, fixed: list[str], ok_detail: str, *, failed: list[str] | None = None) -> None:
        if failed:
            self.checks.append(GuardrailCheck(name=name, passed=False, corrected=bool(fixed),
                                              detail="; ".join([*fixed, *failed])))
        elif fixed:
            self.checks.append(GuardrailCheck(name=name, passed=True, corrected=True, detail="; ".join(fixed)))
        else:
            self.checks.append(GuardrailCheck(name=name, passed=True, detail=ok_detail))

    def reject(self, spec: ResourceSpec, reason: str) -> None:
        self.specs = [s for s in self.specs if s is not spec]
        self.rejected.append(RejectedResource(kind=spec.kind, name=spec.name, reason=reason))

    def replace(self, old: ResourceSpec, new: ResourceSpec) -> None:
        self.specs = [new if s is old else s for s in self.specs]

    def of_kind(self, *kinds: str) -> list[ResourceSpec]:
        return [s for s in self.specs if s.kind in kinds]

    # -- controls
    def unique_names(self) -> None:
        seen: set[tuple[str, str]] = set()
        for spec in list(self.specs):
            if spec.key in seen:
                self.reject(spec, f"a second {spec.kind} named {spec.name}")
            seen.add(spec.key)

    def catalogue(self) -> None:
        fixed: list[str] = []
        size = SIZE_FOR_BUDGET[self.ctx.budget]
        for spec in list(self.specs):
            changes: dict[str, Any] = {}
            if spec.region not in self.cat.regions:
                changes["region"] = self.ctx.region
                if spec.region:
                    fixed.append(f"{spec.name}: region {spec.region} is not a {self.ctx.provider} region; "
                                 f"using {self.ctx.region}")
            if spec.kind in ("vm", "k8s_cluster") and spec.machine_type not in self.cat.machine_types:
                changes["machine_type"] = machine_type_for(self.cat, size)
                if spec.machine_type:
                    fixed.append(f"{spec.name}: {spec.machine_type} is not in the {self.ctx.provider} catalogue; "
                                 f"using {changes['machine_type']}")
            if spec.kind == "database" and spec.tier not in self.cat.database_tiers:
                changes["tier"] = db_tier_for(self.cat, size)
                if spec.tier:
                    fixed.append(f"{spec.name}: tier {spec.tier} is not in the catalogue; using {changes['tier']}")
            if spec.kind == "vm" and spec.image and spec.image not in self.cat.images:
                changes["image"] = self.cat.images[0]
                fixed.append(f"{spec.name}: image {spec.image} is not offered; using {self.cat.images[0]}")
            try:
                new = revalidate(spec, **changes) if changes else spec
                new = catalog_checks.normalize(self.ctx.catalog, self.ctx.provider, self.ctx.region, new)
            except (InvalidInput, ValidationError) as exc:
                self.reject(spec, f"not valid for {self.ctx.provider}: {exc}")
                continue
            self.replace(spec, new)
        self.check("catalogue", fixed, f"every machine type, tier and region is in the {self.ctx.provider} catalogue")

    def residency(self) -> None:
        if not self.controls.eu_only:
            return
        fixed = []
        for spec in list(self.specs):
            target = eu_region_for(self.ctx.provider, spec.region)
            if spec.region != target:
                fixed.append(f"{spec.name}: moved from {spec.region} to {target} (GDPR data residency)")
                self.replace(spec, revalidate(spec, region=target, zone=None))
        self.check("data-residency", fixed, "every resource is in an EU region")

    def encryption(self) -> None:
        fixed = []
        for spec in list(self.specs):
            if not spec.encrypted:
                fixed.append(f"{spec.name}: encryption at rest turned on")
                self.replace(spec, revalidate(spec, encrypted=True))
        self.check("encryption-at-rest", fixed, "encryption at rest is on for every resource")

    def public_buckets(self) -> None:
        fixed = []
        for spec in self.of_kind("bucket"):
            if spec.public_access:
                fixed.append(f"{spec.name}: public access removed (serve public content through a CDN or load "
                             "balancer with origin access instead)")
                self.replace(spec, revalidate(spec, public_access=False))
        self.check("no-public-buckets", fixed, "no bucket allows public access")

    def world_admin(self) -> None:
        fixed = []
        for spec in self.of_kind("firewall"):
            rules, changed = [], False
            for rule in spec.rules or []:
                if rule.opens_world() and any(rule.covers_port(p) for p in ADMIN_PORTS):
                    rules.extend(_split_admin(rule))
                    changed = True
                else:
                    rules.append(rule)
            if changed:
                fixed.append(f"{spec.name}: SSH/RDP limited to {PRIVATE_SOURCE} (use a bastion or IAP)")
                self.replace(spec, revalidate(spec, rules=[r.model_dump() for r in rules]))
        self.check("no-world-admin-ingress", fixed, "no firewall opens SSH or RDP to 0.0.0.0/0")

    def segmentation(self) -> None:
        if not self.controls.segmentation:
            return
        fixed = []
        for spec in self.of_kind("firewall"):
            rules, changed = [], False
            for rule in spec.rules or []:
                if rule.opens_world() and (rule.protocol == "all" or rule.ports != [HTTPS_PORT]):
                    if rule.covers_port(HTTPS_PORT) and rule.protocol in ("tcp", "all"):
                        rule = rule.model_copy(update={"protocol": "tcp", "ports": [HTTPS_PORT]})
                    else:
                        rule = rule.model_copy(update={"sources": [PRIVATE_SOURCE]})
                    changed = True
                rules.append(rule)
            if changed:
                fixed.append(f"{spec.name}: world ingress narrowed to port {HTTPS_PORT} only")
                self.replace(spec, revalidate(spec, rules=[r.model_dump() for r in rules]))
        workloads = self.of_kind("vm", "database", "k8s_cluster")
        if workloads:
            nets = self.of_kind("network")
            if not nets:
                net = ResourceSpec(kind="network", name=_free_name(self.specs, "network", "segment-net"),
                                   region=self.ctx.region, subnets=[{"name": "app", "cidr": "10.10.1.0/24"}],
                                   description="segmented network required by PCI-DSS")
                self.specs.append(net)
                nets = [net]
                fixed.append(f"added network {net.name} to segment the workloads")
            if not self.of_kind("firewall"):
                fw = ResourceSpec(kind="firewall", name=_free_name(self.specs, "firewall", "segment-fw"),
                                  region=self.ctx.region, network=nets[0].name,
                                  rules=[FirewallRule(ports=[HTTPS_PORT], sources=[PRIVATE_SOURCE])],
                                  description="internal HTTPS only; no world ingress")
                self.specs.append(fw)
                fixed.append(f"added firewall {fw.name} allowing only internal HTTPS")
            for spec in self.of_kind("vm", "database", "k8s_cluster", "firewall"):
                if spec.network is None:
                    self.replace(spec, revalidate(spec, network=nets[0].name))
                    fixed.append(f"{spec.name}: attached to network {nets[0].name}")
        self.check("network-segmentation", fixed, "workloads sit in a segmented network; world ingress only on 443")

    def private_networking(self) -> None:
        if not self.controls.private_networking:
            return
        fixed = []
        for spec in self.of_kind("vm"):
            if spec.public_ip:
                fixed.append(f"{spec.name}: public IP removed (reach it through a load balancer or bastion)")
                self.replace(spec, revalidate(spec, public_ip=False))
        for spec in self.of_kind("k8s_cluster"):
            if not spec.private_nodes:
                fixed.append(f"{spec.name}: nodes made private")
                self.replace(spec, revalidate(spec, private_nodes=True))
        self.check("private-networking", fixed, "no VM has a public IP and cluster nodes are private")

    def databases(self) -> None:
        c = self.controls
        backups, protection, ha = [], [], []
        for spec in self.of_kind("database"):
            changes: dict[str, Any] = {}
            if c.min_backup_days and (spec.backup_retention_days or 0) < c.min_backup_days:
                changes["backup_retention_days"] = c.min_backup_days
                backups.append(f"{spec.name}: backups kept {c.min_backup_days} days (was {spec.backup_retention_days})")
            if c.deletion_protection and not spec.deletion_protection:
                changes["deletion_protection"] = True
                protection.append(f"{spec.name}: deletion protection turned on")
            if c.ha_databases and not spec.high_availability:
                changes["high_availability"] = True
                ha.append(f"{spec.name}: made highly available (standby in a second zone)")
            if changes:
                self.replace(spec, revalidate(spec, **changes))
        if c.min_backup_days:
            self.check("backups", backups, f"every database keeps backups ≥ {c.min_backup_days} days")
        if c.deletion_protection:
            self.check("deletion-protection", protection, "every database has deletion protection")
        if c.ha_databases:
            self.check("ha-databases", ha, "every database is highly available")

    def versioning(self) -> None:
        if not self.controls.versioning:
            return
        fixed = []
        for spec in self.of_kind("bucket"):
            if not spec.versioning:
                fixed.append(f"{spec.name}: object versioning turned on")
                self.replace(spec, revalidate(spec, versioning=True))
        self.check("versioning", fixed, "every bucket keeps object versions")

    def complexity(self) -> None:
        fixed = []
        if self.ctx.budget == "low":
            for spec in self.of_kind("k8s_cluster"):
                vm = ResourceSpec(kind="vm", name=spec.name, region=spec.region, tags=spec.tags,
                                  machine_type=machine_type_for(self.cat, "small"), network=spec.network,
                                  description="runs the containers with Docker Compose instead of a cluster")
                vm = catalog_checks.normalize(self.ctx.catalog, self.ctx.provider, self.ctx.region, vm)
                self.replace(spec, vm)
                fixed.append(f"{spec.name}: Kubernetes replaced by one {vm.machine_type} VM running the containers "
                             "(a managed control plane alone would take most of a low budget)")
        self.check("complexity", fixed, f"the design's complexity suits a {self.ctx.budget} budget")

    def tags(self) -> None:
        wanted = {"env": self.ctx.env, "managed-by": "cloud-engine"}
        if self.ctx.compliance != "none":
            wanted["compliance"] = self.ctx.compliance.lower()
        for spec in list(self.specs):
            missing = {k: v for k, v in wanted.items() if k not in spec.tags}
            if missing and len(spec.tags) + len(missing) <= 20:
                self.replace(spec, revalidate(spec, tags={**spec.tags, **missing}))

    def policies(self) -> None:
        policies = [p for p in self.ctx.policies if p.enabled and p.type != "permission"]
        if not policies:
            return
        for violation in self._violations(policies):
            spec = self._by_resource(violation.resource)
            if spec is None or violation.action != "deny":
                continue
            fixed = self._fix_policy(policies, spec, violation.type, violation.message)
            name = f"policy:{violation.policy}"
            if fixed:
                self.checks.append(GuardrailCheck(name=name, passed=True, corrected=True, detail=fixed))
        for violation in self._violations(policies):
            name = f"policy:{violation.policy}"
            spec = self._by_resource(violation.resource)
            if violation.action == "deny" and spec is not None:
                self.reject(spec, f"blocked by policy {violation.policy}: {violation.message}")
                self.checks.append(GuardrailCheck(name=name, passed=False, corrected=True,
                                                  detail=f"{spec.name} rejected: {violation.message}"))
            elif violation.action == "deny":
                self.checks.append(GuardrailCheck(name=name, passed=False, detail=violation.message))
            elif violation.action == "require_approval":
                self.checks.append(GuardrailCheck(name=name, passed=True,
                                                  detail=f"deploying needs an approver: {violation.message}"))
            else:
                self.checks.append(GuardrailCheck(name=name, passed=True, detail=f"warning: {violation.message}"))

    def _violations(self, policies: Sequence[Policy]) -> list[Any]:
        costs = {f"{s.kind}/{s.name}": self._price(s).monthly for s in self.specs}
        return evaluate(policies, PolicyContext(resources=self.specs, role=Role.ADMIN, costs=costs))

    def _by_resource(self, resource: str | None) -> ResourceSpec | None:
        return next((s for s in self.specs if resource == f"{s.kind}/{s.name}"), None)

    def _fix_policy(self, policies: Sequence[Policy], spec: ResourceSpec, type_: str, message: str) -> str | None:
        if type_ == "region":
            allowed = [r for r in self.cat.regions if not self._region_denied(policies, spec, r)]
            if self.controls.eu_only:
                allowed = [r for r in allowed if r in EU_REGIONS[self.ctx.provider]]
            if allowed:
                self.replace(spec, revalidate(spec, region=allowed[0], zone=None))
                return f"{spec.name}: moved to {allowed[0]} ({message})"
            return None
        if type_ == "security":
            changes: dict[str, Any] = {}
            if spec.kind in ("vm", "database", "bucket") and not spec.encrypted:
                changes["encrypted"] = True
            if spec.kind == "bucket" and spec.public_access:
                changes["public_access"] = False
            if spec.kind == "vm" and spec.public_ip:
                changes["public_ip"] = False
            if spec.kind == "firewall":
                rules = [r.model_copy(update={"sources": [PRIVATE_SOURCE]}) if r.opens_world() else r
                         for r in spec.rules or []]
                changes["rules"] = [r.model_dump() for r in rules]
            if changes:
                self.replace(spec, revalidate(spec, **changes))
                return f"{spec.name}: {', '.join(sorted(changes))} changed ({message})"
        return None

    def _region_denied(self, policies: Sequence[Policy], spec: ResourceSpec, region: str) -> bool:
        moved = spec.model_copy(update={"region": region})
        return any(v.type == "region" and v.action == "deny" for v in evaluate(
            [p for p in policies if p.type == "region"], PolicyContext(resources=[moved], role=Role.ADMIN, costs={})))

    def quotas(self) -> None:
        if self.ctx.quota_free is None:
            return
        fixed: list[str] = []
        failed: list[str] = []
        for name, free in sorted(self.ctx.quota_free.items()):
            while self._need(name) > free:
                grown = [s for s in self.of_kind("k8s_cluster") if (s.node_count or 1) > 1]
                if grown and name.startswith("compute."):
                    spec = grown[-1]
                    self.replace(spec, revalidate(spec, node_count=(spec.node_count or 1) - 1))
                    fixed.append(f"{spec.name}: {spec.node_count} → {(spec.node_count or 1) - 1} nodes to fit "
                                 f"the guild's {name} quota")
                    continue
                users = [s for s in self.specs if catalog_checks.quota_usage(self.ctx.catalog, self.ctx.provider,
                                                                             s).get(name, 0) > 0]
                if not users:
                    break
                spec = users[-1]
                self.reject(spec, f"the guild's {name} quota has {max(free, 0)} left")
                failed.append(f"{spec.name} rejected: {name} quota has {max(free, 0)} left")
        self.check("quotas", fixed, "the design fits the guild's free quotas", failed=failed)

    def _need(self, quota: str) -> int:
        return sum(catalog_checks.quota_usage(self.ctx.catalog, self.ctx.provider, s).get(quota, 0)
                   for s in self.specs)

    def _price(self, spec: ResourceSpec) -> CostLine:
        return self.ctx.estimator.estimate(self.ctx.provider, self.ctx.region, spec)

    def budget(self, ceiling: float) -> dict[tuple[str, str], CostLine]:
        fixed: list[str] = []
        costs = {s.key: self._price(s) for s in self.specs}
        for _ in range(MAX_DOWNSIZE_STEPS):
            total = sum(c.monthly for c in costs.values())
            if total <= ceiling:
                break
            step = self._downsize_step(costs)
            if step is None:
                break
            old, new, what = step
            self.replace(old, new)
            costs.pop(old.key)
            costs[new.key] = self._price(new)
            fixed.append(what)
        total = round(sum(c.monthly for c in costs.values()), 2)
        failed = [] if total <= ceiling else [
            f"the smallest design that meets the other guardrails costs ${total:,.2f}/month, above the "
            f"${ceiling:,.2f} ceiling; raise the budget level or drop a component"]
        self.check("budget", _merge_steps(fixed), f"${total:,.2f}/month is within the ${ceiling:,.2f} ceiling",
                   failed=failed)
        return costs

    def _downsize_step(self, costs: Mapping[tuple[str, str], CostLine]) -> tuple[ResourceSpec, ResourceSpec, str] | None:
        for spec in sorted(self.specs, key=lambda s: costs[s.key].monthly, reverse=True):
            if spec.kind == "database" and spec.high_availability and not self.controls.ha_databases:
                return spec, revalidate(spec, high_availability=False), f"{spec.name}: high availability off"
            if spec.kind == "k8s_cluster" and (spec.node_count or 1) > 2:
                n = spec.node_count or 1
                return spec, revalidate(spec, node_count=n - 1), f"{spec.name}: {n} → {n - 1} nodes"
            if spec.kind in ("vm", "k8s_cluster"):
                cheaper = _next_cheaper(self.cat.machine_types, spec.machine_type or "")
                if cheaper:
                    return spec, revalidate(spec, machine_type=cheaper), f"{spec.name}: {spec.machine_type} → {cheaper}"
            if spec.kind == "database":
                cheaper = _next_cheaper(self.cat.database_tiers, spec.tier or "")
                if cheaper:
                    return spec, revalidate(spec, tier=cheaper), f"{spec.name}: tier {spec.tier} → {cheaper}"
        return None

    def advisories(self) -> None:
        for name, detail in self.controls.advisories:
            self.checks.append(GuardrailCheck(name=name, passed=True, enforced=False,
                                              detail=f"Required outside the resource specs: {detail}"))


def _split_admin(rule: FirewallRule) -> list[FirewallRule]:
    """A world-open rule without its SSH/RDP ports, plus those ports from the private range only."""
    private = rule.model_copy(update={"sources": [PRIVATE_SOURCE]})
    if not rule.ports:
        return [private]
    admin = [p for p in rule.ports if any(FirewallRule(ports=[p]).covers_port(a) for a in ADMIN_PORTS)]
    rest = [p for p in rule.ports if p not in admin]
    out = [private.model_copy(update={"ports": admin})]
    if rest:
        out.insert(0, rule.model_copy(update={"ports": rest}))
    return out


def _next_cheaper(types: Mapping[str, MachineType], current: str) -> str | None:
    price = types[current].hourly_usd if current in types else None
    if price is None:
        return None
    cheaper = [(m.hourly_usd, name) for name, m in types.items() if m.hourly_usd < price]
    return max(cheaper)[1] if cheaper else None


def _merge_steps(steps: list[str]) -> list[str]:
    """Collapse repeated downsizing of one resource into `name: first → last`."""
    merged: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    for step in steps:
        name, _, change = step.partition(": ")
        first, _, last = change.partition(" → ")
        if not last or name not in merged:
            if name not in merged:
                order.append(name)
            merged[name] = (first, last) if last else (change, "")
        else:
            merged[name] = (merged[name][0], last)
    out = []
    for name in order:
        first, last = merged[name]
        out.append(f"{name}: {first} → {last} to fit the budget" if last else f"{name}: {first} to fit the budget")
    return out


def _free_name(specs: Sequence[ResourceSpec], kind: str, name: str) -> str:
    taken = {s.name for s in specs if s.kind == kind}
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


def ceiling_for(budget: str, policies: Sequence[Policy] = ()) -> float:
    """The monthly ceiling: the budget level's, lowered by any enabled guild-wide cost policy."""
    ceiling = BUDGET_CEILINGS[budget]
    for p in policies:
        if p.enabled and p.type == "cost" and p.action == "deny" and p.pattern == "*":
            ceiling = min(ceiling, float(p.params["max_monthly_usd"]))
    return ceiling


def enforce(specs: Sequence[ResourceSpec], ctx: GuardrailContext) -> GuardrailOutcome:
    """Correct or reject every part of a design that breaks a guardrail; price what remains."""
    e = _Enforcer(specs, ctx)
    e.unique_names()
    e.catalogue()
    e.complexity()
    e.residency()
    e.encryption()
    e.public_buckets()
    e.world_admin()
    e.segmentation()
    e.private_networking()
    e.databases()
    e.versioning()
    e.tags()
    e.policies()
    e.quotas()
    ceiling = ceiling_for(ctx.budget, ctx.policies)
    costs = e.budget(ceiling)
    e.advisories()
    ordered = {s.key: costs[s.key] for s in e.specs}
    return GuardrailOutcome(specs=e.specs, costs=ordered, checks=e.checks, rejected=e.rejected, ceiling=ceiling)


def quota_free(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Free amount per quota from `CloudOrchestrator.quota_usage` rows (limit - used - reserved)."""
    return {str(r["name"]): int(r["limit_value"]) - int(r["used"]) - int(r["reserved"]) for r in rows}
