"""Orphaned resources: unattached disks, unused public IPs, idle load balancers, old snapshots.

Evidence comes from metrics (zero disk I/O or zero network on every observed day, for at
least `orphan_min_days`) or from a state tag (`state`/`status` = unattached, available,
detached, unassociated). Resources with neither are left alone rather than guessed about.
Sizes (and so CO2e) of disks and snapshots are estimated from USD prices per GB, so only
for USD bills; the saving itself is the resource's own cost, in any currency.
"""

from __future__ import annotations

from datetime import date

from cloud_engine.finops.inventory import ResourceProfile
from cloud_engine.finops.models import Recommendation, RecommendationKind
from cloud_engine.finops.prices import SNAPSHOT_GB_MONTH
from cloud_engine.finops.recommenders.base import RecommenderContext, daily_network_mb, in_usd, make

KIND = RecommendationKind.ORPHANED  # the one kind this module produces (engine.RECOMMENDERS)

_ORPHAN_STATES = {"unattached", "available", "detached", "unassociated", "unused"}
_CREATED_KEYS = ("created", "created_at", "creation_date", "creationtimestamp", "createdon")


def _daily_total(p: ResourceProfile, metrics: tuple[str, ...]) -> dict[date, float]:
    out: dict[date, float] = {}
    for metric in metrics:
        for d in p.daily.get(metric, []):
            out[d.day] = out.get(d.day, 0.0) + d.total
    return out


def _state_tag(p: ResourceProfile) -> str | None:
    state = p.tags.get("state") or p.tags.get("status")
    return state if state and state.lower() in _ORPHAN_STATES else None


def _age_days(p: ResourceProfile, as_of: date) -> tuple[int, str]:
    for key in _CREATED_KEYS:
        if key in p.tags:
            try:
                return (as_of - date.fromisoformat(p.tags[key][:10])).days, f"tag {key}"
            except ValueError:
                continue
    return (as_of - p.first_seen.date()).days, "first seen in the ledger"


def recommend(ctx: RecommenderContext) -> list[Recommendation]:
    t = ctx.thresholds
    as_of = ctx.inventory.as_of
    out: list[Recommendation] = []
    for p in ctx.inventory.resources:
        if p.kind == "disk":
            rec = _disk(ctx, p)
        elif p.kind == "public_ip":
            rec = _network_zero(ctx, p, "Release the unused public IP", 0.0)
        elif p.kind == "load_balancer":
            rec = _network_zero(ctx, p, "Delete the idle load balancer", t.idle_lb_mb_per_day)
        elif p.kind == "snapshot" and as_of is not None:
            rec = _snapshot(ctx, p, as_of)
        else:
            rec = None
        if rec is not None:
            out.append(rec)
    return out


def _disk(ctx: RecommenderContext, p: ResourceProfile) -> Recommendation | None:
    io = _daily_total(p, ("disk_read", "disk_write"))
    state = _state_tag(p)
    zero_io = len(io) >= ctx.thresholds.orphan_min_days and all(v == 0 for v in io.values())
    if not (zero_io or state):
        return None
    priced = ctx.catalog.known(p.provider)  # unknown provider: no size estimate, the bill still gives the saving
    price = priced.storage_gb_month.disk * priced.regions.get(p.region or "", 1.0) if priced else 0.0
    evidence: dict[str, object] = {"days_observed": len(io), "disk_io_total": sum(io.values())}
    if in_usd(p):
        size_gb = p.monthly_cost / price if price else 0.0
        kg = ctx.carbon.kg_per_month(p.provider, p.region, ctx.carbon.storage_watts(size_gb, ssd=True))
        evidence["estimated_size_gb"] = round(size_gb)
    else:
        kg = None
        evidence["size_note"] = f"not estimated: billed in {p.currency}, catalogue prices are USD"
    if state:
        evidence["state_tag"] = state
    return make(p, KIND, "Snapshot if needed, then delete the unattached disk", evidence=evidence,
                savings=p.monthly_cost, co2e=-kg if kg is not None else None, confidence=0.9 if state else 0.8,
                risk=("medium", "zero I/O can also mean an attached but unused disk; check attachment first"))


def _network_zero(ctx: RecommenderContext, p: ResourceProfile, action: str, limit_mb: float) -> Recommendation | None:
    net = daily_network_mb(p)
    state = _state_tag(p)
    quiet = len(net) >= ctx.thresholds.orphan_min_days and all(v <= limit_mb for v in net.values())
    if not (quiet or state):
        return None
    evidence = {"days_observed": len(net), "avg_net_mb_per_day": round(sum(net.values()) / max(len(net), 1), 4),
                "limit_mb_per_day": limit_mb, "co2e_note": "not estimated for network resources"}
    if state:
        evidence["state_tag"] = state
    return make(p, KIND, action, evidence=evidence, savings=p.monthly_cost, co2e=0.0,
                confidence=0.85, risk=("low" if p.kind == "public_ip" else "medium",
                                       "check DNS records and listeners still pointing at it"))


def _snapshot(ctx: RecommenderContext, p: ResourceProfile, as_of: date) -> Recommendation | None:
    age, basis = _age_days(p, as_of)
    if age <= ctx.thresholds.snapshot_max_age_days:
        return None
    evidence: dict[str, object] = {"age_days": age, "age_basis": basis,
                                   "max_age_days": ctx.thresholds.snapshot_max_age_days}
    if in_usd(p):
        size_gb = p.monthly_cost / SNAPSHOT_GB_MONTH
        kg = ctx.carbon.kg_per_month(p.provider, p.region, ctx.carbon.storage_watts(size_gb, ssd=False))
        evidence["estimated_size_gb"] = round(size_gb)
    else:
        kg = None
        evidence["size_note"] = f"not estimated: billed in {p.currency}, snapshot prices are USD"
    return make(p, KIND, f"Delete the snapshot ({age} days old) if no retention policy needs it",
                evidence=evidence,
                savings=p.monthly_cost, co2e=-kg if kg is not None else None, confidence=0.7,
                risk=("medium", "backups may be required by a retention or compliance policy"))
