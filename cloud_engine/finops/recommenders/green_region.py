"""Greener regions: the same machine type in a region of the same geography whose grid is
at least `green_min_reduction` cleaner, for at most `green_max_cost_increase` more money;
among those, the cheapest region wins and the cleanest breaks ties.

Cost delta uses the catalogue's region price multipliers on the resource's observed cost;
CO2e uses the VM energy model at its observed average CPU (50 % when no CPU data).

A move is judged after the resource's rightsize (`after`): on the proposed machine type and
the cost left once it is resized, so the move's CO2e counts only what the move adds, and a
resource both rightsized and moved has its CO2e saving counted once. Moves are their own
list (`RecommendationSet.green_moves`): they usually cost money, so they are never netted
into the savings total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cloud_engine.finops.models import Recommendation, RecommendationKind
from cloud_engine.finops.recommenders.base import RecommenderContext, make

KIND = RecommendationKind.GREEN_REGION  # the one kind this module produces (engine.RECOMMENDERS)

ASSUMED_CPU_PCT = 50.0


def recommend(ctx: RecommenderContext, after: Mapping[str, Recommendation] | None = None) -> list[Recommendation]:
    """Green-region moves; `after` maps resource ids to their kept rightsize, which the move builds on."""
    t = ctx.thresholds
    out: list[Recommendation] = []
    for original in ctx.inventory.resources:
        resize = (after or {}).get(original.resource_id)
        p = original
        if resize is not None and resize.suggested_machine_type:
            p = replace(original, machine_type=resize.suggested_machine_type,
                        monthly_cost=max(original.monthly_cost - resize.monthly_savings, 0.0))
        machine = ctx.machine(p)
        here = ctx.carbon.region(p.provider, p.region)
        if p.kind != "vm" or machine is None or here is None or p.region is None:
            continue
        prices = ctx.catalog.for_provider(p.provider).regions
        if p.region not in prices:
            continue
        options = []
        for region, mult in prices.items():
            there = ctx.carbon.region(p.provider, region)
            if there is None or region == p.region or there.geography != here.geography:
                continue
            cost_ratio = mult / prices[p.region]
            if there.intensity <= here.intensity * (1 - t.green_min_reduction) and cost_ratio <= 1 + t.green_max_cost_increase:
                options.append((cost_ratio, there.intensity, region))
        if not options:
            continue
        cost_ratio, intensity, region = min(options)  # cheapest first, then cleanest
        cpu = p.window.get("cpu")
        cpu_pct = cpu.avg if cpu else ASSUMED_CPU_PCT
        kg_now = ctx.vm_kg(p, machine, cpu_pct)
        kg_new = ctx.vm_kg(p, machine, cpu_pct, region=region)
        out.append(make(
            p, KIND, f"Move to {region} (grid {intensity:g} vs {here.intensity:g} gCO2e/kWh)",
            evidence={
                "current_intensity_g_per_kwh": here.intensity, "target_intensity_g_per_kwh": intensity,
                "geography": here.geography, "price_multiplier_ratio": round(cost_ratio, 4),
                "avg_cpu_used": round(cpu_pct, 2), "cpu_assumed": cpu is None,
                "machine_type": p.machine_type, "after_rightsize_to": resize.suggested_machine_type if resize else None,
                "caveats": "data transfer out of the old region, user latency, data residency and service "
                           "availability in the new region",
            },
            savings=p.monthly_cost * (1 - cost_ratio),
            co2e=(kg_new - kg_now) if kg_now is not None and kg_new is not None else None,
            confidence=0.6 if cpu else 0.4,
            risk=("medium", "region move: check user latency, data residency and service availability; "
                            "needs a migration window"),
            target=region, target_region=region, monthly_cost=original.monthly_cost,
        ))
    return out
