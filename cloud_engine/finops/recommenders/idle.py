"""Idle VMs: low CPU and almost no network on enough recent days (see `Thresholds`)."""

from __future__ import annotations

from cloud_engine.finops.models import Level, Recommendation, RecommendationKind
from cloud_engine.finops.recommenders.base import (
    RecommenderContext,
    daily_network_mb,
    insufficient,
    make,
    recent_days,
)

KIND = RecommendationKind.IDLE  # the one kind this module produces (engine.RECOMMENDERS)


def recommend(ctx: RecommenderContext) -> list[Recommendation]:
    t = ctx.thresholds
    end = ctx.inventory.metrics_end.date() if ctx.inventory.metrics_end else None
    out: list[Recommendation] = []
    for p in ctx.inventory.resources:
        machine = ctx.machine(p)
        if p.kind != "vm" or machine is None:
            continue
        cpu = recent_days(p.daily.get("cpu", []), end, t.idle_lookback_days)
        net = daily_network_mb(p)
        needs = []
        if len(cpu) < t.min_telemetry_days:
            needs.append(f"cpu (percent) for at least {t.min_telemetry_days} days (have {len(cpu)})")
        if not net:
            needs.append("network_in and network_out (bytes)")
        if needs:
            out.append(insufficient(p, KIND, needs, {"days_observed": len(cpu), "lookback_days": t.idle_lookback_days}))
            continue
        idle = [d for d in cpu if d.p95 <= t.idle_cpu_pct and net.get(d.day, 0.0) <= t.idle_net_mb_per_day]
        if len(idle) < t.idle_min_days:
            continue
        fraction = len(idle) / len(cpu)
        avg_cpu = sum(d.avg for d in cpu) / len(cpu)
        kg = ctx.vm_kg(p, machine, avg_cpu)
        evidence = {
            "window_start": cpu[0].day.isoformat(), "window_end": cpu[-1].day.isoformat(),
            "days_observed": len(cpu), "idle_days": len(idle),
            "p95_cpu_max_on_idle_days": round(max(d.p95 for d in idle), 2),
            "avg_cpu": round(avg_cpu, 2),
            "avg_net_mb_per_day": round(sum(net.get(d.day, 0.0) for d in cpu) / len(cpu), 3),
            "rule": f"day idle if P95 CPU <= {t.idle_cpu_pct}% and network <= {t.idle_net_mb_per_day} MB; "
                    f">= {t.idle_min_days} idle days of the last {t.idle_lookback_days}",
        }
        if fraction >= 1.0:
            action = f"Stop or delete (idle on all {len(cpu)} observed days)"
            risk: tuple[Level, str] = ("low" if len(cpu) >= t.idle_lookback_days else "medium",
                    "idle every observed day; confirm it is not a standby or scheduled-job host, snapshot disks first")
        else:
            action = f"Stop on idle days or consolidate (idle {len(idle)} of {len(cpu)} days)"
            risk = ("medium", "busy on other days; stopping needs a schedule or automation")
        out.append(make(
            p, KIND, action, evidence=evidence, savings=p.monthly_cost * fraction,
            co2e=-kg * fraction if kg is not None else None,
            confidence=(0.5 + 0.45 * fraction) * min(1.0, len(cpu) / t.idle_lookback_days), risk=risk,
        ))
    return out
