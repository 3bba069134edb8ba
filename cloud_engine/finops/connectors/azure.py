"""Azure: Cost Management query (daily ActualCost by resource and service, following
nextLink pages) and Azure Monitor VM metrics.

The query groups by ResourceId and ServiceName (the API allows two dimensions), so RegionId
comes from the `ResourceLocation` column when the API includes it and is null otherwise.
"Available Memory Percentage" is converted to used memory (100 - available).
`allow_http` exists only so tests can talk to a loopback fake; production keeps HTTPS.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from azure.core.credentials import AccessToken
from azure.core.rest import HttpRequest

from cloud_engine.finops.connectors.base import RetryPolicy, focus_table, metric_table, require, with_retries
from cloud_engine.settings import Settings

ARM = "https://management.azure.com"
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

    def query_body(self, start: date, end: date) -> dict[str, Any]:
        return {
            "type": "ActualCost", "timeframe": "Custom",
            "timePeriod": {"from": f"{start.isoformat()}T00:00:00Z", "to": f"{end.isoformat()}T00:00:00Z"},
            "dataset": {
                "granularity": "Daily",
                "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
                "grouping": [{"type": "Dimension", "name": "ResourceId"},
                             {"type": "Dimension", "name": "ServiceName"}],
            },
        }

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        from azure.mgmt.costmanagement.aio import CostManagementClient

        body = self.query_body(start, end)
        rows: list[dict[str, Any]] = []
        async with CostManagementClient(self.credential, base_url=self.base_url) as client:
            result = await with_retries(self.retry, "Azure", "Cost Management query", lambda: client.query.usage(
                f"subscriptions/{self.subscription_id}", body, **self._extra))
            page: dict[str, Any] = result.as_dict() if result is not None else {}
            while True:
                rows += cost_rows(page)
                next_link = page.get("properties", {}).get("nextLink") or page.get("nextLink")
                if not next_link:
                    break
                response = await with_retries(self.retry, "Azure", "Cost Management query page", lambda link=next_link:
                                              client.send_request(HttpRequest("POST", link, json=body), **self._extra))
                response.raise_for_status()
                page = response.json()
        return focus_table(rows)

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        from azure.mgmt.monitor.aio import MonitorManagementClient

        points: list[tuple[str, str, str, float, str]] = []
        async with MonitorManagementClient(self.credential, self.subscription_id, base_url=self.base_url) as client:
            for rid in resource_ids:
                response = await with_retries(self.retry, "Azure", "Monitor metrics", lambda r=rid: client.metrics.list(
                    r, timespan=f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T00:00:00Z", interval="PT1H",
                    metricnames=",".join(VM_METRICS), aggregation="Average,Total", **self._extra))
                points += metric_points(rid, response.as_dict())
        return metric_table(points)


def cost_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Map a query result (columns + rows) to FOCUS rows; columns are matched by name."""
    props = page.get("properties", page)
    names = [str(c.get("name", "")).lower() for c in props.get("columns", [])]
    out = []
    for values in props.get("rows", []):
        row = dict(zip(names, values, strict=False))
        cost = float(row.get("cost", row.get("pretaxcost", 0.0)) or 0.0)
        day = str(row.get("usagedate", ""))
        start = f"{day[:4]}-{day[4:6]}-{day[6:8]}" if len(day) == 8 else day[:10]
        out.append({
            "BilledCost": cost, "EffectiveCost": cost, "ChargePeriodStart": start,
            "ChargePeriodEnd": _next_day(start), "ServiceName": row.get("servicename"),
            "ResourceId": row.get("resourceid") or None, "RegionId": row.get("resourcelocation"),
            "ResourceName": str(row.get("resourceid") or "").rsplit("/", 1)[-1] or None,
            "ProviderName": "Microsoft", "BillingCurrency": row.get("currency", "USD"), "ChargeCategory": "Usage",
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


__all__ = ["VM_METRICS", "AzureConnector", "StaticTokenCredential", "cost_rows", "metric_points"]
