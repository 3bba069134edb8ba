"""DuckDB ledger schema, and the upgrade of ledger files written by earlier versions.

Version 2 scopes every row to a Discord server (`guild_id`; 0 for data that
predates scoping and for the CLI without DEV_GUILD_ID) and names a charge by its identity
columns (`focus_columns.IDENTITY`) instead of a stored digest of the whole row, so a
corrected export restates a charge rather than adding a second copy. `ledger_imports`
records every successful import; each row's `import_id` points at the import that wrote
its current values, and `cost_restatements` keeps what a restatement replaced. An import
also records the first and last charge period start and the currencies it brought: a
charge is only ever replaced by one with the same identity (period and currency included),
so these per-import figures give a scope's period and currencies exactly, without a scan
(an import with `replace_window` also removes charges, and prunes the currencies it left
without a row; see `ledger_imports.scope_extent`).

Version 3 (this one) adds `cost_restatements.removed`: true for a charge that an import
with `replace_window` removed because the re-issued export no longer lists it (its new
amounts are recorded as 0), false for a restatement. Version 2 files gain the column in
place, in one transaction (their rows are restatements: false).

Version 1 files (a `row_hash` column, no scope) are rebuilt once, in one transaction:
rows go to scope 0, each distinct (fetched_at, source) becomes an import, and rows that
now name the same charge are reconciled as today's imports would: lines of one import
are summed, and the latest import wins over earlier ones (a restatement imported before
this version). Exact repeats inside one file were already dropped by version 1 and
cannot be recovered.
"""

from __future__ import annotations

import duckdb

from cloud_engine.finops.focus_columns import AMOUNTS, ATTRIBUTES, IDENTITY

VERSION = 3

COST_LINES = """
    CREATE TABLE IF NOT EXISTS cost_lines (
        guild_id BIGINT NOT NULL,
        import_id BIGINT NOT NULL,
        provider VARCHAR NOT NULL,
        provider_name VARCHAR,
        billing_account_id VARCHAR,
        sub_account_id VARCHAR,
        sub_account_name VARCHAR,
        service_name VARCHAR,
        service_category VARCHAR,
        resource_id VARCHAR,
        resource_name VARCHAR,
        resource_type VARCHAR,
        region_id VARCHAR,
        charge_category VARCHAR,
        charge_class VARCHAR,
        charge_description VARCHAR,
        charge_frequency VARCHAR,
        pricing_category VARCHAR,
        commitment_discount_id VARCHAR,
        charge_period_start TIMESTAMP NOT NULL,
        charge_period_end TIMESTAMP NOT NULL,
        billed_cost DOUBLE NOT NULL,
        effective_cost DOUBLE NOT NULL,
        list_cost DOUBLE,
        billing_currency VARCHAR,
        consumed_quantity DOUBLE,
        consumed_unit VARCHAR,
        pricing_unit VARCHAR,
        sku_id VARCHAR,
        sku_price_id VARCHAR,
        sku_price_details VARCHAR,
        tags VARCHAR,
        source_kind VARCHAR NOT NULL,
        source_name VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL
    )
"""

METRIC_POINTS = """
    CREATE TABLE IF NOT EXISTS metric_points (
        guild_id BIGINT NOT NULL,
        import_id BIGINT NOT NULL,
        resource_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        value DOUBLE NOT NULL,
        unit VARCHAR NOT NULL,
        source_kind VARCHAR NOT NULL,
        source_name VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL
    )
"""

SCHEMA = (
    COST_LINES,
    METRIC_POINTS,
    """
    CREATE TABLE IF NOT EXISTS ledger_imports (
        import_id BIGINT PRIMARY KEY,
        guild_id BIGINT NOT NULL,
        target VARCHAR NOT NULL,
        source_kind VARCHAR NOT NULL,
        source_name VARCHAR NOT NULL,
        fetched_at TIMESTAMP NOT NULL,
        first_charge_start TIMESTAMP,
        last_charge_start TIMESTAMP,
        currencies VARCHAR[]
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS cost_restatements (
        guild_id BIGINT NOT NULL,
        import_id BIGINT NOT NULL,
        previous_import_id BIGINT NOT NULL,
        provider VARCHAR,
        service_name VARCHAR,
        resource_id VARCHAR,
        charge_period_start TIMESTAMP NOT NULL,
        charge_period_end TIMESTAMP NOT NULL,
        previous_billed_cost DOUBLE,
        previous_effective_cost DOUBLE,
        billed_cost DOUBLE,
        effective_cost DOUBLE,
        removed BOOLEAN NOT NULL DEFAULT false
    )
    """,
    "CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL)",
)


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal "
                        "AND schema_name = 'main'", [table]).fetchall()
    return {r[0] for r in rows}


def _upgrade_v1(conn: duckdb.DuckDBPyConnection) -> None:
    """Rebuild version-1 tables (see the module docstring) inside the caller's transaction."""
    legacy = _columns(conn, "cost_lines")
    new_cols = [c for c in ("charge_class", "charge_frequency", "pricing_category", "commitment_discount_id",
                            "sku_price_id") if c not in legacy]
    for col in new_cols:
        conn.execute(f"ALTER TABLE cost_lines ADD COLUMN IF NOT EXISTS {col} VARCHAR")
    conn.execute("ALTER TABLE cost_lines ADD COLUMN IF NOT EXISTS guild_id BIGINT DEFAULT 0")
    conn.execute(
        "CREATE TEMP TABLE legacy_batches AS SELECT row_number() OVER (ORDER BY fetched_at, source_kind, source_name) "
        "AS import_id, * FROM (SELECT DISTINCT fetched_at, source_kind, source_name FROM cost_lines "
        " UNION SELECT DISTINCT fetched_at, source_kind, source_name FROM metric_points)")
    conn.execute("INSERT INTO ledger_imports SELECT b.import_id, 0, 'legacy', b.source_kind, b.source_name, b.fetched_at, "
                 "min(c.charge_period_start), max(c.charge_period_start), "
                 "list(DISTINCT c.billing_currency) FILTER (WHERE c.billing_currency IS NOT NULL) "
                 "FROM legacy_batches b LEFT JOIN cost_lines c USING (fetched_at, source_kind, source_name) "
                 "GROUP BY ALL")
    identity = ", ".join(IDENTITY)
    sums = ", ".join(f"sum({c}) AS {c}" for c in AMOUNTS)
    firsts = ", ".join(f"arg_min({c}, rid) AS {c}" for c in ATTRIBUTES)
    conn.execute("ALTER TABLE cost_lines RENAME TO cost_lines_v1")
    conn.execute(COST_LINES)
    conn.execute(
        f"INSERT INTO cost_lines BY NAME SELECT {identity}, {sums}, {firsts}, import_id, "  # noqa: S608 - fixed lists
        "any_value(source_kind) AS source_kind, any_value(source_name) AS source_name, "
        "any_value(fetched_at) AS fetched_at FROM ("
        f" SELECT c.*, c.rowid AS rid, b.import_id, max(b.import_id) OVER (PARTITION BY {identity}) AS latest"
        " FROM cost_lines_v1 c JOIN legacy_batches b USING (fetched_at, source_kind, source_name))"
        f" WHERE import_id = latest GROUP BY {identity}, import_id")
    conn.execute("DROP TABLE cost_lines_v1")
    conn.execute("ALTER TABLE metric_points RENAME TO metric_points_v1")
    conn.execute(METRIC_POINTS)
    conn.execute("INSERT INTO metric_points BY NAME SELECT 0 AS guild_id, b.import_id, m.resource_id, m.metric, m.ts, "
                 "m.value, m.unit, m.source_kind, m.source_name, m.fetched_at FROM metric_points_v1 m "
                 "JOIN legacy_batches b USING (fetched_at, source_kind, source_name)")
    conn.execute("DROP TABLE metric_points_v1")
    conn.execute("DROP TABLE legacy_batches")


def _upgrade_v2(conn: duckdb.DuckDBPyConnection) -> None:
    """Add `cost_restatements.removed` (version 3) inside the caller's transaction; existing rows are restatements."""
    if "removed" not in _columns(conn, "cost_restatements"):  # DuckDB refuses IF NOT EXISTS with NOT NULL
        conn.execute("ALTER TABLE cost_restatements ADD COLUMN removed BOOLEAN NOT NULL DEFAULT false")


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> int:
    """Create the tables or upgrade an older file; returns the version found before (0: new file)."""
    had_costs = bool(_columns(conn, "cost_lines"))
    versioned = bool(_columns(conn, "ledger_schema"))
    found = (conn.execute("SELECT max(version) FROM ledger_schema").fetchone() or [None])[0] if versioned else None
    found = int(found) if found is not None else (1 if had_costs else 0)
    if found >= VERSION:
        return found
    conn.execute("BEGIN TRANSACTION")
    try:
        if found == 1:
            for statement in SCHEMA[2:]:
                conn.execute(statement)
            _upgrade_v1(conn)
        elif found == 2:
            _upgrade_v2(conn)
        else:
            for statement in SCHEMA:
                conn.execute(statement)
        conn.execute("DELETE FROM ledger_schema")
        conn.execute("INSERT INTO ledger_schema VALUES (?)", [VERSION])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


__all__ = ["SCHEMA", "VERSION", "ensure_schema"]
