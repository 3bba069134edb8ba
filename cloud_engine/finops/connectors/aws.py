"""AWS: Cost Explorer daily costs by service and region, CloudWatch utilisation for EC2.

Cost Explorer returns aggregates, not resources, so cost rows carry no ResourceId (FOCUS
allows null); they still feed summaries, forecasts, anomalies and commitment advice.
BilledCost = UnblendedCost, EffectiveCost = NetAmortizedCost (amortised commitments, after
discounts). Pagination: Cost Explorer via NextPageToken, GetMetricData via NextToken.
ServiceName: Cost Explorer's SERVICE names differ from the CUR/FOCUS names for a few services
(see `CE_SERVICE_NAMES`); they are renamed so connector rows and FOCUS exports name the same
service alike, which the commitment data file and its exact-name join rely on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

import boto3
import pyarrow as pa

from cloud_engine.finops.connectors.base import (
    RetryPolicy,
    focus_table,
    in_thread,
    metric_table,
    require,
    with_retries,
)
from cloud_engine.settings import Settings

# CloudWatch metric -> (our metric, unit, statistic, namespace)
EC2_METRICS: dict[str, tuple[str, str, str, str]] = {
    "CPUUtilization": ("cpu", "percent", "Average", "AWS/EC2"),
    "NetworkIn": ("network_in", "bytes", "Sum", "AWS/EC2"),
    "NetworkOut": ("network_out", "bytes", "Sum", "AWS/EC2"),
    "DiskReadBytes": ("disk_read", "bytes", "Sum", "AWS/EC2"),
    "DiskWriteBytes": ("disk_write", "bytes", "Sum", "AWS/EC2"),
    "mem_used_percent": ("memory", "percent", "Average", "CWAgent"),
}
MAX_QUERIES = 500  # GetMetricData limit per request
# Cost Explorer SERVICE dimension value -> the service name AWS's CUR and FOCUS exports use.
# Names that already agree (AWS Lambda, Amazon Relational Database Service, Amazon Simple
# Storage Service, ...) pass through unchanged. "EC2 - Other" (EBS volumes and snapshots, NAT
# gateways, Elastic IPs, data transfer) is kept as is on purpose: a FOCUS export files it under
# Amazon Elastic Compute Cloud too, but Compute Savings Plans do not cover it, and folding it
# in would count storage and networking into the commitment baseline.
CE_SERVICE_NAMES: dict[str, str] = {
    "Amazon Elastic Compute Cloud - Compute": "Amazon Elastic Compute Cloud",
    "Amazon Elastic Load Balancing": "Elastic Load Balancing",
}


def instance_id(resource_id: str) -> str:
    """i-0abc from an EC2 ARN (arn:aws:ec2:region:acct:instance/i-0abc) or a bare id."""
    return resource_id.rsplit("/", 1)[-1]


class AwsConnector:
    source_kind = "aws_api"
    source_name = "aws:cost-explorer+cloudwatch"

    def __init__(self, settings: Settings, *, session: boto3.session.Session | None = None,
                 retry: RetryPolicy | None = None) -> None:
        if session is None:
            creds = require(settings, "AWS", ("aws_access_key_id", "aws_secret_access_key"))
            session = boto3.session.Session(
                aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"],
                region_name=settings.aws_region)
        self._ce = session.client("ce", region_name="us-east-1")  # Cost Explorer is a us-east-1 endpoint
        self._cw = session.client("cloudwatch", region_name=settings.aws_region)
        self.retry = retry or RetryPolicy()

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        rows: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "DAILY",
                "Metrics": ["UnblendedCost", "NetAmortizedCost"],
                "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "REGION"}],
            }
            if token:
                kwargs["NextPageToken"] = token
            page = await with_retries(self.retry, "AWS", "GetCostAndUsage",
                                      partial(in_thread, self._ce.get_cost_and_usage, **kwargs))
            rows += cost_rows(page)
            token = page.get("NextPageToken")
            if not token:
                return focus_table(rows)

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        queries, owners = [], {}
        for n, rid in enumerate(resource_ids):
            for m, (metric, _, stat, namespace) in EC2_METRICS.items():
                qid = f"q{n}_{metric}"
                owners[qid] = (rid, m)
                queries.append({"Id": qid, "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": m,
                               "Dimensions": [{"Name": "InstanceId", "Value": instance_id(rid)}]},
                    "Period": 3600, "Stat": stat}})
        points: list[tuple[str, str, str, float, str]] = []
        for i in range(0, len(queries), MAX_QUERIES):
            batch = queries[i:i + MAX_QUERIES]
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {
                    "MetricDataQueries": batch, "StartTime": datetime.combine(start, time(), UTC),
                    "EndTime": datetime.combine(end, time(), UTC), "ScanBy": "TimestampAscending",
                }
                if token:
                    kwargs["NextToken"] = token
                page = await with_retries(self.retry, "AWS", "GetMetricData",
                                          partial(in_thread, self._cw.get_metric_data, **kwargs))
                points += metric_points(page, owners)
                token = page.get("NextToken")
                if not token:
                    break
        return metric_table(points)


def focus_service_name(service: str) -> str:
    """The CUR/FOCUS name of a Cost Explorer SERVICE value (unknown names pass through)."""
    return CE_SERVICE_NAMES.get(service.strip(), service)


def cost_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """One FOCUS row per (day, service, region) group of a GetCostAndUsage page."""
    rows = []
    for period in page.get("ResultsByTime", []):
        for group in period.get("Groups", []):
            keys = group.get("Keys", [])
            service, region = (keys + ["", ""])[:2]
            metrics = group.get("Metrics", {})
            billed = metrics.get("UnblendedCost", {})
            effective = metrics.get("NetAmortizedCost", billed)
            rows.append({
                "BilledCost": float(billed.get("Amount", 0)), "EffectiveCost": float(effective.get("Amount", 0)),
                "ChargePeriodStart": period["TimePeriod"]["Start"], "ChargePeriodEnd": period["TimePeriod"]["End"],
                "ServiceName": focus_service_name(service), "ResourceId": None, "RegionId": region or None, "ProviderName": "AWS",
                "BillingCurrency": billed.get("Unit", "USD"), "ChargeCategory": "Usage",
            })
    return rows


def metric_points(page: dict[str, Any], owners: dict[str, tuple[str, str]]) -> list[tuple[str, str, str, float, str]]:
    out = []
    for result in page.get("MetricDataResults", []):
        rid, cw_name = owners[result["Id"]]
        metric, unit, _, _ = EC2_METRICS[cw_name]
        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
            stamp = ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(ts, datetime) else str(ts)
            out.append((rid, metric, stamp, float(value), unit))
    return out


__all__ = ["CE_SERVICE_NAMES", "EC2_METRICS", "AwsConnector", "cost_rows", "focus_service_name", "instance_id",
           "metric_points"]
