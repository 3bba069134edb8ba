"""Rightsizing: the cheapest same-family catalogue type that keeps P95 CPU and memory under
the headroom limit once scaled to its smaller capacity (projected = P95 x current / smaller)."""

from __future__ import annotations

from cloud_engine.finops.models import Recommendation, RecommendationKind
from cloud_engine.finops.recommenders.base import RecommenderContext, insufficient, make, memory_agent_hint

KIND = RecommendationKind.RIGHTSIZE  # the one kind this module produces (engine.RECOMMENDERS)


def recommend(ctx: RecommenderContext) -> list[Recommendation]:
    t = ctx.thresholds
    out: list[Recommendation] = []
    for p in ctx.inventory.resources:
        machine = ctx.machine(p)
        if p.kind != "vm" or machine is None or p.machine_type is None:
            continue
        cpu, mem = p.window.get("cpu"), p.window.get("memory")
        needs = []
        if cpu is None or cpu.days < t.min_telemetry_days:
            needs.append(f"cpu (percent) for at least {t.min_telemetry_days} days (have {cpu.days if cpu else 0})")
        if mem is None or mem.days < t.min_telemetry_days:
            needs.append(memory_agent_hint(p.provider))
        if needs or cpu is None or mem is None:
            out.append(insufficient(p, KIND, needs, {
                "cpu_days": cpu.days if cpu else 0, "memory_days": mem.days if mem else 0,
                "machine_type": p.machine_type}))
            continue
        fitting = []
        for name, smaller in ctx.catalog.for_provider(p.provider).smaller_types(p.machine_type):
            proj_cpu = cpu.p95 * machine.vcpus / smaller.vcpus
            proj_mem = mem.p95 * machine.memory_gb / smaller.memory_gb
            if proj_cpu <= t.rightsize_headroom_pct and proj_mem <= t.rightsize_headroom_pct:
                fitting.append((smaller.hourly_usd, name, smaller, proj_cpu, proj_mem))
        if not fitting:
            continue
        _, name, smaller, proj_cpu, proj_mem = min(fitting, key=lambda f: (f[0], f[1]))
        ratio = smaller.hourly_usd / machine.hourly_usd
        kg_now = ctx.vm_kg(p, machine, cpu.avg)
        kg_new = ctx.vm_kg(p, smaller, min(cpu.avg * machine.vcpus / smaller.vcpus, 100.0))
        high = max(proj_cpu, proj_mem)
        out.append(make(
            p, KIND, f"Resize {p.machine_type} → {name}",
            evidence={
                "window_days": min(cpu.days, mem.days), "p95_cpu": round(cpu.p95, 2), "p95_memory": round(mem.p95, 2),
                "avg_cpu": round(cpu.avg, 2), "current": f"{machine.vcpus:g} vCPU / {machine.memory_gb:g} GB",
                "proposed": f"{smaller.vcpus:g} vCPU / {smaller.memory_gb:g} GB",
                "projected_p95_cpu": round(proj_cpu, 1), "projected_p95_memory": round(proj_mem, 1),
                "headroom_limit_pct": t.rightsize_headroom_pct, "price_ratio": round(ratio, 4),
            },
            savings=p.monthly_cost * (1 - ratio),
            co2e=(kg_new - kg_now) if kg_now is not None and kg_new is not None else None,
            confidence=0.5 + 0.45 * min(min(cpu.days, mem.days), 30) / 30,
            risk=("low" if high <= 50 else "medium",
                  f"projected P95 CPU {proj_cpu:.0f}% and memory {proj_mem:.0f}% on {name}; needs a restart"),
            target=name, suggested_machine_type=name,
        ))
    return out
