"""Which controls a security level and a compliance framework demand, and the catalogue sizes.

Why one table: the prompt (`prompts.py`), the rules engine and the enforcement steps all read
the same `Controls`, so what the model is told, what the rules engine drafts and what the code
enforces cannot drift apart.

Security levels add controls cumulatively:
    standard   - encryption at rest, no public buckets, only 80/443 open to the world;
    enhanced   - + private networking (no public IPs, private k8s nodes), backups ≥ 7 days,
                 deletion protection on databases;
    compliance - + highly available databases, bucket versioning, audit logging (advisory).
Compliance frameworks add their own:
    HIPAA   - encryption at rest and in transit, audit logs, BAA (advisory), backups ≥ 7 days;
    GDPR    - every resource in an EU region, encryption at rest;
    PCI-DSS - network segmentation (a network and firewall, world ingress only on 443),
              encryption, no public IPs on VMs, private k8s nodes;
    SOX     - audit logging and change approval (advisory), deletion protection, backups ≥ 7 days.
Advisories are controls the resource specs cannot express; they are reported as
"advisory, not checked", never as passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloud_engine.data.catalog import MachineType, ProviderCatalog

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
# The only ports any design may open to the internet, at every level and under every framework.
WEB_PORTS: tuple[int, ...] = (80, HTTPS_PORT)
MIN_BACKUP_DAYS = 7


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
        "redirect or refuse plain HTTP at the entry point.")
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
    return cheapest(cat.machine_types, VM_MEMORY_GB[size])


def db_tier_for(cat: ProviderCatalog, size: str) -> str:
    """The cheapest database tier with enough memory for this size."""
    return cheapest(cat.database_tiers, DB_MEMORY_GB[size])


def cheapest(types: Mapping[str, MachineType], min_memory: float) -> str:
    """The cheapest type with at least `min_memory` GB, or the biggest when none is that large."""
    fitting = [(m.hourly_usd, name) for name, m in types.items() if m.memory_gb >= min_memory]
    if not fitting:
        return max(types, key=lambda name: types[name].memory_gb)
    return min(fitting)[1]


def eu_region_for(provider: str, region: str | None) -> str:
    """The EU region a resource moves to under GDPR (its own region if already in the EU)."""
    regions = EU_REGIONS[provider]
    return region if region in regions else regions[0]


def default_region(provider: str, compliance: str = "none") -> str:
    """The region used when the user names none: the EU one under GDPR."""
    return EU_REGIONS[provider][0] if compliance == "GDPR" else DEFAULT_REGIONS[provider]
