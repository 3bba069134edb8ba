"""CUR 2.0 (AWS Data Exports' COST_AND_USAGE_REPORT table) to FOCUS, with DuckDB.

Why convert rather than teach the ledger CUR: every import then goes through the one FOCUS
path (checks, restatement, provenance), and the mapping is a table anyone can read here.
The file is rewritten as a FOCUS Parquet next to it in one DuckDB statement (no row in Python).

- BilledCost = line_item_unblended_cost; ListCost = pricing_public_on_demand_cost.
- EffectiveCost is the amortised cost: SavingsPlanCoveredUsage -> savings_plan_savings_plan_effective_cost,
  DiscountedUsage -> reservation_effective_cost, the negation and upfront-fee lines -> 0 (their
  cost is spread onto the covered usage), RIFee -> the reservation's unused amortised upfront
  plus unused recurring fee, SavingsPlanRecurringFee -> total commitment to date - used commitment;
  everything else (and any of these when the export left the column out) -> unblended cost.
- ServiceName = product['product_name'] (the CUR/FOCUS service name), else product_servicecode,
  else line_item_product_code; RegionId = product_region_code; ResourceId = line_item_resource_id
  (an EC2 instance is its bare id, i-0abc..., which CloudWatch takes as is).
- ChargeCategory from line_item_line_item_type (`CHARGE_CATEGORY`); Tags = resource_tags as a JSON
  object; SkuPriceDetails = {"InstanceType": product_instance_type} for rightsizing.
Columns an export's query left out are NULL (a CUR 2.0 export may select a subset).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cloud_engine.errors import IngestError
from cloud_engine.finops._files import describe, file_format, ident

CHARGE_CATEGORY: dict[str, str] = {
    "Usage": "Usage", "DiscountedUsage": "Usage", "SavingsPlanCoveredUsage": "Usage", "SavingsPlanNegation": "Usage",
    "Tax": "Tax", "Credit": "Credit", "Refund": "Credit", "BundledDiscount": "Credit", "EdpDiscount": "Credit",
    "PrivateRateDiscount": "Credit", "Discount": "Credit", "DistributorDiscount": "Credit",
    "RIFee": "Purchase", "Fee": "Purchase", "SavingsPlanRecurringFee": "Purchase", "SavingsPlanUpfrontFee": "Purchase",
}
MARKER = "line_item_unblended_cost"  # the column that says a file is CUR (2.0 snake_case names)


def is_cur2(columns: dict[str, tuple[str, str]]) -> bool:
    return MARKER in columns and "billedcost" not in columns


def _col(columns: dict[str, tuple[str, str]], name: str) -> str | None:
    found = columns.get(name.lower())
    return ident(found[0]) if found else None


def _text(columns: dict[str, tuple[str, str]], name: str) -> str:
    q = _col(columns, name)
    return f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')" if q else "CAST(NULL AS VARCHAR)"


def _num(columns: dict[str, tuple[str, str]], name: str) -> str:
    q = _col(columns, name)
    return f"TRY_CAST({q} AS DOUBLE)" if q else "CAST(NULL AS DOUBLE)"


def _map_json(columns: dict[str, tuple[str, str]], name: str) -> str:
    """A MAP column (Parquet) or its JSON text (CSV) as JSON object text, or NULL."""
    found = columns.get(name)
    if not found:
        return "CAST(NULL AS VARCHAR)"
    q, kind = ident(found[0]), found[1].upper()
    if kind.startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({q}) AS VARCHAR)"
    text = f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')"
    return f"CASE WHEN json_valid({text}) AND json_type({text}) = 'OBJECT' THEN {text} END"


def _product_name(columns: dict[str, tuple[str, str]]) -> str:
    found = columns.get("product")
    name = "CAST(NULL AS VARCHAR)"
    if found:
        q, kind = ident(found[0]), found[1].upper()
        if kind.startswith("MAP"):
            name = f"NULLIF(CAST(element_at({q}, 'product_name')[1] AS VARCHAR), '')"
        else:
            name = f"json_extract_string({_map_json(columns, 'product')}, '$.product_name')"
    return (f"COALESCE({name}, {_text(columns, 'product_servicecode')}, "
            f"{_text(columns, 'line_item_product_code')})")


def _effective(columns: dict[str, tuple[str, str]]) -> str:
    unblended = _num(columns, "line_item_unblended_cost")
    kind = _text(columns, "line_item_line_item_type")
    ri_unused = (f"COALESCE({_num(columns, 'reservation_unused_amortized_upfront_fee_for_billing_period')}, 0) + "
                 f"COALESCE({_num(columns, 'reservation_unused_recurring_fee')}, 0)")
    sp_unused = (f"{_num(columns, 'savings_plan_total_commitment_to_date')} - "
                 f"COALESCE({_num(columns, 'savings_plan_used_commitment')}, 0)")
    # (line item type, its amortised cost, whether the export holds what that needs)
    cases = [("SavingsPlanCoveredUsage", _num(columns, "savings_plan_savings_plan_effective_cost"),
              "savings_plan_savings_plan_effective_cost" in columns),
             ("DiscountedUsage", _num(columns, "reservation_effective_cost"), "reservation_effective_cost" in columns),
             ("SavingsPlanNegation", "0", "savings_plan_savings_plan_effective_cost" in columns),
             ("SavingsPlanUpfrontFee", "0", "savings_plan_savings_plan_effective_cost" in columns),
             ("RIFee", ri_unused, "reservation_unused_recurring_fee" in columns),
             ("SavingsPlanRecurringFee", sp_unused, "savings_plan_total_commitment_to_date" in columns)]
    whens = " ".join(f"WHEN {kind} = '{t}' THEN COALESCE({expr}, {unblended})" for t, expr, present in cases
                     if present)
    return f"CASE {whens} ELSE {unblended} END"


def _category(columns: dict[str, tuple[str, str]]) -> str:
    kind = _text(columns, "line_item_line_item_type")
    whens = " ".join(f"WHEN '{t}' THEN '{c}'" for t, c in CHARGE_CATEGORY.items())
    return f"CASE {kind} {whens} ELSE 'Adjustment' END"


def focus_select(columns: dict[str, tuple[str, str]], source: str) -> str:
    """SELECT of FOCUS columns over a CUR 2.0 source (`columns` as `_files.describe` returns them)."""
    instance = _text(columns, "product_instance_type")
    exprs = {
        "BilledCost": _num(columns, "line_item_unblended_cost"),
        "EffectiveCost": _effective(columns),
        "ListCost": _num(columns, "pricing_public_on_demand_cost"),
        "ChargePeriodStart": _text(columns, "line_item_usage_start_date"),
        "ChargePeriodEnd": _text(columns, "line_item_usage_end_date"),
        "ServiceName": _product_name(columns),
        "ResourceId": _text(columns, "line_item_resource_id"),
        "RegionId": _text(columns, "product_region_code"),
        "ProviderName": "'AWS'",
        "BillingCurrency": _text(columns, "line_item_currency_code"),
        "ChargeCategory": _category(columns),
        "ChargeDescription": _text(columns, "line_item_line_item_description"),
        "CommitmentDiscountId": (f"COALESCE({_text(columns, 'savings_plan_savings_plan_a_r_n')}, "
                                 f"{_text(columns, 'reservation_reservation_a_r_n')})"),
        "BillingAccountId": _text(columns, "bill_payer_account_id"),
        "SubAccountId": _text(columns, "line_item_usage_account_id"),
        "SubAccountName": _text(columns, "line_item_usage_account_name"),
        "Tags": _map_json(columns, "resource_tags"),
        "ConsumedQuantity": _num(columns, "line_item_usage_amount"),
        "ConsumedUnit": _text(columns, "pricing_unit"),
        "PricingUnit": _text(columns, "pricing_unit"),
        "SkuId": _text(columns, "product_sku"),
        "SkuPriceDetails": f"CASE WHEN {instance} IS NOT NULL THEN json_object('InstanceType', {instance})::VARCHAR END",
    }
    return "SELECT " + ", ".join(f"{e} AS {name}" for name, e in exprs.items()) + f" FROM {source}"  # noqa: S608


def convert(path: Path, out: Path, name: str) -> Path:
    """Rewrite a CUR 2.0 file (.csv.gz or .parquet) as a FOCUS Parquet at `out`; `IngestError` if it is not CUR 2.0."""
    fmt = file_format(path.name)
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        columns = describe(conn, fmt, path, name)
        if MARKER not in columns:
            found = ", ".join(a for a, _ in list(columns.values())[:8])
            raise IngestError(detail=f"{name} is neither a FOCUS nor a CUR 2.0 export (no BilledCost or {MARKER}); "
                                     f"found: {found}")
        source = ("read_csv(?, header=true, all_varchar=true)" if fmt == "csv" else "read_parquet(?)")
        try:
            conn.execute(f"COPY ({focus_select(columns, source)}) TO ? (FORMAT parquet)",  # noqa: S608 - fixed SQL
                         [str(path), str(out)])
        except duckdb.Error as exc:
            raise IngestError(detail=f"{name} could not be read as CUR 2.0: {str(exc).splitlines()[0]}") from exc
    finally:
        conn.close()
    return out


__all__ = ["CHARGE_CATEGORY", "MARKER", "convert", "focus_select", "is_cur2"]
