"""Reconcile a batch of cost lines, already inserted in the open transaction, with the ledger.

A row's identity is its scope plus the identity columns of `focus_columns` (provider,
accounts, service, resource, SKU, charge category/class/description/frequency, pricing
category, commitment, region, currency, charge period), never its amounts. Two rules
follow from that, and this module applies them:

1. Lines of one import with the same identity are **summed** into one row. They are split
   line items of one charge (providers split a charge by dimensions FOCUS does not carry,
   such as tag values or usage types), so keeping only one would lose money and summing
   keeps the ledger's total equal to the file's total. Attributes (names, tags) come from
   one of those lines, the first in attribute order: the batch is inserted without keeping
   file order (faster), and this choice does not depend on it, so importing the same file
   again picks the same line and reports nothing restated.
2. A charge the ledger already holds is **restated** when any amount or attribute differs:
   the new values replace the old ones and the row records the restating import
   (`import_id`, source, fetched_at); `cost_restatements` keeps the replaced amounts. When
   nothing differs the stored row, with its original provenance, is kept and the line
   counts as unchanged, so re-importing a file or an overlapping window changes nothing.
   Amounts are compared to within 1e-9 of their size, because a sum of split lines can
   differ in its last bit between two imports of one file.

3. Only with `replace_window` (opt-in), the import is **authoritative for its window**: a
   charge the scope held from an earlier import is **removed** when its period start lies
   between the batch's first and last period start, its (ProviderName, BillingAccountId)
   pair occurs in the batch (no account matches no account), and the batch does not name
   it. That is how a re-issued export drops a charge. Other scopes, other providers or
   billing accounts, and periods outside the window are never touched. A removal is kept
   in `cost_restatements` like a restatement to 0 billed and 0 effective, with `removed`
   true. Charges the batch names (restated or unchanged) are never removed: the candidates
   are the window's stored rows that matched no batch row, taken before either delete.

The caller inserted the batch with its own `import_id`; everything here runs in the
caller's transaction, so a failure anywhere leaves the ledger as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from cloud_engine.finops.focus_columns import AMOUNTS, ATTRIBUTES, IDENTITY
from cloud_engine.finops.ledger_imports import forget_currencies

MATCHES = "ledger_matches"
FOLDED = "ledger_folded"
DROPPED = "ledger_dropped"


@dataclass(frozen=True)
class Reconciled:
    """Counts of one reconciliation: `added + restated + unchanged + merged` is the batch's line count;
    `removed` counts stored rows of earlier imports (only with `replace_window`), outside that sum."""

    added: int
    restated: int
    unchanged: int
    merged: int
    removed: int = 0


def same_identity(a: str, b: str) -> str:
    """SQL: rows `a` and `b` name the same charge (NULL equals NULL; empty text is stored as NULL)."""
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in IDENTITY)


def _same_values(a: str, b: str) -> str:
    amounts = [f"COALESCE(({a}.{c} IS NULL AND {b}.{c} IS NULL) OR abs({a}.{c} - {b}.{c}) <= "
               f"1e-9 * greatest(1.0, abs({b}.{c})), false)" for c in AMOUNTS]
    attributes = [f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in ATTRIBUTES]
    return " AND ".join(amounts + attributes)


def fold_split_lines(conn: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Sum the batch's lines that share an identity into one row each; returns lines folded away."""
    identity = ", ".join(IDENTITY)
    first = "min({" + ", ".join(f"'{c}': {c}" for c in ATTRIBUTES) + "})"
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {FOLDED} AS SELECT {identity}, "  # noqa: S608 - fixed column lists
        + ", ".join(f"sum({c}) AS {c}" for c in AMOUNTS) + f", {first} AS attrs, "
        + ", ".join(f"any_value({c}) AS {c}" for c in ("source_kind", "source_name", "fetched_at"))
        + f", count(*) AS lines, list(rowid) AS rids FROM cost_lines WHERE import_id = ? GROUP BY {identity} "
        "HAVING count(*) > 1", [import_id])
    row = conn.execute(f"SELECT COALESCE(sum(lines - 1), 0) FROM {FOLDED}").fetchone()  # noqa: S608
    folded = int(row[0]) if row else 0
    if folded:
        conn.execute(f"DELETE FROM cost_lines WHERE rowid IN (SELECT unnest(rids) FROM {FOLDED})")  # noqa: S608
        attrs = ", ".join(f"attrs.{c} AS {c}" for c in ATTRIBUTES)
        conn.execute(f"INSERT INTO cost_lines BY NAME SELECT * EXCLUDE (attrs, lines, rids), {attrs}, "  # noqa: S608
                     f"? AS import_id FROM {FOLDED}", [import_id])
    conn.execute(f"DROP TABLE IF EXISTS {FOLDED}")
    return folded


def _collect_dropped(conn: duckdb.DuckDBPyConnection, *, import_id: int, guild_id: int, first_start: datetime,
                     last_start: datetime) -> int:
    """Note the scope's stored charges in the window that the batch no longer lists (rule 3); returns their count.

    Runs after `MATCHES` is built and before any delete: a stored row the batch names is in
    `MATCHES` (restated or unchanged), so it is never a candidate.
    """
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {DROPPED} AS SELECT o.rowid AS old_rid, o.import_id AS previous_import_id, "  # noqa: S608
        "o.provider, o.service_name, o.resource_id, o.charge_period_start, o.charge_period_end, o.billed_cost, "
        "o.effective_cost, o.billing_currency FROM cost_lines o "
        "WHERE o.guild_id = ? AND o.import_id <> ? AND o.charge_period_start BETWEEN ? AND ? "
        "AND EXISTS (SELECT 1 FROM cost_lines n WHERE n.import_id = ? "
        " AND n.provider_name IS NOT DISTINCT FROM o.provider_name "
        " AND n.billing_account_id IS NOT DISTINCT FROM o.billing_account_id) "
        f"AND o.rowid NOT IN (SELECT old_rid FROM {MATCHES})",
        [guild_id, import_id, first_start, last_start, import_id])
    row = conn.execute(f"SELECT count(*) FROM {DROPPED}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def _remove_dropped(conn: duckdb.DuckDBPyConnection, *, import_id: int, guild_id: int) -> None:
    """Record the dropped charges as removals (new amounts 0), delete them, and forget currencies left unused."""
    conn.execute(
        "INSERT INTO cost_restatements SELECT ?, ?, previous_import_id, provider, service_name, resource_id, "  # noqa: S608
        "charge_period_start, charge_period_end, billed_cost, effective_cost, 0.0, 0.0, true "
        f"FROM {DROPPED}", [guild_id, import_id])
    conn.execute(f"DELETE FROM cost_lines WHERE rowid IN (SELECT old_rid FROM {DROPPED})")  # noqa: S608
    gone = conn.execute(
        f"SELECT DISTINCT d.billing_currency FROM {DROPPED} d WHERE d.billing_currency IS NOT NULL "  # noqa: S608
        "AND NOT EXISTS (SELECT 1 FROM cost_lines c WHERE c.guild_id = ? AND c.billing_currency = d.billing_currency)",
        [guild_id]).fetchall()
    forget_currencies(conn, guild_id, [r[0] for r in gone])


def reconcile(conn: duckdb.DuckDBPyConnection, *, import_id: int, guild_id: int, lines: int, distinct_hint: int,
              first_start: datetime, last_start: datetime, replace_window: bool = False) -> Reconciled:
    """Fold split lines, then restate or drop batch rows whose charge the ledger already holds; with
    `replace_window`, also remove the window's stored charges the batch no longer lists (rule 3).

    `distinct_hint` is the count of distinct in-memory hashes of the batch's identities: equal
    to `lines` proves there is nothing to fold, so the exact GROUP BY is skipped.
    """
    merged = fold_split_lines(conn, import_id) if distinct_hint < lines else 0
    charges = lines - merged
    overlap = conn.execute(
        "SELECT 1 FROM cost_lines WHERE guild_id = ? AND import_id <> ? AND charge_period_start BETWEEN ? AND ? LIMIT 1",
        [guild_id, import_id, first_start, last_start]).fetchone()
    if overlap is None:  # nothing stored for this scope and period: every charge is new
        return Reconciled(added=charges, restated=0, unchanged=0, merged=merged)
    # The scope holds at most one row per identity (this module keeps it so), hence a plain join.
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {MATCHES} AS SELECT n.rowid AS new_rid, o.rowid AS old_rid, "  # noqa: S608
        f"{_same_values('n', 'o')} AS same, o.import_id AS previous_import_id, "
        "o.billed_cost AS previous_billed_cost, o.effective_cost AS previous_effective_cost, n.provider, "
        "n.service_name, n.resource_id, n.charge_period_start, n.charge_period_end, n.billed_cost, n.effective_cost "
        f"FROM cost_lines n JOIN cost_lines o ON {same_identity('n', 'o')} "
        "WHERE n.import_id = ? AND o.guild_id = ? AND o.import_id <> ? AND o.charge_period_start BETWEEN ? AND ?",
        [import_id, guild_id, import_id, first_start, last_start])
    counts = conn.execute(f"SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) FROM {MATCHES}"  # noqa: S608
                          ).fetchone()
    unchanged, restated = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    removed = _collect_dropped(conn, import_id=import_id, guild_id=guild_id, first_start=first_start,
                               last_start=last_start) if replace_window else 0
    if restated:
        conn.execute(
            "INSERT INTO cost_restatements SELECT ?, ?, previous_import_id, provider, service_name, resource_id, "  # noqa: S608
            "charge_period_start, charge_period_end, previous_billed_cost, previous_effective_cost, billed_cost, "
            f"effective_cost, false FROM {MATCHES} WHERE NOT same", [guild_id, import_id])
        conn.execute(f"DELETE FROM cost_lines WHERE rowid IN (SELECT old_rid FROM {MATCHES} WHERE NOT same)")  # noqa: S608
    if unchanged:
        conn.execute(f"DELETE FROM cost_lines WHERE rowid IN (SELECT new_rid FROM {MATCHES} WHERE same)")  # noqa: S608
    if removed:
        _remove_dropped(conn, import_id=import_id, guild_id=guild_id)
    conn.execute(f"DROP TABLE IF EXISTS {MATCHES}")
    conn.execute(f"DROP TABLE IF EXISTS {DROPPED}")
    return Reconciled(added=charges - unchanged - restated, restated=restated, unchanged=unchanged, merged=merged,
                      removed=removed)


__all__ = ["Reconciled", "fold_split_lines", "reconcile", "same_identity"]
