"""Shapes real bills have that synthetic ones don't: bare NULL cells, services netted below zero by credits.

Both were found importing the FinOps Foundation's FOCUS 1.0 sample (focus_sample.csv): its
nulls are written NULL, and an Azure service there nets to a negative month.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cloud_engine.errors import IngestError
from cloud_engine.finops import FinOpsService
from cloud_engine.finops.models import RecommendationKind
from tests.cloud_engine.finops.conftest import GUILD

HEADER = ("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,ResourceName,RegionId,"
          "ProviderName,BillingCurrency,ChargeCategory,CommitmentDiscountId,ConsumedQuantity\n")
FIRST = date(2024, 9, 1)


def line(day: date, cost: str, *, service: str = "Amazon Elastic Compute Cloud", rid: str = "i-0abc",
         category: str = "Usage", quantity: str = "24") -> str:
    return (f"{cost},{cost},{day}T00:00:00Z,{day + timedelta(days=1)}T00:00:00Z,{service},{rid},NULL,us-east-1,"
            f"AWS,USD,{category},NULL,{quantity}\n")


async def test_bare_null_cells_are_nulls_not_text(service: FinOpsService) -> None:
    body = line(FIRST, "3.5") + line(FIRST, "-1.0", category="Credit", quantity="NULL")
    report = await service.ingest_focus_bytes((HEADER + body).encode(), "sample.csv", guild_id=GUILD)
    assert (report.rows_read, report.rows_added) == (2, 2)
    stored = await service.ledger.run(lambda c: c.execute(
        "SELECT count(*) FILTER (WHERE commitment_discount_id IS NULL), count(*) FILTER (WHERE resource_name IS NULL),"
        " count(*) FILTER (WHERE consumed_quantity IS NULL) FROM cost_lines").fetchone())
    assert stored == (2, 2, 1)  # no commitment called "NULL", no resource called "NULL"


async def test_a_word_where_a_number_belongs_is_still_refused_by_column_and_row(service: FinOpsService) -> None:
    body = line(FIRST, "3.5") + line(FIRST, "3.5", quantity="lots")
    with pytest.raises(IngestError) as refused:
        await service.ingest_focus_bytes((HEADER + body).encode(), "sample.csv", guild_id=GUILD)
    assert "column ConsumedQuantity has a value that is not a number at row 2" in refused.value.message


async def test_a_service_credits_push_below_zero_gets_no_commitment_advice(service: FinOpsService) -> None:
    days = [FIRST + timedelta(days=i) for i in range(5)]
    body = "".join(line(d, "2.0", service="Virtual Machines", rid=f"vm-{d.day}") +
                   line(d, "-3.0", service="Virtual Machines", rid=f"vm-{d.day}", category="Credit") for d in days)
    await service.ingest_focus_bytes((HEADER + body).encode(), "credits.csv", guild_id=GUILD)
    recs = await service.recommendations(guild_id=GUILD)  # failed validation (negative monthly cost) before
    assert [r for r in recs.items if r.kind == RecommendationKind.COMMITMENT] == []
    assert all(r.monthly_cost_current >= 0 for r in recs.items)
