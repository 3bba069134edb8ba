"""AWS connector: Cost Explorer mapping and pagination with moto's result queue, CloudWatch
metrics with moto (put then get), GetMetricData NextToken pagination and throttling retries
with botocore's Stubber (moto does not paginate GetMetricData)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.aws import AwsConnector
from cloud_engine.finops.connectors.base import RetryPolicy
from cloud_engine.finops.errors import MissingCredentials
from cloud_engine.settings import Settings
from tests.cloud_engine.finops.conftest import GUILD

FAST = RetryPolicy(attempts=3, initial_s=0.0, max_s=0.0)
ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"


def group(service: str, region: str, billed: str, net: str) -> dict:
    return {"Keys": [service, region], "Metrics": {"UnblendedCost": {"Amount": billed, "Unit": "USD"},
                                                   "NetAmortizedCost": {"Amount": net, "Unit": "USD"}}}


def day(start: str, end: str, *groups: dict) -> dict:
    return {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": list(groups), "Estimated": False}


def queue_cost_explorer_results(pages: list[dict]) -> None:
    """moto's documented hook: GetCostAndUsage answers from this queue (intercepted, no network)."""
    resp = requests.post("http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
                         json={"results": pages}, timeout=5)
    assert resp.status_code == 201


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def aws_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    return Settings(_env_file=None, aws_access_key_id="testing", aws_secret_access_key="testing")


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(MissingCredentials, match="AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"):
        AwsConnector(Settings(_env_file=None, aws_access_key_id=None, aws_secret_access_key=None))


async def test_cost_explorer_pages_map_to_focus(service: FinOpsService, aws_settings: Settings,
                                                mocked_aws: None) -> None:
    pages = [
        {"ResultsByTime": [day("2026-11-01", "2026-11-02", group("Amazon Elastic Compute Cloud - Compute",
                                                                  "us-east-1", "10.5", "9.25"))],
         "NextPageToken": "page-2", "DimensionValueAttributes": []},
        {"ResultsByTime": [day("2026-11-02", "2026-11-03", group("Amazon Simple Storage Service", "us-west-2",
                                                                  "1.25", "1.25"))],
         "DimensionValueAttributes": []},
    ]
    queue_cost_explorer_results(pages)
    connector = AwsConnector(aws_settings, retry=FAST)
    costs, _ = await service.ingest_connector(connector, date(2026, 11, 1), date(2026, 11, 3), guild_id=GUILD)
    assert (costs.rows_read, costs.rows_added, costs.source_kind) == (2, 2, "aws_api")
    summary = await service.cost_summary(by="service", guild_id=GUILD)
    assert {(g.key, g.billed_cost, g.effective_cost) for g in summary.groups} == {
        ("Amazon Elastic Compute Cloud", 10.5, 9.25), ("Amazon Simple Storage Service", 1.25, 1.25)}
    regions = await service.cost_summary(by="region", guild_id=GUILD)
    assert {g.key for g in regions.groups} == {"us-east-1", "us-west-2"}


async def test_cloudwatch_metrics_are_normalised(service: FinOpsService, aws_settings: Settings,
                                                 mocked_aws: None) -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    stamp = datetime(2026, 11, 1, 10, tzinfo=UTC)
    for name, value, unit in (("CPUUtilization", 7.5, "Percent"), ("NetworkIn", 2048.0, "Bytes")):
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{
            "MetricName": name, "Dimensions": [{"Name": "InstanceId", "Value": "i-0abc"}],
            "Timestamp": stamp, "Value": value, "Unit": unit}])
    connector = AwsConnector(aws_settings, retry=FAST)
    table = await connector.fetch_metrics([ARN], date(2026, 11, 1), date(2026, 11, 2))
    got = {(r["metric"], r["value"], r["unit"]) for r in table.to_pylist()}
    assert got == {("cpu", 7.5, "percent"), ("network_in", 2048.0, "bytes")}
    assert {r["resource_id"] for r in table.to_pylist()} == {ARN}


async def test_metric_pagination_and_throttling_retry(aws_settings: Settings) -> None:
    connector = AwsConnector(aws_settings, retry=FAST)
    stub = Stubber(connector._cw)
    stamp = datetime(2026, 11, 1, 10, tzinfo=UTC)
    stub.add_client_error("get_metric_data", service_error_code="Throttling", http_status_code=400)
    stub.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": "q0_cpu", "Label": "c", "Timestamps": [stamp], "Values": [3.0], "StatusCode": "Complete"}],
        "NextToken": "more"})
    stub.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": "q0_cpu", "Label": "c", "Timestamps": [stamp.replace(hour=11)], "Values": [4.0],
         "StatusCode": "Complete"}]})
    with stub:
        table = await connector.fetch_metrics([ARN], date(2026, 11, 1), date(2026, 11, 2))
    stub.assert_no_pending_responses()
    assert table.column("value").to_pylist() == [3.0, 4.0]


async def test_cost_explorer_pagination_token_is_sent(aws_settings: Settings) -> None:
    connector = AwsConnector(aws_settings, retry=FAST)
    stub = Stubber(connector._ce)
    stub.add_response("get_cost_and_usage", {"ResultsByTime": [day("2026-11-01", "2026-11-02", group("A", "r", "1", "1"))],
                                             "NextPageToken": "t2"})
    stub.add_response("get_cost_and_usage", {"ResultsByTime": [day("2026-11-02", "2026-11-03", group("A", "r", "2", "2"))]},
                      expected_params={"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-03"},
                                       "Granularity": "DAILY", "Metrics": ["UnblendedCost", "NetAmortizedCost"],
                                       "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                                   {"Type": "DIMENSION", "Key": "REGION"}],
                                       "NextPageToken": "t2"})
    with stub:
        table = await connector.fetch_costs(date(2026, 11, 1), date(2026, 11, 3))
    assert table.column("BilledCost").to_pylist() == [1.0, 2.0]
