"""The FOCUS columns the ledger understands, and how each maps to a ledger column.

FOCUS 1.0 and 1.1 name the provider column `ProviderName`; 1.2 deprecates it in favour of
`ServiceProviderName` (plus HostProviderName and InvoiceIssuerName). Either satisfies the
provider requirement; when both exist the 1.2 name wins. Matching is case-insensitive on
the column name, because some exporters lower-case headers.

Every column has one role, which decides how a re-issued export is treated:
- identity: says *which* charge a row is (who, what, where, when). The ledger keeps one
  row per scope + identity; a later import with the same identity restates that row.
- amount: how much (costs, quantity). Split line items of one charge are summed.
- attribute: descriptive (names, tags, units). Taken from the charge's first line; a
  change in a later import counts as a restatement, like a changed amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "number", "timestamp", "json"]
ColumnRole = Literal["identity", "amount", "attribute"]


@dataclass(frozen=True)
class FocusColumn:
    focus_name: str
    ledger_name: str
    type: ColumnType
    required: bool = False
    role: ColumnRole = "identity"

    @property
    def identifying(self) -> bool:
        return self.role == "identity"


PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # 1.2 name first

COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BilledCost", "billed_cost", "number", required=True, role="amount"),
    FocusColumn("EffectiveCost", "effective_cost", "number", required=True, role="amount"),
    FocusColumn("ChargePeriodStart", "charge_period_start", "timestamp", required=True),
    FocusColumn("ChargePeriodEnd", "charge_period_end", "timestamp", required=True),
    FocusColumn("ServiceName", "service_name", "text", required=True),
    FocusColumn("ResourceId", "resource_id", "text", required=True),
    FocusColumn("RegionId", "region_id", "text", required=True),
    FocusColumn("BillingCurrency", "billing_currency", "text", required=True),
    FocusColumn("ResourceName", "resource_name", "text", role="attribute"),
    FocusColumn("ResourceType", "resource_type", "text", role="attribute"),
    FocusColumn("ChargeCategory", "charge_category", "text"),
    FocusColumn("ChargeClass", "charge_class", "text"),  # "Correction" rows are separate charges, added
    FocusColumn("ChargeDescription", "charge_description", "text"),
    FocusColumn("ChargeFrequency", "charge_frequency", "text"),
    FocusColumn("PricingCategory", "pricing_category", "text"),
    FocusColumn("CommitmentDiscountId", "commitment_discount_id", "text"),
    FocusColumn("SubAccountId", "sub_account_id", "text"),
    FocusColumn("SubAccountName", "sub_account_name", "text", role="attribute"),
    FocusColumn("BillingAccountId", "billing_account_id", "text"),
    FocusColumn("ServiceCategory", "service_category", "text", role="attribute"),
    FocusColumn("Tags", "tags", "json", role="attribute"),
    FocusColumn("ListCost", "list_cost", "number", role="amount"),
    FocusColumn("ConsumedQuantity", "consumed_quantity", "number", role="amount"),
    FocusColumn("ConsumedUnit", "consumed_unit", "text", role="attribute"),
    FocusColumn("PricingUnit", "pricing_unit", "text", role="attribute"),
    FocusColumn("SkuId", "sku_id", "text"),
    FocusColumn("SkuPriceId", "sku_price_id", "text"),
    FocusColumn("SkuPriceDetails", "sku_price_details", "json", role="attribute"),
)

# Ledger columns naming one charge within a scope: the scope, the provider as exported,
# and every identity column above (never the amounts, so a corrected cost restates).
IDENTITY: tuple[str, ...] = ("guild_id", "provider_name", *(c.ledger_name for c in COLUMNS if c.identifying))
AMOUNTS: tuple[str, ...] = tuple(c.ledger_name for c in COLUMNS if c.role == "amount")
ATTRIBUTES: tuple[str, ...] = ("provider", *(c.ledger_name for c in COLUMNS if c.role == "attribute"))

REQUIRED_NAMES: tuple[str, ...] = tuple(c.focus_name for c in COLUMNS if c.required) + ("ProviderName or ServiceProviderName",)

# Provider display names in exports -> the catalogue's provider keys.
PROVIDER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("%amazon%", "aws"), ("aws%", "aws"),
    ("%google%", "gcp"), ("gcp%", "gcp"),
    ("%microsoft%", "azure"), ("%azure%", "azure"),
)

__all__ = [
    "AMOUNTS", "ATTRIBUTES", "COLUMNS", "IDENTITY", "PROVIDER_COLUMNS", "PROVIDER_PATTERNS", "REQUIRED_NAMES",
    "FocusColumn",
]
