"""Guardrails per security level and compliance framework: what is corrected, rejected or noted."""

from __future__ import annotations

import pytest

from cloud_engine.ai.guardrails import EU_REGIONS, GuardrailContext, enforce, strip_prices
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import FirewallRule, ResourceSpec
from cloud_engine.core.policies import Policy

EST = CostEstimator()


def ctx(provider: str = "gcp", region: str = "us-central1", budget: str = "medium", security: str = "standard",
        compliance: str = "none", **kw: object) -> GuardrailContext:
    return GuardrailContext(provider=provider, region=region, budget=budget, security=security, compliance=compliance,
                            estimator=EST, **kw)


def sloppy(provider: str = "gcp") -> list[ResourceSpec]:
    vm_type = {"gcp": "e2-small", "aws": "t3.small", "azure": "Standard_B1ms"}[provider]
    return [
        ResourceSpec(kind="vm", name="web", machine_type=vm_type, public_ip=True, encrypted=False),
        ResourceSpec(kind="database", name="db", backup_retention_days=1, deletion_protection=False),
        ResourceSpec(kind="bucket", name="files", public_access=True, versioning=False, encrypted=False),
        ResourceSpec(kind="firewall", name="fw", rules=[FirewallRule(ports=[22, 443, 8080], sources=["0.0.0.0/0"])]),
    ]


def by_name(outcome) -> dict:
    return {s.name: s for s in outcome.specs}


def check(outcome, name: str):
    return next(c for c in outcome.checks if c.name == name)


def test_standard_encrypts_closes_buckets_and_admin_ports() -> None:
    out = enforce(sloppy(), ctx())
    s = by_name(out)
    assert s["web"].encrypted and s["files"].encrypted and not s["files"].public_access
    assert all(not (r.opens_world() and r.covers_port(22)) for r in s["fw"].rules)
    for name in ("encryption-at-rest", "no-public-buckets", "no-world-ingress"):
        assert check(out, name).corrected and check(out, name).passed
    assert s["web"].public_ip  # standard does not demand private networking


def test_enhanced_adds_private_networking_backups_and_protection() -> None:
    out = enforce(sloppy(), ctx(security="enhanced"))
    s = by_name(out)
    assert not s["web"].public_ip
    assert s["db"].backup_retention_days >= 7 and s["db"].deletion_protection
    assert check(out, "private-networking").corrected and check(out, "backups").corrected


def test_compliance_level_adds_ha_versioning_and_audit_note() -> None:
    out = enforce(sloppy(), ctx(security="compliance"))
    s = by_name(out)
    assert s["db"].high_availability and s["files"].versioning
    audit = check(out, "audit-logging")
    assert not audit.enforced and "audit" in audit.detail.lower()


def test_hipaa_requires_backups_audit_tls_and_baa() -> None:
    out = enforce(sloppy("aws"), ctx(provider="aws", region="us-east-1", compliance="HIPAA"))
    s = by_name(out)
    assert s["db"].backup_retention_days >= 7 and all(x.encrypted for x in out.specs)
    names = {c.name for c in out.checks}
    assert {"baa", "audit-logging", "encryption-in-transit"} <= names
    assert all(x.tags.get("compliance") == "hipaa" for x in out.specs)


@pytest.mark.parametrize("provider,region", [("gcp", "us-central1"), ("aws", "us-east-1"), ("azure", "eastus")])
def test_gdpr_moves_every_resource_to_an_eu_region(provider: str, region: str) -> None:
    out = enforce(sloppy(provider), ctx(provider=provider, region=region, compliance="GDPR"))
    assert {s.region for s in out.specs} <= set(EU_REGIONS[provider])
    residency = check(out, "data-residency")
    assert residency.corrected and region in residency.detail
    assert all(s.encrypted for s in out.specs)
    # prices follow the new region
    for s in out.specs:
        assert out.costs[s.key].monthly == EST.estimate(provider, region, s).monthly


def test_pci_segments_the_network_and_allows_only_443_from_the_world() -> None:
    out = enforce(sloppy(), ctx(compliance="PCI-DSS"))
    s = by_name(out)
    world = [r for r in s["fw"].rules if r.opens_world()]
    assert world and all(r.ports == [443] for r in world)
    assert not s["web"].public_ip
    nets = [x for x in out.specs if x.kind == "network"]
    assert nets and all(x.network == nets[0].name for x in out.specs if x.kind in ("vm", "database", "firewall"))
    assert check(out, "network-segmentation").corrected


def test_sox_protects_deletion_keeps_backups_and_notes_change_approval() -> None:
    out = enforce(sloppy(), ctx(compliance="SOX"))
    s = by_name(out)
    assert s["db"].deletion_protection and s["db"].backup_retention_days >= 7
    assert {"change-approval", "audit-logging"} <= {c.name for c in out.checks if not c.enforced}


def test_low_budget_gets_no_kubernetes_and_fits_the_ceiling() -> None:
    specs = [ResourceSpec(kind="k8s_cluster", name="apps", node_count=5, machine_type="n2-standard-8"),
             ResourceSpec(kind="vm", name="big", machine_type="c3-standard-8")]
    out = enforce(specs, ctx(budget="low"))
    assert not any(s.kind == "k8s_cluster" for s in out.specs)
    assert check(out, "complexity").corrected
    assert out.total <= 100 and check(out, "budget").passed and check(out, "budget").corrected


def test_budget_failure_is_reported_not_hidden() -> None:
    specs = [ResourceSpec(kind="database", name=f"db-{i}", tier="db-f1-micro", storage_gb=2000) for i in range(3)]
    out = enforce(specs, ctx(budget="low"))
    assert out.total > 100 and not check(out, "budget").passed


def test_guild_security_policy_is_corrected_and_region_policy_rejects_when_unfixable() -> None:
    policies = [Policy(id=1, name="no-public-ip", type="security", params={"check": "public_ip"}),
                Policy(id=2, name="nowhere", type="region", pattern="bucket", params={"allowed": ["mars-1"]})]
    out = enforce(sloppy(), ctx(policies=policies))
    s = by_name(out)
    assert not s["web"].public_ip
    assert "files" not in s and any(r.name == "files" for r in out.rejected)


def test_unknown_catalogue_values_are_replaced() -> None:
    out = enforce([ResourceSpec(kind="vm", name="web", machine_type="t3.small")], ctx())
    assert by_name(out)["web"].machine_type in EST.catalog.for_provider("gcp").machine_types
    assert check(out, "catalogue").corrected


def test_model_prices_are_stripped() -> None:
    assert "$" not in strip_prices("This costs $1,200.50/month or US$3 per hour")


@pytest.mark.parametrize("written", [
    "9 USD per month", "USD 9", "9USD", "EUR 12.50/month", "40 CHF a month", "€8/month", "8 €", "£1,200.50",
    "¥900", "12,50 €", "1.234,56 EUR", "1.2k USD", "12 dollars", "5 euros per hour", "twenty-five US dollars a month", "50 cents per GB",
])
def test_prices_without_a_dollar_sign_are_replaced_too(written: str) -> None:
    shown = strip_prices(f"About {written}, roughly.")
    assert shown == "About (see the engine's estimate), roughly.", shown


def test_ordinary_numbers_are_not_taken_for_prices() -> None:
    text = ("Use 4 vCPUs and 16 GB of RAM for 99.9% uptime from 2026-11-15 on e2-standard-4 (port 443, 3 AZs, "
            "10.0.0.0/8); try 3 times over 12 months, paid in USD.")
    assert strip_prices(text) == text
