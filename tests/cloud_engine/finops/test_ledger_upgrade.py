"""A ledger file written before scoping and restatement keeps working after the upgrade."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.ledger import Ledger
from cloud_engine.finops.ledger_schema import VERSION
from cloud_engine.settings import Settings
from cloud_engine.store import Database

# The version-1 tables, as the previous release created them.
V1_COST_LINES = """
CREATE TABLE cost_lines (
    row_hash VARCHAR NOT NULL, provider VARCHAR NOT NULL, provider_name VARCHAR, billing_account_id VARCHAR,
    sub_account_id VARCHAR, sub_account_name VARCHAR, service_name VARCHAR, service_category VARCHAR,
    resource_id VARCHAR, resource_name VARCHAR, resource_type VARCHAR, region_id VARCHAR, charge_category VARCHAR,
    charge_description VARCHAR, charge_period_start TIMESTAMP NOT NULL, charge_period_end TIMESTAMP NOT NULL,
    billed_cost DOUBLE NOT NULL, effective_cost DOUBLE NOT NULL, list_cost DOUBLE, billing_currency VARCHAR,
    consumed_quantity DOUBLE, consumed_unit VARCHAR, pricing_unit VARCHAR, sku_id VARCHAR, sku_price_details VARCHAR,
    tags VARCHAR, source_kind VARCHAR NOT NULL, source_name VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL)
"""
V1_METRIC_POINTS = """
CREATE TABLE metric_points (
    row_hash VARCHAR NOT NULL, resource_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
    value DOUBLE NOT NULL, unit VARCHAR NOT NULL, source_kind VARCHAR NOT NULL, source_name VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL)
"""
OCT, NOV = datetime(2026, 11, 1, 8), datetime(2026, 11, 5, 8)
CSV = ("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,ProviderName,"
       "BillingCurrency\n{cost},{cost},2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,Amazon EC2,i-1,us-east-1,AWS,USD\n")


def write_v1_ledger(path: Path) -> None:
    conn = duckdb.connect(str(path))
    conn.execute(V1_COST_LINES)
    conn.execute(V1_METRIC_POINTS)
    charge = "INSERT INTO cost_lines (row_hash, provider, provider_name, service_name, resource_id, region_id, " \
             "billing_currency, charge_period_start, charge_period_end, billed_cost, effective_cost, tags, " \
             "source_kind, source_name, fetched_at) VALUES (?, 'aws', 'AWS', 'Amazon EC2', ?, 'us-east-1', 'USD', " \
             "?, ?, ?, ?, ?, 'focus_file', ?, ?)"
    day1, day2 = datetime(2026, 10, 1), datetime(2026, 10, 2)
    conn.executemany(charge, [
        ("h1", "i-1", day1, day2, 10.0, 10.0, '{"env": "prod"}', "oct.csv", OCT),  # first export ...
        ("h2", "i-2", day1, day2, 3.0, 3.0, None, "oct.csv", OCT),  # ... two lines of one charge
        ("h3", "i-2", day1, day2, 4.0, 4.0, None, "oct.csv", OCT),
        ("h4", "i-1", day1, day2, 12.0, 12.0, None, "oct-reissued.csv", NOV),  # version 1 double count
    ])
    conn.execute("INSERT INTO metric_points VALUES ('m1', 'i-1', 'cpu', ?, 12.5, 'percent', 'metrics_file', "
                 "'cpu.csv', ?)", [day1, OCT])
    conn.close()


async def test_version_1_ledger_is_upgraded_into_scope_0(tmp_path: Path) -> None:
    path = tmp_path / "finops.duckdb"
    write_v1_ledger(path)
    settings = Settings(_env_file=None, database_path=":memory:", finops_db_path=str(path))
    db = await Database.open(":memory:")
    service = await FinOpsService.open(settings, db)
    try:
        rows = await service.ledger.run(lambda c: c.execute(
            "SELECT guild_id, resource_id, billed_cost, source_name FROM cost_lines ORDER BY resource_id").fetchall())
        # i-1: the re-issued export wins over the first (no double count); i-2: its two lines summed.
        assert rows == [(0, "i-1", 12.0, "oct-reissued.csv"), (0, "i-2", 7.0, "oct.csv")]
        assert (await service.cost_summary(guild_id=0)).total_billed_cost == 19
        assert (await service.cost_summary(guild_id=1)).groups == ()
        points = await service.ledger.run(lambda c: c.execute("SELECT guild_id, value FROM metric_points").fetchall())
        assert points == [(0, 12.5)]
        (tmp_path / "oct-reissued.csv").write_text(CSV.format(cost=12))
        again = await service.ingest_focus_file(tmp_path / "oct-reissued.csv", guild_id=0)
        assert (again.rows_added, again.rows_restated, again.rows_unchanged) == (0, 0, 1)
        (tmp_path / "oct-final.csv").write_text(CSV.format(cost=11))
        final = await service.ingest_focus_file(tmp_path / "oct-final.csv", guild_id=0)
        assert (final.rows_added, final.rows_restated) == (0, 1)
        assert (await service.cost_summary(guild_id=0)).total_billed_cost == 18
    finally:
        await service.close()
        await db.close()
    reopened = await Ledger.open(path)  # upgrading is done once
    try:
        version = await reopened.run(lambda c: c.execute("SELECT version FROM ledger_schema").fetchall())
        assert version == [(VERSION,)]
        assert await reopened.run(lambda c: c.execute("SELECT count(*) FROM cost_lines").fetchone()[0]) == 2
    finally:
        await reopened.close()
