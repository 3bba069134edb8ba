"""What every recommender shares: thresholds, the context it reads, and how a finding is built.

Thresholds are parameters with defaults, not constants in code, so the bot or CLI can tune
them and a test can pin them. Defaults and why:
- idle: a day is idle when its P95 CPU <= 10 % and network in+out <= 5 MB; a VM is flagged
  when at least 4 of the last 14 days are idle (the AWS Trusted Advisor rule, made stricter
  by using the daily P95 instead of the daily mean).
- telemetry: at least 7 days of a metric before any CPU/memory-based advice.
- rightsize: the smaller type must keep projected P95 CPU and memory <= 70 % (30 % headroom).
- orphaned: zero disk I/O or zero network for >= 7 days; load balancers under 1 MB/day;
  snapshots older than 90 days.
- schedule: env tag in dev/test/staging, idle on every observed weekend day.
- commitment: >= 14 days of cost history and a steady baseline >= $50/month.
- green region: >= 20 % lower grid intensity in the same geography for <= 10 % more cost.

Currency: savings are a share of the resource's own bill, so they are in its billing
currency and labelled with it. Rules that compare a bill with a USD figure (the commitment
threshold and discounts, catalogue prices per GB) only run on USD bills: there is no
exchange-rate source offline, and a guessed rate would turn into a wrong purchase.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cloud_engine.data.catalog import Catalog, MachineType, load_catalog
from cloud_engine.finops.carbon import CarbonModel, load_carbon_model
from cloud_engine.finops.inventory import DayStats, Inventory, ResourceProfile
from cloud_engine.finops.models import Level, Recommendation, RecommendationKind, Risk

MB = 1024.0 * 1024.0


@dataclass(frozen=True)
class Thresholds:
    idle_cpu_pct: float = 10.0
    idle_net_mb_per_day: float = 5.0
    idle_min_days: int = 4
    idle_lookback_days: int = 14
    min_telemetry_days: int = 7
    rightsize_headroom_pct: float = 70.0
    orphan_min_days: int = 7
    idle_lb_mb_per_day: float = 1.0
    snapshot_max_age_days: int = 90
    schedule_env_values: tuple[str, ...] = ("dev", "test", "staging")
    commitment_min_days: int = 14
    commitment_min_monthly_usd: float = 50.0
    commitment_baseline_percentile: float = 10.0
    green_min_reduction: float = 0.20
    green_max_cost_increase: float = 0.10


@dataclass(frozen=True)
class RecommenderContext:
    inventory: Inventory
    thresholds: Thresholds
    catalog: Catalog
    carbon: CarbonModel

    @classmethod
    def build(cls, inventory: Inventory, thresholds: Thresholds | None = None) -> RecommenderContext:
        return cls(inventory, thresholds or Thresholds(), load_catalog(), load_carbon_model())

    @property
    def days_per_month(self) -> float:
        return self.catalog.hours_per_month / 24.0

    def machine(self, profile: ResourceProfile) -> MachineType | None:
        priced = self.catalog.known(profile.provider)  # a bill may name a provider the catalogue does not price
        if not profile.machine_type or priced is None:
            return None
        return priced.machine_types.get(profile.machine_type)

    def vm_kg(self, profile: ResourceProfile, machine: MachineType, cpu_pct: float,
              region: str | None = None) -> float | None:
        watts = self.carbon.vm_watts(profile.provider, machine.vcpus, machine.memory_gb, cpu_pct)
        return self.carbon.kg_per_month(profile.provider, region or profile.region, watts)


def in_usd(profile: ResourceProfile) -> bool:
    """Whether the profile's costs can be compared with USD prices and thresholds as they are."""
    return profile.currency == "USD"


def recommendation_id(resource_id: str, kind: str, target: str | None = None) -> str:
    """Stable id: the same resource, kind and target always hash to the same id."""
    return hashlib.sha256(f"{resource_id}|{kind}|{target or ''}".encode()).hexdigest()[:16]


def recent_days(stats: list[DayStats], end: date | None, lookback: int) -> list[DayStats]:
    if end is None:
        return []
    first = end - timedelta(days=lookback - 1)
    return [d for d in stats if first <= d.day <= end]


def daily_network_mb(profile: ResourceProfile) -> dict[date, float]:
    """Network in + out per day in MB (days where either metric reported)."""
    out: dict[date, float] = {}
    for metric in ("network_in", "network_out"):
        for day in profile.daily.get(metric, []):
            out[day.day] = out.get(day.day, 0.0) + day.total / MB
    return out


def make(profile: ResourceProfile, kind: RecommendationKind, action: str, *, evidence: dict[str, Any],
         savings: float, co2e: float | None, confidence: float, risk: tuple[Level, str],
         target: str | None = None, suggested_machine_type: str | None = None,
         target_region: str | None = None, resource_id: str | None = None, resource_name: str | None = None,
         monthly_cost: float | None = None) -> Recommendation:
    """Build an `ok` recommendation, rounding money to cents and never saving more than it costs."""
    cost = round(profile.monthly_cost if monthly_cost is None else monthly_cost, 2)
    rid = resource_id or profile.resource_id
    evidence = dict(evidence)
    if co2e is None:
        evidence.setdefault("co2e_note", "not estimated: region intensity or size unknown")
    return Recommendation(
        id=recommendation_id(rid, kind, target), resource_id=rid, resource_name=resource_name or profile.resource_name,
        provider=profile.provider, region=profile.region, kind=kind, action=action, evidence=evidence,
        monthly_cost_current=cost, monthly_savings=min(round(savings, 2), cost), co2e_kg_month_delta=round(co2e or 0.0, 3),
        confidence=round(min(max(confidence, 0.0), 1.0), 2), risk=Risk(level=risk[0], reason=risk[1]),
        suggested_machine_type=suggested_machine_type, target_region=target_region, currency=profile.currency,
    )


def insufficient(profile: ResourceProfile, kind: RecommendationKind, needs: list[str],
                 evidence: dict[str, Any]) -> Recommendation:
    """Say what to collect instead of guessing; carries no savings."""
    return Recommendation(
        id=recommendation_id(profile.resource_id, kind), resource_id=profile.resource_id,
        resource_name=profile.resource_name, provider=profile.provider, region=profile.region, kind=kind,
        action=f"Collect more telemetry before {kind} advice", evidence=evidence,
        monthly_cost_current=round(profile.monthly_cost, 2), monthly_savings=0.0, co2e_kg_month_delta=0.0,
        confidence=0.0, risk=Risk(level="low", reason="no change proposed"), status="insufficient_telemetry",
        needs=tuple(needs), currency=profile.currency,
    )


def memory_agent_hint(provider: str) -> str:
    agent = {"aws": "the CloudWatch agent (mem_used_percent)", "azure": "Azure Monitor agent (Available Memory %)",
             "gcp": "the Ops Agent (memory/percent_used)"}.get(provider, "a memory agent")
    return f"memory (percent) for at least 7 days: install {agent}"


__all__ = [
    "MB", "RecommenderContext", "Thresholds", "daily_network_mb", "in_usd", "insufficient", "make", "memory_agent_hint",
    "recent_days", "recommendation_id",
]
