"""Cost analysis over the ledger: summaries, daily series, month-end forecast, anomalies.

All amounts are FOCUS EffectiveCost (after discounts and amortised commitments) unless a
field says billed. Every function reads one scope (`guild_id`) only, is blocking, and runs
through `Ledger.run`.

Forecast method: month-to-date + (mean daily cost of the last 7 complete days) x days left
in the month; "today" is the last day with data, so a late export does not shrink it.
Anomalies: per service, a day is anomalous when its robust z-score
0.6745 x (cost - median) / MAD >= 3.5 (Iglewicz & Hoaglin) and it differs from the median by
at least $1; MAD = 0 (a perfectly flat series) falls back to 1.4826 x the mean absolute
deviation so a single spike on a flat line is still found.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import duckdb
import numpy as np

from cloud_engine.errors import InvalidInput
from cloud_engine.finops.ledger_imports import scope_extent
from cloud_engine.finops.models import (
    Anomaly,
    AnomalyReport,
    CostGroup,
    CostSummary,
    DailyServiceCosts,
    Forecast,
)

GROUP_EXPRESSIONS = {
    "service": "COALESCE(service_name, '(none)')",
    "provider": "provider",
    "project": "COALESCE(sub_account_name, json_extract_string(tags, '$.project'), '(none)')",
    "tag": "COALESCE(json_extract_string(tags, '$.' || ?), '(untagged)')",
    "day": "CAST(CAST(charge_period_start AS DATE) AS VARCHAR)",
    "region": "COALESCE(region_id, '(none)')",
    "resource": "COALESCE(resource_name, resource_id, '(none)')",
}
RUN_RATE_DAYS = 7
Z_THRESHOLD = 3.5
MIN_ANOMALY_USD = 1.0


def _range(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time()) if start else datetime(1970, 1, 1)
    hi = datetime.combine(end + timedelta(days=1), time()) if end else datetime(9999, 1, 1)
    return lo, hi


def _extent(conn: duckdb.DuckDBPyConnection, guild_id: int, start: date | None,
            end: date | None) -> tuple[datetime | None, datetime | None, list[str]]:
    """First and last charge start and the currencies of a scope, within [start, end] when given."""
    if start is None and end is None:
        return scope_extent(conn, guild_id)  # from the imports table, no scan of the ledger
    lo, hi = _range(start, end)
    row = conn.execute(
        "SELECT min(charge_period_start), max(charge_period_start), list(DISTINCT billing_currency) FROM cost_lines "
        "WHERE guild_id = ? AND charge_period_start >= ? AND charge_period_start < ?", [guild_id, lo, hi]).fetchone()
    if row is None:
        return None, None, []
    return row[0], row[1], sorted(c for c in row[2] or [] if c)


def cost_summary(conn: duckdb.DuckDBPyConnection, guild_id: int, by: str = "service", start: date | None = None,
                 end: date | None = None, tag_key: str = "env") -> CostSummary:
    """Billed and effective cost of one scope grouped by one dimension, largest first (by day: in date order).

    Without a date range the covered period and currencies come from `scope_extent`, so
    the summary costs one GROUP BY over the scope's rows and nothing more.
    """
    if by not in GROUP_EXPRESSIONS:
        raise InvalidInput(field="by", rule=f"must be one of {', '.join(GROUP_EXPRESSIONS)}")
    lo, hi = _range(start, end)
    params: list[object] = [tag_key] if by == "tag" else []
    order = "key" if by == "day" else "effective DESC, key"
    rows = conn.execute(
        f"SELECT {GROUP_EXPRESSIONS[by]} AS key, sum(billed_cost) AS billed, sum(effective_cost) AS effective "  # noqa: S608
        "FROM cost_lines WHERE guild_id = ? AND charge_period_start >= ? AND charge_period_start < ? "
        f"GROUP BY 1 ORDER BY {order}",
        [*params, guild_id, lo, hi],
    ).fetchall()
    first, last, currencies = _extent(conn, guild_id, start, end) if rows else (None, None, [])
    total_eff = sum(r[2] for r in rows)
    notes = (f"more than one billing currency ({', '.join(currencies)}); amounts are not converted",) \
        if len(currencies) > 1 else ()
    return CostSummary(
        by=by if by != "tag" else f"tag:{tag_key}", start=first.date() if first else None,
        end=last.date() if last else None, currency=currencies[0] if currencies else None,
        total_billed_cost=round(sum(r[1] for r in rows), 2), total_effective_cost=round(total_eff, 2),
        groups=tuple(CostGroup(key=str(k), billed_cost=round(b, 2), effective_cost=round(e, 2),
                               share=round(e / total_eff, 4) if total_eff else 0.0) for k, b, e in rows),
        notes=notes,
    )


def daily_service_costs(conn: duckdb.DuckDBPyConnection, guild_id: int, start: date | None = None,
                        end: date | None = None) -> DailyServiceCosts:
    """Effective cost per service per day of one scope, zero-filled, for charts and anomaly detection."""
    lo, hi = _range(start, end)
    rows = conn.execute(
        "SELECT provider || ' · ' || COALESCE(service_name, '(none)'), CAST(charge_period_start AS DATE), "
        "sum(effective_cost) FROM cost_lines WHERE guild_id = ? AND charge_period_start >= ? "
        "AND charge_period_start < ? GROUP BY 1, 2 ORDER BY 1, 2", [guild_id, lo, hi]).fetchall()
    cur = conn.execute("SELECT any_value(billing_currency) FROM cost_lines WHERE guild_id = ?", [guild_id]).fetchone()
    if not rows:
        return DailyServiceCosts(currency=cur[0] if cur else None, days=(), series={})
    first, last = min(r[1] for r in rows), max(r[1] for r in rows)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    for key, day, cost in rows:
        series[key][index[day]] = round(float(cost), 6)
    return DailyServiceCosts(currency=cur[0] if cur else None, days=days,
                             series={k: tuple(v) for k, v in sorted(series.items())})


def forecast(conn: duckdb.DuckDBPyConnection, guild_id: int, as_of: date | None = None) -> Forecast | None:
    """One scope's month-to-date and month-end forecast for the month of `as_of` (default: last day with data)."""
    if as_of is None:
        row = conn.execute("SELECT max(CAST(charge_period_start AS DATE)) FROM cost_lines WHERE guild_id = ?",
                           [guild_id]).fetchone()
        if not row or row[0] is None:
            return None
        as_of = row[0]
    month_start = as_of.replace(day=1)
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    prev_start = (month_start - timedelta(days=1)).replace(day=1)
    rows = conn.execute(
        "SELECT CAST(charge_period_start AS DATE) AS d, sum(effective_cost) FROM cost_lines "
        "WHERE guild_id = ? AND charge_period_start >= ? AND charge_period_start < ? GROUP BY 1",
        [guild_id, datetime.combine(min(prev_start, as_of - timedelta(days=RUN_RATE_DAYS)), time()),
         datetime.combine(as_of + timedelta(days=1), time())]).fetchall()
    daily = {d: float(c) for d, c in rows}
    mtd = sum(c for d, c in daily.items() if month_start <= d <= as_of)
    recent = [daily.get(as_of - timedelta(days=i), 0.0) for i in range(RUN_RATE_DAYS)]
    rate = sum(recent) / RUN_RATE_DAYS
    remaining = days_in_month - as_of.day
    prev_days = [d for d in daily if prev_start <= d < month_start]
    prev_total = sum(daily[d] for d in prev_days) if len(prev_days) == (month_start - prev_start).days else None
    cur = conn.execute("SELECT any_value(billing_currency) FROM cost_lines WHERE guild_id = ?", [guild_id]).fetchone()
    return Forecast(
        month=month_start.strftime("%Y-%m"), as_of=as_of, currency=cur[0] if cur else None,
        month_to_date=round(mtd, 2), daily_run_rate=round(rate, 2), days_elapsed=as_of.day,
        days_remaining=remaining, forecast_month_end=round(mtd + rate * remaining, 2),
        previous_month_total=round(prev_total, 2) if prev_total is not None else None,
        method=f"month-to-date + mean daily cost of the last {RUN_RATE_DAYS} days ({rate:.2f}) x {remaining} "
               "remaining days",
    )


def robust_z(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Robust z-scores and the median of a series (MAD, with a mean-deviation fallback)."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if mad > 0:
        return 0.6745 * (values - median) / mad, median
    mean_ad = float(np.mean(np.abs(values - median)))
    if mean_ad == 0:
        return np.zeros_like(values), median
    return (values - median) / (1.2533 * mean_ad), median


def anomalies(conn: duckdb.DuckDBPyConnection, guild_id: int, start: date | None = None, end: date | None = None,
              threshold: float = Z_THRESHOLD) -> AnomalyReport:
    """Days whose cost for a service is far from that service's median day, in one scope."""
    daily = daily_service_costs(conn, guild_id, start, end)
    items: list[Anomaly] = []
    for key, series in daily.series.items():
        values = np.array(series)
        if values.size < 7:
            continue
        z, median = robust_z(values)
        provider, _, service = key.partition(" · ")
        for i in np.flatnonzero(np.abs(z) >= threshold):
            if abs(values[i] - median) >= MIN_ANOMALY_USD:
                items.append(Anomaly(day=daily.days[i], service=service, provider=provider,
                                     amount=round(float(values[i]), 2), expected=round(median, 2),
                                     robust_z=round(float(z[i]), 2)))
    items.sort(key=lambda a: (a.day, a.provider, a.service))
    return AnomalyReport(
        start=daily.days[0] if daily.days else None, end=daily.days[-1] if daily.days else None,
        threshold=threshold, items=tuple(items),
        method=f"robust z = 0.6745 x (cost - median) / MAD per service; flagged at |z| >= {threshold} "
               f"and >= ${MIN_ANOMALY_USD:.0f} from the median",
    )


__all__ = ["GROUP_EXPRESSIONS", "anomalies", "cost_summary", "daily_service_costs", "forecast", "robust_z"]
