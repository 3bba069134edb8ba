"""The FOCUS columns the ledger understands, and how each maps to a ledger column.

FOCUS 1.0 to 1.2 name the provider column `ProviderName` (beside PublisherName); 1.3
deprecates both in favour of `ServiceProviderName` and `HostProviderName`. Any of them
satisfies the provider requirement; ServiceProviderName wins when several exist, then
ProviderName, then HostProviderName (the cloud hosting a marketplace seller's service).
Matching is case-insensitive on the column name, because some exporters lower-case headers.

`focus_version` names the version a file's columns show (the newest whose added columns
appear); FOCUS files carry no version column, so a 1.2 export that uses none of 1.2's
additions reads as 1.1. FOCUS 1.3 also defines a Contract Commitment dataset (one row per
commitment, no charges); it is recognised and refused with a line saying so.

Every column has one role, which decides how a re-issued export is treated:
- identity: says *which* charge a row is (who, what, where, when). The ledger keeps one
  row per scope + identity; a later import with the same identity restates that row.
- amount: how much (costs, quantity). Split line items of one charge are summed.
- attribute: descriptive (names, tags, units). Taken from the charge's first line; a
  change in a later import counts as a restatement, like a changed amount.
"""

from __future__ import annotations

from collections.abc import Iterable
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


PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName", "HostProviderName")  # 1.3 name first

# Columns each FOCUS version added to the Cost and Usage dataset, newest first (1.0 is the rest).
VERSION_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1.3", ("ServiceProviderName", "HostProviderName", "AllocatedMethodId", "AllocatedMethodDetails",
             "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags", "ContractApplied")),
    ("1.2", ("BillingAccountType", "SubAccountType", "InvoiceId", "PricingCurrency",
             "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice")),
    ("1.1", ("CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
             "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails")),
)
# The FOCUS 1.3 Contract Commitment dataset: its identity columns, and none of the charge columns.
CONTRACT_COMMITMENT_COLUMNS = ("ContractCommitmentId", "ContractId")


def focus_version(column_names: Iterable[str]) -> str:
    """"1.0" … "1.3": the newest FOCUS version whose added columns the file has (case-insensitive)."""
    present = {c.lower() for c in column_names}
    for version, added in VERSION_MARKERS:
        if any(c.lower() in present for c in added):
            return version
    return "1.0"


def is_contract_commitment_dataset(column_names: Iterable[str]) -> bool:
    """True for a FOCUS 1.3 Contract Commitment file: commitment ids, no BilledCost or ChargePeriodStart."""
    present = {c.lower() for c in column_names}
    return all(c.lower() in present for c in CONTRACT_COMMITMENT_COLUMNS) and not (
        {"billedcost", "chargeperiodstart"} & present)

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

REQUIRED_NAMES: tuple[str, ...] = tuple(c.focus_name for c in COLUMNS if c.required) + (
    "ProviderName (FOCUS 1.0-1.2) or ServiceProviderName (1.3)",)

# Provider display names in exports -> the catalogue's provider keys.
PROVIDER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("%amazon%", "aws"), ("aws%", "aws"),
    ("%google%", "gcp"), ("gcp%", "gcp"),
    ("%microsoft%", "azure"), ("%azure%", "azure"),
)

__all__ = [
    "AMOUNTS", "ATTRIBUTES", "COLUMNS", "CONTRACT_COMMITMENT_COLUMNS", "IDENTITY", "PROVIDER_COLUMNS",
    "PROVIDER_PATTERNS", "REQUIRED_NAMES", "VERSION_MARKERS", "FocusColumn", "focus_version",
    "is_contract_commitment_dataset",
]
