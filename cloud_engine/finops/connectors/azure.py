"""Azure: Cost Management query (daily amortised and actual costs by resource, service and
region, following nextLink pages) and Azure Monitor VM metrics.

Why three queries: a query may group by two dimensions only, and the ledger needs resource,
service and region (RegionId feeds CO2e and green-region advice). So each sync asks for
- AmortizedCost by ResourceId and ServiceName: EffectiveCost (a reservation's or savings
  plan's purchase spread over the usage it covers, unused hours as their own charge);
- ActualCost by the same two: BilledCost (what the invoice says; a reservation bought with
  an upfront payment is billed on its purchase day, under the reservation, at no usage cost);
- AmortizedCost by ResourceId and ResourceLocation: the region of each resource id (one
  resource lives in one region), joined case-insensitively, since ARM ids vary in case.
Rows are matched on (day, resource, service, currency); a charge only the actual view holds
is a purchase (ChargeCategory Purchase, EffectiveCost 0). "Available Memory Percentage" is
converted to used memory (100 - available).
`allow_http` exists only so tests can talk to a loopback fake; production keeps HTTPS.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any

import pyarrow as pa
from azure.core.credentials import AccessToken
from azure.core.rest import HttpRequest

from cloud_engine.finops.connectors.base import RetryPolicy, focus_table, metric_table, require, with_retries
from cloud_engine.settings import Settings

ARM = "https://management.azure.com"
BY_SERVICE = ("ResourceId", "ServiceName")
BY_LOCATION = ("ResourceId", "ResourceLocation")
# Azure Monitor metric -> (our metric, unit, aggregation field)
VM_METRICS: dict[str, tuple[str, str, str]] = {
    "Percentage CPU": ("cpu", "percent", "average"),
    "Available Memory Percentage": ("memory", "percent", "average"),
    "Network In Total": ("network_in", "bytes", "total"),
    "Network Out Total": ("network_out", "bytes", "total"),
    "Disk Read Bytes": ("disk_read", "bytes", "total"),
    "Disk Write Bytes": ("disk_write", "bytes", "total"),
}


class AzureConnector:
    source_kind = "azure_api"
    source_name = "azure:cost-management+monitor"

    def __init__(self, settings: Settings, *, credential: Any = None, base_url: str = ARM,
                 retry: RetryPolicy | None = None, allow_http: bool = False) -> None:
        if credential is None:
            creds = require(settings, "Azure", ("azure_tenant_id", "azure_client_id", "azure_client_secret",
                                                "azure_subscription_id"))
            from azure.identity.aio import ClientSecretCredential

            credential = ClientSecretCredential(creds["azure_tenant_id"], creds["azure_client_id"],
                                                creds["azure_client_secret"])
        self.subscription_id = require(settings, "Azure", ("azure_subscription_id",))["azure_subscription_id"]
        self.credential = credential
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._extra: dict[str, Any] = {"enforce_https": False} if allow_http else {}

    def query_body(self, start: date, end: date, cost_type: str = "AmortizedCost",
                   grouping: tuple[str, str] = BY_SERVICE) -> dict[str, Any]:
        """One Cost Management query: daily `cost_type` (AmortizedCost | ActualCost) grouped by two dimensions."""
        return {
            "type": cost_type, "timeframe": "Custom",
            "timePeriod": {"from": f"{start.isoformat()}T00:00:00Z", "to": f"{end.isoformat()}T00:00:00Z"},
            "dataset": {
                "granularity": "Daily",
                "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
                "grouping": [{"type": "Dimension", "name": name} for name in grouping],
            },
        }

    async def _query(self, client: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of one query (all nextLink pages) as {lower-case column name: value}."""
        what = f"Cost Management query ({body['type']} by {', '.join(g['name'] for g in body['dataset']['grouping'])})"
        result = await with_retries(self.retry, "Azure", what, lambda: client.query.usage(
            f"subscriptions/{self.subscription_id}", body, **self._extra))
        page: dict[str, Any] = result.as_dict() if result is not None else {}
        rows: list[dict[str, Any]] = []
        while True:
            rows += page_rows(page)
            next_link = page.get("properties", {}).get("nextLink") or page.get("nextLink")
            if not next_link:
                return rows
            response = await with_retries(self.retry, "Azure", f"{what} page", partial(
                client.send_request, HttpRequest("POST", next_link, json=body), **self._extra))
            response.raise_for_status()
            page = response.json()

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        from azure.mgmt.costmanagement.aio import CostManagementClient

        async with CostManagementClient(self.credential, base_url=self.base_url) as client:
            amortized = await self._query(client, self.query_body(start, end, "AmortizedCost", BY_SERVICE))
            actual = await self._query(client, self.query_body(start, end, "ActualCost", BY_SERVICE))
            located = await self._query(client, self.query_body(start, end, "AmortizedCost", BY_LOCATION))
        return focus_table(cost_rows(amortized, actual, located))

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        from azure.mgmt.monitor.aio import MonitorManagementClient

        points: list[tuple[str, str, str, float, str]] = []
        async with MonitorManagementClient(self.credential, self.subscription_id, base_url=self.base_url) as client:
            for rid in resource_ids:
                response = await with_retries(self.retry, "Azure", "Monitor metrics", partial(
                    client.metrics.list, rid, timespan=f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T00:00:00Z",
                    interval="PT1H", metricnames=",".join(VM_METRICS), aggregation="Average,Total", **self._extra))
                points += metric_points(rid, dict(response.as_dict()))
        return metric_table(points)


def page_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """A query result's rows (columns + rows) as dicts keyed by lower-case column name."""
    props = page.get("properties", page)
    names = [str(c.get("name", "")).lower() for c in props.get("columns", [])]
    return [dict(zip(names, values, strict=False)) for values in props.get("rows", [])]


def _day(row: dict[str, Any]) -> str:
    day = str(row.get("usagedate", ""))
    return f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 else day[:10]


def _cost(row: dict[str, Any]) -> float:
    return float(row.get("cost", row.get("pretaxcost", 0.0)) or 0.0)


def cost_rows(amortized: Sequence[dict[str, Any]], actual: Sequence[dict[str, Any]] = (),
              located: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """FOCUS rows from the amortised and actual views by (resource, service), with regions by resource."""
    regions: dict[str, str] = {}
    for row in located:
        rid, where = str(row.get("resourceid") or "").lower(), row.get("resourcelocation")
        if rid and where:
            regions.setdefault(rid, str(where))
    charges: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for view, rows in (("effective", amortized), ("billed", actual)):
        for row in rows:
            rid = str(row.get("resourceid") or "")
            key = (_day(row), rid.lower(), str(row.get("servicename") or ""), str(row.get("currency") or "USD"))
            charge = charges.setdefault(key, {"resource_id": rid, "effective": None, "billed": None})
            charge[view] = (charge[view] or 0.0) + _cost(row)
    out = []
    for (start, rid_lower, service, currency), charge in charges.items():
        resource: str | None = charge["resource_id"] or None
        purchase = charge["effective"] is None  # only the actual view bills it: a purchase, amortised elsewhere
        out.append({
            "BilledCost": charge["billed"] or 0.0, "EffectiveCost": charge["effective"] or 0.0,
            "ChargePeriodStart": start, "ChargePeriodEnd": _next_day(start), "ServiceName": service or None,
            "ResourceId": resource, "RegionId": regions.get(rid_lower) if rid_lower else None,
            "ResourceName": str(resource or "").rsplit("/", 1)[-1] or None,
            "ProviderName": "Microsoft", "BillingCurrency": currency,
            "ChargeCategory": "Purchase" if purchase else "Usage",
        })
    return out


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def metric_points(resource_id: str, response: dict[str, Any]) -> list[tuple[str, str, str, float, str]]:
    out = []
    for metric in response.get("value", []):
        name = metric.get("name", {}).get("value")
        if name not in VM_METRICS:
            continue
        ours, unit, field = VM_METRICS[name]
        for series in metric.get("timeseries", []):
            for point in series.get("data", []):
                value = point.get(field)
                if value is None:
                    continue
                stamp = str(point.get("time_stamp") or point.get("timeStamp"))
                out.append((resource_id, ours, stamp, 100.0 - float(value) if ours == "memory" else float(value), unit))
    return out


class StaticTokenCredential:
    """A fixed bearer token (for loopback fakes and pre-issued tokens); never logs the token."""

    def __init__(self, token: str, expires_on: int = 4_102_444_800) -> None:
        self._token = AccessToken(token, expires_on)

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._token

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


__all__ = ["BY_LOCATION", "BY_SERVICE", "VM_METRICS", "AzureConnector", "StaticTokenCredential", "cost_rows",
           "metric_points", "page_rows"]
