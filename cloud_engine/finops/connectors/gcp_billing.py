"""GCP costs: the BigQuery billing export (standard or detailed), read from a JSONL or CSV file.

Google has no synchronous cost API, so the export table, exported as JSONL (nested, the
table's own schema) or CSV (nested names flattened with '.' or '_'), is the source. DuckDB
reads either and this module maps it to FOCUS: BilledCost = cost, EffectiveCost = cost +
sum(credits.amount) (credits are negative), ServiceName = service.description,
SubAccountId/Name = project.id/name, RegionId = location.region, ResourceId =
resource.global_name (detailed export; null otherwise), Tags = labels as a JSON map,
ChargeCategory from cost_type (regular -> Usage). Split from `gcp.py`, which enriches these
rows with the Compute API's instances.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import describe, file_format, ident

# FOCUS column -> candidate export column names (nested JSON path or flattened CSV header)
EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "ServiceName": ("service.description", "service_description"),
    "SkuId": ("sku.id", "sku_id"),
    "SubAccountId": ("project.id", "project_id"),
    "SubAccountName": ("project.name", "project_name"),
    "RegionId": ("location.region", "location_region"),
    "ResourceId": ("resource.global_name", "resource_global_name"),
    "ResourceName": ("resource.name", "resource_name"),
    "ChargePeriodStart": ("usage_start_time",),
    "ChargePeriodEnd": ("usage_end_time",),
    "BillingCurrency": ("currency",),
    "ConsumedQuantity": ("usage.amount", "usage_amount"),
    "ConsumedUnit": ("usage.unit", "usage_unit"),
    "CostType": ("cost_type",),
    "Cost": ("cost",),
}
CHARGE_CATEGORY = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding_error": "Adjustment"}


def _expr(columns: dict[str, tuple[str, str]], names: tuple[str, ...]) -> str:
    for name in names:
        if name.lower() in columns:  # flattened header, quoted as one identifier
            return '"' + columns[name.lower()][0].replace('"', '""') + '"'
        head, _, rest = name.partition(".")
        if rest and head.lower() in columns and columns[head.lower()][1].upper().startswith("STRUCT"):
            return f'"{columns[head.lower()][0]}".{rest}'
    return "NULL"


_LABEL_ENTRIES = """from_json({json}, '[{{"key": "VARCHAR", "value": "VARCHAR"}}]')"""


def _labels_map(entries: str) -> str:
    """A JSON object text from a list of {key, value} structs (entries without a key are dropped)."""
    return ("CAST(to_json(map_from_entries(list_transform(list_filter("
            f"{entries}, lambda l: l.key IS NOT NULL), lambda l: {{'k': l.key, 'v': l.value}}))) AS VARCHAR)")


def _labels_expr(columns: dict[str, tuple[str, str]]) -> str:
    """SQL for Tags (a JSON object text, or NULL) from the export's `labels`, whatever type DuckDB inferred.

    BigQuery writes labels as a list of {key, value}. DuckDB infers that as a struct list
    only when a sampled row has a label: when none does, the column is JSON[] (or "NULL"),
    and a CSV export holds text. Each shape is converted here, and anything else becomes
    NULL, so Tags is always text or NULL and never a raw list the Arrow table cannot hold.
    """
    if "labels" not in columns:
        return "NULL"
    actual, duck_type = columns["labels"]
    q, kind = ident(actual), duck_type.upper()
    if kind.startswith("STRUCT") and kind.endswith("[]"):
        return _labels_map(q)
    if kind.startswith(("STRUCT", "MAP")):  # already an object of label -> value
        return f"CAST(to_json({q}) AS VARCHAR)"
    if kind == "JSON[]":
        return _labels_map(_LABEL_ENTRIES.format(json=f"CAST({q} AS JSON)"))
    if kind in ("VARCHAR", "JSON"):  # json_type fails on invalid JSON, so it runs only inside json_valid's branch
        text = f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')"
        return (f"CASE WHEN json_valid({text}) THEN CASE json_type({text}) WHEN 'OBJECT' THEN {text} "
                f"WHEN 'ARRAY' THEN {_labels_map(_LABEL_ENTRIES.format(json=f'CAST({text} AS JSON)'))} END END")
    return "NULL"


def read_billing_export(path: Path, start: date, end: date) -> list[dict[str, Any]]:
    """Rows of a BigQuery billing export file (JSONL or CSV) in [start, end), as FOCUS dicts."""
    lower = path.name.lower()
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        if lower.endswith((".json", ".jsonl", ".ndjson")):
            source, params = "read_json_auto(?, format='newline_delimited')", [str(path)]
            columns = {str(r[0]).lower(): (str(r[0]), str(r[1]))
                       for r in conn.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()}  # noqa: S608
        else:
            file_format(path.name)
            source, params = "read_csv(?, header=true, all_varchar=true)", [str(path)]
            columns = describe(conn, "csv", path, path.name)
        if "cost" not in columns or "usage_start_time" not in columns:
            raise IngestError(detail=f"{path.name} is not a BigQuery billing export (needs cost, usage_start_time)")
        select = {focus: _expr(columns, names) for focus, names in EXPORT_COLUMNS.items()}
        credits = "0"
        if "credits" in columns and columns["credits"][1].upper().startswith("STRUCT"):
            credits = "COALESCE(list_sum(list_transform(credits, lambda c: c.amount)), 0)"
        labels = _labels_expr(columns)
        sql = (
            "SELECT " + ", ".join(f"CAST({expr} AS VARCHAR) AS {name}" for name, expr in select.items())  # noqa: S608
            + f", {credits} AS credits_total, {labels} AS tags FROM {source} "
        )
        rows = conn.execute(
            f"SELECT * FROM ({sql}) WHERE CAST(ChargePeriodStart AS TIMESTAMPTZ) >= ? "  # noqa: S608 - fixed names
            "AND CAST(ChargePeriodStart AS TIMESTAMPTZ) < ?",
            [*params, datetime.combine(start, time()), datetime.combine(end, time())],
        ).fetchall()
        names = [*select, "credits_total", "tags"]
    except duckdb.Error as exc:
        raise IngestError(detail=f"{path.name} could not be read as a billing export: {str(exc).splitlines()[0]}") from exc
    finally:
        conn.close()
    out = []
    for values in rows:
        r = dict(zip(names, values, strict=True))
        cost = float(r["Cost"] or 0)
        out.append({
            "BilledCost": cost, "EffectiveCost": cost + float(r["credits_total"] or 0),
            "ChargePeriodStart": r["ChargePeriodStart"], "ChargePeriodEnd": r["ChargePeriodEnd"],
            "ServiceName": r["ServiceName"], "ResourceId": r["ResourceId"], "ResourceName": r["ResourceName"],
            "RegionId": r["RegionId"], "ProviderName": "Google Cloud", "BillingCurrency": r["BillingCurrency"],
            "ChargeCategory": CHARGE_CATEGORY.get(str(r["CostType"] or "regular").lower(), "Usage"),
            "SubAccountId": r["SubAccountId"], "SubAccountName": r["SubAccountName"], "SkuId": r["SkuId"],
            "ConsumedQuantity": float(r["ConsumedQuantity"]) if r["ConsumedQuantity"] not in (None, "") else None,
            "ConsumedUnit": r["ConsumedUnit"], "Tags": r["tags"] if isinstance(r["tags"], str) else None,
        })
    return out


__all__ = ["CHARGE_CATEGORY", "EXPORT_COLUMNS", "read_billing_export"]
