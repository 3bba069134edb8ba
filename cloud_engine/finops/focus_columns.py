"""The FOCUS columns the ledger understands, and how each maps to a ledger column.

FOCUS 1.0 and 1.1 name the provider column `ProviderName`; 1.2 deprecates it in favour of
`ServiceProviderName` (plus HostProviderName and InvoiceIssuerName). Either satisfies the
provider requirement; when both exist the 1.2 name wins. Matching is case-insensitive on
the column name, because some exporters lower-case headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "number", "timestamp", "json"]


@dataclass(frozen=True)
class FocusColumn:
    focus_name: str
    ledger_name: str
    type: ColumnType
    required: bool = False
    identifying: bool = True  # part of the row hash


PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # 1.2 name first

COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BilledCost", "billed_cost", "number", required=True),
    FocusColumn("EffectiveCost", "effective_cost", "number", required=True),
    FocusColumn("ChargePeriodStart", "charge_period_start", "timestamp", required=True),
    FocusColumn("ChargePeriodEnd", "charge_period_end", "timestamp", required=True),
    FocusColumn("ServiceName", "service_name", "text", required=True),
    FocusColumn("ResourceId", "resource_id", "text", required=True),
    FocusColumn("RegionId", "region_id", "text", required=True),
    FocusColumn("BillingCurrency", "billing_currency", "text", required=True),
    FocusColumn("ResourceName", "resource_name", "text", identifying=False),
    FocusColumn("ResourceType", "resource_type", "text", identifying=False),
    FocusColumn("ChargeCategory", "charge_category", "text"),
    FocusColumn("ChargeDescription", "charge_description", "text"),
    FocusColumn("SubAccountId", "sub_account_id", "text"),
    FocusColumn("SubAccountName", "sub_account_name", "text"),
    FocusColumn("BillingAccountId", "billing_account_id", "text"),
    FocusColumn("ServiceCategory", "service_category", "text", identifying=False),
    FocusColumn("Tags", "tags", "json", identifying=False),
    FocusColumn("ListCost", "list_cost", "number"),
    FocusColumn("ConsumedQuantity", "consumed_quantity", "number"),
    FocusColumn("ConsumedUnit", "consumed_unit", "text"),
    FocusColumn("PricingUnit", "pricing_unit", "text"),
    FocusColumn("SkuId", "sku_id", "text"),
    FocusColumn("SkuPriceDetails", "sku_price_details", "json", identifying=False),
)

REQUIRED_NAMES: tuple[str, ...] = tuple(c.focus_name for c in COLUMNS if c.required) + ("ProviderName or ServiceProviderName",)

# Provider display names in exports -> the catalogue's provider keys.
PROVIDER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("%amazon%", "aws"), ("aws%", "aws"),
    ("%google%", "gcp"), ("gcp%", "gcp"),
    ("%microsoft%", "azure"), ("%azure%", "azure"),
)

__all__ = ["COLUMNS", "PROVIDER_COLUMNS", "PROVIDER_PATTERNS", "REQUIRED_NAMES", "FocusColumn"]
