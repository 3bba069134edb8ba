"""Cost analysis over the ledger: summaries, daily series, month-end forecast, anomalies.

All amounts are FOCUS EffectiveCost (after discounts and amortised commitments) unless a
field says billed. Every function reads one scope (`guild_id`) only, is blocking, and runs
through `Ledger.run`.

Currencies: amounts are never converted (there is no exchange-rate source) and never
added across currencies. A single figure (a summary total, a forecast, the chart's series)
is in one currency, the one most lines are billed in unless asked, with a note naming the
others; anomalies are looked for per (service, currency).

Forecast method: cost of the month's complete days + (mean daily cost of the last 7 complete
days) x the days still to come; "today" is the last day with data, so a late export does not
shrink it. Only days on or after the currency's first charge count towards the mean, and a
last day whose charges stop before midnight is not complete (it is projected, not counted).
Anomalies: per service and currency, a day is anomalous when its robust z-score
0.6745 x (cost - median) / MAD >= 3.5 (Iglewicz & Hoaglin) and it differs from the median by
at least 1 (of the billing currency); MAD = 0 (a perfectly flat series) falls back to
1.4826 x the mean absolute deviation so a single spike on a flat line is still found.
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
    # the key is quoted as one JSON path member, so `app.kubernetes.io/name` is not read as a nested path
    "tag": "COALESCE(json_extract_string(tags, '$.\"' || replace(?, '\"', '\\\"') || '\"'), '(untagged)')",
    "day": "CAST(CAST(charge_period_start AS DATE) AS VARCHAR)",
    "region": "COALESCE(region_id, '(none)')",
    "resource": "COALESCE(resource_name, resource_id, '(none)')",
}
RUN_RATE_DAYS = 7
COMPLETE_DAY_SLACK = timedelta(minutes=1)  # hourly exports may end the day at 23:59:59
Z_THRESHOLD = 3.5
MIN_ANOMALY_AMOUNT = 1.0  # in the series' billing currency: a noise floor, not a price
MIN_CHARGED_DAYS = 7  # a service needs this much history before any of its days is called unusual
MIN_SAME_KIND_DAYS = 4  # charged weekdays (or weekend days) needed to compare a day with its own kind


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


def _primary(lines: dict[str | None, int], wanted: str | None = None) -> str | None:
    """The currency to report in: `wanted` when given, else the one most cost lines are billed in.

    Why pick one: amounts are never converted (no exchange-rate source), so a figure that
    adds two currencies means nothing; ties go to the alphabetically first, for stable output.
    """
    if wanted is not None:
        return wanted
    return min(lines, key=lambda c: (-lines[c], c or ""), default=None)


def _left_out(amounts: dict[str | None, float], primary: str | None, what: str) -> tuple[str, ...]:
    """A note naming the other currencies and their amounts, which a single-currency figure leaves out."""
    others = {c: v for c, v in amounts.items() if c != primary}
    if not others:
        return ()
    listed = ", ".join(f"{v:,.2f} {c or 'unknown currency'}" for c, v in sorted(others.items(), key=lambda i: i[0] or ""))
    return (f"more than one billing currency ({', '.join(sorted(c or 'unknown' for c in amounts))}); amounts are "
            f"not converted, so {what} shows {primary or 'unknown currency'} only (left out: {listed})",)


def cost_summary(conn: duckdb.DuckDBPyConnection, guild_id: int, by: str = "service", start: date | None = None,
                 end: date | None = None, tag_key: str = "env", currency: str | None = None) -> CostSummary:
    """Billed and effective cost of one scope grouped by one dimension, largest first (by day: in date order).

    Only one currency is summed: `currency`, or the one most lines are billed in; a note
    names the others and their totals. Without a date range the covered period and the
    currencies come from `scope_extent`, so a one-currency summary costs one plain GROUP BY
    over the scope's rows and nothing more; a mixed one groups by currency too.
    """
    if by not in GROUP_EXPRESSIONS:
        raise InvalidInput(field="by", rule=f"must be one of {', '.join(GROUP_EXPRESSIONS)}")
    lo, hi = _range(start, end)
    params: list[object] = [tag_key] if by == "tag" else []
    order = "key" if by == "day" else "effective DESC, key"
    first, last, currencies = _extent(conn, guild_id, start, end)
    if len(currencies) <= 1 and currency in (None, *currencies):
        # One currency (the usual case, known without a scan): one plain GROUP BY.
        rows = conn.execute(
            f"SELECT {GROUP_EXPRESSIONS[by]} AS key, sum(billed_cost) AS billed, sum(effective_cost) AS effective "  # noqa: S608
            "FROM cost_lines WHERE guild_id = ? AND charge_period_start >= ? AND charge_period_start < ? "
            f"GROUP BY 1 ORDER BY {order}",
            [*params, guild_id, lo, hi],
        ).fetchall()
        chosen = currencies[0] if currencies else None
        mine = [(k, b, e) for k, b, e in rows]
        notes: tuple[str, ...] = ()
    else:
        rows = conn.execute(
            f"SELECT {GROUP_EXPRESSIONS[by]} AS key, billing_currency, sum(billed_cost) AS billed, "  # noqa: S608
            "sum(effective_cost) AS effective, count(*) FROM cost_lines WHERE guild_id = ? AND charge_period_start >= ? "
            f"AND charge_period_start < ? GROUP BY 1, 2 ORDER BY {order}",
            [*params, guild_id, lo, hi],
        ).fetchall()
        lines: dict[str | None, int] = defaultdict(int)
        effective: dict[str | None, float] = defaultdict(float)
        for _key, cur, _billed, eff, n in rows:
            lines[cur] += n
            effective[cur] += eff
        chosen = _primary(lines, currency)
        mine = [(k, b, e) for k, cur, b, e, _n in rows if cur == chosen]
        notes = _left_out(effective, chosen, "this summary")
    if not rows:
        first = last = None
    total_eff = sum(r[2] for r in mine)
    return CostSummary(
        by=by if by != "tag" else f"tag:{tag_key}", start=first.date() if first else None,
        end=last.date() if last else None, currency=chosen,
        total_billed_cost=round(sum(r[1] for r in mine), 2), total_effective_cost=round(total_eff, 2),
        groups=tuple(CostGroup(key=str(k), billed_cost=round(b, 2), effective_cost=round(e, 2),
                               share=round(e / total_eff, 4) if total_eff else 0.0) for k, b, e in mine),
        notes=notes,
    )


def daily_service_costs(conn: duckdb.DuckDBPyConnection, guild_id: int, start: date | None = None,
                        end: date | None = None, currency: str | None = None) -> DailyServiceCosts:
    """Effective cost per service per day of one scope in one currency, zero-filled, for charts and anomalies.

    The currency is `currency`, or the one most lines in the range are billed in; a note
    names the others (anomalies call this once per currency).
    """
    lo, hi = _range(start, end)
    rows = conn.execute(
        "SELECT provider || ' · ' || COALESCE(service_name, '(none)'), CAST(charge_period_start AS DATE), "
        "billing_currency, sum(effective_cost), count(*) FROM cost_lines WHERE guild_id = ? "
        "AND charge_period_start >= ? AND charge_period_start < ? GROUP BY 1, 2, 3 ORDER BY 1, 2",
        [guild_id, lo, hi]).fetchall()
    lines: dict[str | None, int] = defaultdict(int)
    amounts: dict[str | None, float] = defaultdict(float)
    for _key, _day, cur, cost, n in rows:
        lines[cur] += n
        amounts[cur] += cost
    chosen = _primary(lines, currency)
    mine = [(k, d, c) for k, d, cur, c, _n in rows if cur == chosen]
    notes = _left_out(amounts, chosen, "the daily series")
    if not mine:
        return DailyServiceCosts(currency=chosen, days=(), series={}, notes=notes)
    first, last = min(r[1] for r in mine), max(r[1] for r in mine)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    for key, day, cost in mine:
        series[key][index[day]] = round(float(cost), 6)
    return DailyServiceCosts(currency=chosen, days=days, series={k: tuple(v) for k, v in sorted(series.items())},
                             notes=notes)


def forecast(conn: duckdb.DuckDBPyConnection, guild_id: int, as_of: date | None = None,
             currency: str | None = None) -> Forecast | None:
    """One scope's month-to-date and month-end forecast in one currency for the month of `as_of`.

    `as_of` defaults to the last day with data. The currency is `currency`, or the one most
    of the month's lines are billed in; a note names the others. The run rate averages only
    complete days on or after the first charge day of that currency, so a scope imported
    three days ago is not diluted by days it never had, and a last day whose charges stop
    before midnight (an hourly export mid-day) is replaced by the run rate, not taken as a day.
    """
    if as_of is None:
        row = conn.execute("SELECT max(CAST(charge_period_start AS DATE)) FROM cost_lines WHERE guild_id = ?",
                           [guild_id]).fetchone()
        if not row or row[0] is None:
            return None
        as_of = row[0]
    month_start = as_of.replace(day=1)
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    prev_start = (month_start - timedelta(days=1)).replace(day=1)
    window_start = min(prev_start, as_of - timedelta(days=RUN_RATE_DAYS))
    rows = conn.execute(
        "SELECT billing_currency, CAST(charge_period_start AS DATE) AS d, sum(effective_cost), count(*), "
        "max(charge_period_end) FROM cost_lines "
        "WHERE guild_id = ? AND charge_period_start >= ? AND charge_period_start < ? GROUP BY 1, 2",
        [guild_id, datetime.combine(window_start, time()), datetime.combine(as_of + timedelta(days=1), time())],
    ).fetchall()
    lines: dict[str | None, int] = defaultdict(int)
    month_amounts: dict[str | None, float] = defaultdict(float)
    for cur, d, cost, n, _end in rows:
        if d >= month_start:
            lines[cur] += n
            month_amounts[cur] += cost
    if not lines:  # nothing this month: fall back to the currencies of the window
        for cur, _d, _cost, n, _end in rows:
            lines[cur] += n
    chosen = _primary(lines, currency)
    daily = {d: float(c) for cur, d, c, _n, _end in rows if cur == chosen}
    last_end = max((e for cur, d, _c, _n, e in rows if cur == chosen and d == as_of and e is not None), default=None)
    first_row = conn.execute(
        "SELECT min(CAST(charge_period_start AS DATE)) FROM cost_lines WHERE guild_id = ? "
        "AND billing_currency IS NOT DISTINCT FROM ?", [guild_id, chosen]).fetchone()
    first_day: date = first_row[0] if first_row and first_row[0] is not None else as_of
    notes = list(_left_out(month_amounts, chosen, "this forecast"))

    next_midnight = datetime.combine(as_of + timedelta(days=1), time())
    complete = as_of not in daily or last_end is None or last_end >= next_midnight - COMPLETE_DAY_SLACK
    complete_through = as_of if complete else as_of - timedelta(days=1)
    rate_from = max(first_day, complete_through - timedelta(days=RUN_RATE_DAYS - 1))
    rate_days = (complete_through - rate_from).days + 1
    if rate_days > 0:
        rate = sum(daily.get(rate_from + timedelta(days=i), 0.0) for i in range(rate_days)) / rate_days
        basis = f"mean daily cost of {rate_days} complete day{'s' if rate_days != 1 else ''}, " \
                f"{rate_from} to {complete_through} ({rate:.2f})"
    else:  # only an incomplete first day: scale what it has to 24 hours
        hours = max((last_end - datetime.combine(as_of, time())).total_seconds() / 3600, 1.0) if last_end else 24.0
        rate = daily.get(as_of, 0.0) / hours * 24
        basis = f"the first day's {hours:.1f} hours scaled to 24 ({rate:.2f})"
    if rate_days < RUN_RATE_DAYS:
        notes.append(f"run rate from {max(rate_days, 0)} complete day(s) of history (first charge {first_day}), "
                     f"not {RUN_RATE_DAYS}")
    if not complete:
        notes.append(f"{as_of} is incomplete (charges end {last_end:%H:%M} UTC); the run rate stands in for it")
    mtd = sum(c for d, c in daily.items() if month_start <= d <= as_of)
    settled = sum(c for d, c in daily.items() if month_start <= d <= complete_through)
    to_project = days_in_month - (complete_through.day if complete_through >= month_start else 0)
    remaining = days_in_month - as_of.day
    prev_days = [d for d in daily if prev_start <= d < month_start]
    prev_total = sum(daily[d] for d in prev_days) if len(prev_days) == (month_start - prev_start).days else None
    return Forecast(
        month=month_start.strftime("%Y-%m"), as_of=as_of, currency=chosen,
        month_to_date=round(mtd, 2), daily_run_rate=round(rate, 2), days_elapsed=as_of.day,
        days_remaining=remaining, forecast_month_end=round(settled + rate * to_project, 2),
        previous_month_total=round(prev_total, 2) if prev_total is not None else None,
        method=f"cost of the month's complete days ({settled:.2f}) + {basis} x {to_project} days to come",
        notes=tuple(notes),
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


def _baseline(values: np.ndarray, weekend: np.ndarray, i: int) -> tuple[np.ndarray, str]:
    """The charged days day `i` is compared with: the same kind of day (weekday or weekend) when the
    series holds at least `MIN_SAME_KIND_DAYS` of them, else every charged day."""
    charged = values > 0
    same = charged & (weekend == weekend[i])
    if int(same.sum()) >= MIN_SAME_KIND_DAYS:
        return values[same], "weekend days" if weekend[i] else "weekdays"
    return values[charged], "days"


def anomalies(conn: duckdb.DuckDBPyConnection, guild_id: int, start: date | None = None, end: date | None = None,
              threshold: float = Z_THRESHOLD) -> AnomalyReport:
    """Charged days whose cost for a service is far from that service's usual charged day, in one scope.

    Why this shape: real bills hold services that do not charge every day (a monthly fee, a
    weekly batch), so a zero-filled series has a median of 0 and every charge looks like a
    spike "vs expected 0". Here a series needs `MIN_CHARGED_DAYS` charged days before any of
    its days is judged, only charged days are judged and form the baseline, and the baseline
    is the same kind of day (weekdays vs weekends: dev fleets and office workloads bill less
    on weekends). Each (service, billing currency) is its own series: a service billed in two
    currencies would otherwise add yen to dollars and look like a spike. Each anomaly carries
    the reason it is one.
    """
    lo, hi = _range(start, end)
    currencies = [r[0] for r in conn.execute(
        "SELECT DISTINCT billing_currency FROM cost_lines WHERE guild_id = ? AND charge_period_start >= ? "
        "AND charge_period_start < ?", [guild_id, lo, hi]).fetchall()]
    items: list[Anomaly] = []
    all_days: list[date] = []
    for cur in sorted(currencies, key=lambda c: c or ""):
        daily = daily_service_costs(conn, guild_id, start, end, currency=cur)
        all_days += [daily.days[0], daily.days[-1]] if daily.days else []
        weekend = np.array([d.isoweekday() >= 6 for d in daily.days], dtype=bool)
        for key, series in daily.series.items():
            values = np.array(series)
            if int((values > 0).sum()) < MIN_CHARGED_DAYS:
                continue
            provider, _, service = key.partition(" · ")
            for i in np.flatnonzero(values > 0):
                base, kind = _baseline(values, weekend, int(i))
                z_all, median = robust_z(base)
                z = _z_of(values[i], base, median, z_all)
                if abs(z) < threshold or abs(values[i] - median) < MIN_ANOMALY_AMOUNT:
                    continue
                day = daily.days[i]
                direction = "above" if values[i] > median else "below"
                reason = (f"{values[i]:,.2f} {cur or ''} on {day:%a %Y-%m-%d} is {abs(values[i] - median):,.2f} "
                          f"{direction} the median of {base.size} charged {kind} ({median:,.2f}); robust z {z:+.1f}, "
                          f"flagged from |z| >= {threshold}").replace("  ", " ")
                items.append(Anomaly(day=day, service=service, provider=provider, currency=cur,
                                     amount=round(float(values[i]), 2), expected=round(median, 2),
                                     robust_z=round(float(z), 2), reason=reason, baseline_days=int(base.size)))
    items.sort(key=lambda a: (a.day, a.provider, a.service, a.currency or ""))
    return AnomalyReport(
        start=min(all_days, default=None), end=max(all_days, default=None),
        threshold=threshold, items=tuple(items),
        method=(f"per service and currency, series with >= {MIN_CHARGED_DAYS} charged days; each charged day vs the "
                f"median of the charged days of its kind (weekdays or weekends, when >= {MIN_SAME_KIND_DAYS}): robust "
                f"z = 0.6745 x (cost - median) / MAD, flagged at |z| >= {threshold} and >= {MIN_ANOMALY_AMOUNT:.0f} "
                "(in the billing currency) from the median"),
    )


def _z_of(value: float, base: np.ndarray, median: float, z_all: np.ndarray) -> float:
    """The robust z of `value` against `base` (which holds it), from the scores `robust_z` gave."""
    at = np.flatnonzero(base == value)
    return float(z_all[at[0]]) if at.size else 0.0


__all__ = ["GROUP_EXPRESSIONS", "anomalies", "cost_summary", "daily_service_costs", "forecast", "robust_z"]
