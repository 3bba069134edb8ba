"""`replace_window`: a re-issued export is authoritative for its window, so charges it dropped leave the ledger."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.ledger import Ledger
from cloud_engine.finops.ledger_schema import VERSION
from tests.cloud_engine.finops.conftest import GUILD

OTHER = 2
HEADER = ["BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
          "RegionId", "ProviderName", "BillingAccountId", "BillingCurrency"]


def line(day: int, cost: float, resource: str, *, provider: str = "AWS", account: str = "111",
         currency: str = "USD") -> list[object]:
    return [cost, cost * 0.9, f"2026-11-{day:02d}T00:00:00Z", f"2026-11-{day + 1:02d}T00:00:00Z", "Amazon EC2",
            resource, "us-east-1", provider, account, currency]


def export(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def reissue(tmp_path: Path) -> tuple[Path, Path]:
    """Export A holds X, Y, Z; the re-issued B keeps X, corrects Y and drops Z (one provider and account).

    B's window is its first to last ChargePeriodStart (Nov 1 to 3), which holds Z's (Nov 2).
    """
    first = export(tmp_path / "nov.csv", [line(1, 10, "x"), line(3, 20, "y"), line(2, 30, "z")])
    again = export(tmp_path / "nov-reissued.csv", [line(1, 10, "x"), line(3, 25, "y")])
    return first, again


async def resources(service: FinOpsService, guild: int = GUILD) -> dict[str, float]:
    rows = await service.ledger.run(lambda c: c.execute(
        "SELECT resource_id, billed_cost FROM cost_lines WHERE guild_id = ? ORDER BY 1", [guild]).fetchall())
    return dict(rows)


async def history(service: FinOpsService) -> list[tuple[object, ...]]:
    return await service.ledger.run(lambda c: c.execute(
        "SELECT r.guild_id, resource_id, previous_billed_cost, previous_effective_cost, billed_cost, effective_cost, "
        "removed, p.source_name, n.source_name FROM cost_restatements r "
        "JOIN ledger_imports p ON p.import_id = r.previous_import_id "
        "JOIN ledger_imports n ON n.import_id = r.import_id ORDER BY resource_id").fetchall())


async def test_replace_window_removes_a_charge_the_reissued_export_dropped(service: FinOpsService,
                                                                           tmp_path: Path) -> None:
    first, again = reissue(tmp_path)
    await service.ingest_focus_file(first, guild_id=GUILD)
    report = await service.ingest_focus_file(again, guild_id=GUILD, replace_window=True)
    assert (report.rows_read, report.rows_added, report.rows_restated, report.rows_unchanged,
            report.rows_removed) == (2, 0, 1, 1, 1)
    assert report.rows_read == report.rows_added + report.rows_restated + report.rows_unchanged + report.rows_merged
    assert await resources(service) == {"x": 10, "y": 25}
    assert (await service.cost_summary(guild_id=GUILD)).total_billed_cost == 35  # B's total
    assert await history(service) == [
        (GUILD, "y", 20.0, 18.0, 25.0, 22.5, False, "nov.csv", "nov-reissued.csv"),
        (GUILD, "z", 30.0, 27.0, 0.0, 0.0, True, "nov.csv", "nov-reissued.csv"),
    ]
    logged = (await service.recent_runs(guild_id=GUILD))[0]  # the ingestion log counts the removal too
    assert (logged["source_name"], logged["rows_restated"], logged["rows_removed"]) == ("nov-reissued.csv", 1, 1)


async def test_without_replace_window_a_dropped_charge_stays(service: FinOpsService, tmp_path: Path) -> None:
    first, again = reissue(tmp_path)
    await service.ingest_focus_file(first, guild_id=GUILD)
    report = await service.ingest_focus_file(again, guild_id=GUILD)
    assert (report.rows_restated, report.rows_unchanged, report.rows_removed) == (1, 1, 0)
    assert await resources(service) == {"x": 10, "y": 25, "z": 30}
    assert [(r[1], r[6]) for r in await history(service)] == [("y", False)]


async def test_replace_window_touches_only_its_scope_providers_accounts_and_window(service: FinOpsService,
                                                                                 tmp_path: Path) -> None:
    stored = export(tmp_path / "nov.csv", [
        line(1, 1, "before-window"), line(2, 2, "dropped"), line(3, 3, "kept"), line(4, 4, "dropped-too"),
        line(5, 5, "after-window"),
        line(3, 6, "other-account", account="222"), line(3, 7, "no-account", account=""),
        line(3, 8, "other-provider", provider="Microsoft"),
    ])
    await service.ingest_focus_file(stored, guild_id=GUILD)
    await service.ingest_focus_file(stored, guild_id=OTHER)
    theirs = await resources(service, OTHER)
    reissued = export(tmp_path / "nov-2-4.csv", [line(2, 20, "new"), line(3, 3, "kept"), line(4, 40, "new")])
    report = await service.ingest_focus_file(reissued, guild_id=GUILD, replace_window=True)
    assert (report.rows_added, report.rows_unchanged, report.rows_removed) == (2, 1, 2)
    assert set(await resources(service)) == {"before-window", "kept", "after-window", "other-account", "no-account",
                                             "other-provider", "new"}
    assert len(theirs) == 8 and await resources(service, OTHER) == theirs  # the other server's copy is untouched
    assert [(r[1], r[6]) for r in await history(service)] == [("dropped", True), ("dropped-too", True)]


async def test_no_billing_account_matches_no_billing_account(service: FinOpsService, tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "a.csv", [
        line(1, 1, "gone", account=""), line(1, 2, "stays", account="111")]), guild_id=GUILD)
    report = await service.ingest_focus_file(export(tmp_path / "b.csv", [line(1, 3, "new", account="")]),
                                             guild_id=GUILD, replace_window=True)
    assert (report.rows_added, report.rows_removed) == (1, 1)
    assert await resources(service) == {"new": 3, "stays": 2}


async def test_the_same_replace_import_twice_removes_and_restates_nothing(service: FinOpsService,
                                                                          tmp_path: Path) -> None:
    first, again = reissue(tmp_path)
    await service.ingest_focus_file(first, guild_id=GUILD)
    once = await service.ingest_focus_file(again, guild_id=GUILD, replace_window=True)
    twice = await service.ingest_focus_file(again, guild_id=GUILD, replace_window=True)
    assert (once.rows_restated, once.rows_removed) == (1, 1)
    assert (twice.rows_added, twice.rows_restated, twice.rows_unchanged, twice.rows_removed) == (0, 0, 2, 0)
    assert await resources(service) == {"x": 10, "y": 25}
    assert len(await history(service)) == 2


async def test_a_currency_only_removed_charges_held_leaves_the_summary(service: FinOpsService,
                                                                       tmp_path: Path) -> None:
    await service.ingest_focus_file(export(tmp_path / "a.csv", [line(1, 1, "usd"), line(2, 2, "eur", currency="EUR")]),
                                    guild_id=GUILD)
    assert (await service.cost_summary(guild_id=GUILD)).notes  # two currencies
    await service.ingest_focus_file(export(tmp_path / "b.csv", [line(1, 1, "usd"), line(2, 3, "usd-2")]),
                                    guild_id=GUILD, replace_window=True)
    summary = await service.cost_summary(guild_id=GUILD)
    assert (summary.currency, summary.notes, summary.total_billed_cost) == ("USD", (), 4)


async def test_upload_passes_replace_window_and_a_bad_file_removes_nothing(service: FinOpsService,
                                                                           tmp_path: Path) -> None:
    first, again = reissue(tmp_path)
    await service.ingest_focus_file(first, guild_id=GUILD)
    bad = again.read_text() + "lots,1,2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,Amazon EC2,w,us-east-1,AWS,111,USD\n"
    with pytest.raises(IngestError, match="BilledCost"):
        await service.ingest_focus_bytes(bad.encode(), "bad.csv", guild_id=GUILD, replace_window=True)
    assert await resources(service) == {"x": 10, "y": 20, "z": 30}
    assert await history(service) == []
    report = await service.ingest_focus_bytes(again.read_bytes(), "nov-reissued.csv", guild_id=GUILD,
                                              replace_window=True)
    assert report.rows_removed == 1 and await resources(service) == {"x": 10, "y": 25}


async def test_a_version_2_ledger_gains_the_removed_column(tmp_path: Path) -> None:
    path = tmp_path / "finops.duckdb"
    ledger = await Ledger.open(path)
    await ledger.close()
    conn = duckdb.connect(str(path))  # back to version 2: the restatements table without `removed`
    conn.execute("ALTER TABLE cost_restatements DROP COLUMN removed")
    conn.execute("UPDATE ledger_schema SET version = 2")
    conn.execute("INSERT INTO cost_restatements VALUES (1, 2, 1, 'aws', 'Amazon EC2', 'i-1', '2026-11-01', "
                 "'2026-11-02', 10, 10, 12, 12)")
    conn.close()
    reopened = await Ledger.open(path)
    try:
        rows = await reopened.run(lambda c: c.execute(
            "SELECT previous_billed_cost, billed_cost, removed FROM cost_restatements").fetchall())
        assert rows == [(10.0, 12.0, False)]
        version = await reopened.run(lambda c: c.execute("SELECT version FROM ledger_schema").fetchall())
        assert version == [(VERSION,)] and VERSION == 3
    finally:
        await reopened.close()
