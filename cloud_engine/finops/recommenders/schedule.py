"""Off-hours schedules for dev/test/staging VMs that are only busy on weekdays.

A VM qualifies when its env (or environment) tag is in `schedule_env_values`, every observed
weekend day is idle, and at least one weekday is busy. The on-window is the span of
weekday hours whose P95 CPU exceeds the idle threshold (08:00–20:00 UTC when hourly data is
missing); savings = monthly cost x (1 - on-hours per week / 168).
"""

from __future__ import annotations

from cloud_engine.finops.models import Recommendation, RecommendationKind
from cloud_engine.finops.recommenders.base import RecommenderContext, insufficient, make, recent_days

KIND = RecommendationKind.SCHEDULE  # the one kind this module produces (engine.RECOMMENDERS)

HOURS_PER_WEEK = 168
DEFAULT_WINDOW = (8, 20)


def _on_window(hourly: dict[tuple[bool, int], float], idle_pct: float) -> tuple[int, int]:
    weekday = {h: v for (weekend, h), v in hourly.items() if not weekend}
    busy = [h for h, v in weekday.items() if v > idle_pct]
    if len(weekday) < 24 or not busy:
        return DEFAULT_WINDOW
    return min(busy), max(busy) + 1


def recommend(ctx: RecommenderContext) -> list[Recommendation]:
    t = ctx.thresholds
    end = ctx.inventory.metrics_end.date() if ctx.inventory.metrics_end else None
    out: list[Recommendation] = []
    for p in ctx.inventory.resources:
        machine = ctx.machine(p)
        env = (p.tags.get("env") or p.tags.get("environment") or "").lower()
        if p.kind != "vm" or machine is None or env not in t.schedule_env_values:
            continue
        cpu = recent_days(p.daily.get("cpu", []), end, 28)
        weekend = [d for d in cpu if d.day.weekday() >= 5]
        weekdays = [d for d in cpu if d.day.weekday() < 5]
        if len(cpu) < t.min_telemetry_days or not weekend:
            out.append(insufficient(p, KIND, [
                f"cpu (percent) for at least {t.min_telemetry_days} days including a weekend (have {len(cpu)})"],
                {"days_observed": len(cpu), "env": env}))
            continue
        if any(d.p95 > t.idle_cpu_pct for d in weekend) or not any(d.p95 > t.idle_cpu_pct for d in weekdays):
            continue
        start, stop = _on_window(p.cpu_hourly, t.idle_cpu_pct)
        on_hours = (stop - start) * 5
        off_fraction = 1 - on_hours / HOURS_PER_WEEK
        idle_cpu = sum(d.avg for d in weekend) / len(weekend)
        kg_off = ctx.vm_kg(p, machine, idle_cpu)
        out.append(make(
            p, KIND,
            f"Schedule: run {start:02d}:00–{stop:02d}:00 UTC Mon–Fri ({stop - start} h × 5 days = {on_hours} h/week), "
            "stop otherwise",
            evidence={
                "window_start": cpu[0].day.isoformat(), "window_end": cpu[-1].day.isoformat(), "env": env,
                "days_observed": len(cpu), "weekend_days_idle": len(weekend),
                "weekday_p95_cpu_max": round(max(d.p95 for d in weekdays), 2),
                "weekend_p95_cpu_max": round(max(d.p95 for d in weekend), 2),
                "on_hours_per_week": on_hours, "off_fraction": round(off_fraction, 4),
            },
            savings=p.monthly_cost * off_fraction, co2e=-kg_off * off_fraction if kg_off is not None else None,
            confidence=0.5 + 0.45 * min(len(cpu), 28) / 28,
            risk=("low" if env in ("dev", "test") else "medium",
                  f"{env} environment; anyone working outside the window must start it on demand"),
            target=f"{start:02d}-{stop:02d}",
        ))
    return out
