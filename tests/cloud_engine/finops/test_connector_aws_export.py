"""AWS Data Exports connector against moto's S3 and CloudWatch (no network): the files a
manifest lists are imported with their resource ids and their own s3:// provenance, CUR 2.0
is amortised and regional, CloudWatch points join by instance id, a re-import adds nothing,
and a missing bucket or prefix, refused credentials or a bad manifest fail in one line."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from cloud_engine.finops import FinOpsService
from cloud_engine.finops.connectors.aws_export import AwsDataExportConnector
from cloud_engine.finops.connectors.base import RetryPolicy
from cloud_engine.finops.connectors.exports import sync_connector
from cloud_engine.finops.connectors.registry import build_connector
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.finops.sync import run_sync, sync_status
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from tests.cloud_engine.finops.conftest import GUILD

FAST = RetryPolicy(attempts=2, initial_s=0.0, max_s=0.0)
BUCKET, ROOT = "billing-exports", "cur/focus-daily"
ARN = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc1234def567890"
START, END = date(2026, 11, 1), date(2026, 11, 3)
FOCUS_HEADER = ("BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId,"
                "BillingCurrency,ProviderName,ChargeCategory,SubAccountId\n")


def focus_part(*rows: str) -> bytes:
    return gzip.compress((FOCUS_HEADER + "".join(r + "\n" for r in rows)).encode())


def put(key: str, body: bytes) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=body)


def put_manifest(period: str, keys: list[str], name: str = "focus-daily-Manifest.json") -> None:
    put(f"{ROOT}/metadata/BILLING_PERIOD={period}/{name}", json.dumps({
        "executionId": "e-1", "exportArn": "arn:aws:bcm-data-exports:us-east-1:123456789012:export/x",
        "dataFiles": [f"s3://{BUCKET}/{k}" for k in keys]}).encode())


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield Settings(_env_file=None, aws_access_key_id="testing", aws_secret_access_key="testing",
                       aws_data_export_s3_uri=f"s3://{BUCKET}/{ROOT}")


def put_cpu(instance: str, value: float) -> None:
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(Namespace="AWS/EC2", MetricData=[{
        "MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": instance}],
        "Timestamp": datetime(2026, 11, 1, 10, tzinfo=UTC), "Value": value, "Unit": "Percent"}])


def focus_export() -> tuple[str, str]:
    data = f"{ROOT}/data/BILLING_PERIOD=2026-11"
    one, two = f"{data}/focus-daily-00001.csv.gz", f"{data}/focus-daily-00002.csv.gz"
    put(one, focus_part(f"3.0,2.0,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Amazon Elastic Compute Cloud,{ARN},"
                        "eu-west-1,USD,AWS,Usage,123456789012"))
    put(two, focus_part("0.5,0.5,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Amazon Simple Storage Service,"
                        "arn:aws:s3:::logs,eu-west-1,USD,AWS,Usage,123456789012"))
    put(f"{data}/focus-daily-00003.csv.gz", focus_part(  # left over from an older refresh: not in the manifest
        "99.0,99.0,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Stale,arn:aws:s3:::old,eu-west-1,USD,AWS,Usage,1"))
    put_manifest("2026-11", [one, two])
    return one, two


async def ledger(service: FinOpsService, sql: str) -> list[tuple]:
    return await service.ledger.run(lambda conn: conn.execute(sql, [GUILD]).fetchall())


async def test_focus_export_imports_resources_with_file_provenance_and_cloudwatch(
        service: FinOpsService, aws: Settings) -> None:
    one, two = focus_export()
    put_cpu("i-0abc1234def567890", 12.5)
    connector = build_connector("aws", aws)
    assert isinstance(connector, AwsDataExportConnector)
    connector.retry = FAST
    reports = await sync_connector(service, "aws", connector, START, END, guild_id=GUILD)
    costs, metrics = reports[:-1], reports[-1]
    assert [(r.source_name, r.rows_added) for r in costs] == [
        (f"aws-data-export:s3://{BUCKET}/{one}", 1), (f"aws-data-export:s3://{BUCKET}/{two}", 1)]
    got = await ledger(service, "SELECT resource_id, region_id, billed_cost, effective_cost, source_kind, source_name "
                                "FROM cost_lines WHERE guild_id = ? ORDER BY billed_cost DESC")
    assert got == [(ARN, "eu-west-1", 3.0, 2.0, "aws_export", f"aws-data-export:s3://{BUCKET}/{one}"),
                   ("arn:aws:s3:::logs", "eu-west-1", 0.5, 0.5, "aws_export", f"aws-data-export:s3://{BUCKET}/{two}")]
    assert metrics.target == "metrics" and metrics.rows_added == 1
    points = await ledger(service, "SELECT resource_id, metric, value FROM metric_points WHERE guild_id = ?")
    assert points == [(ARN, "cpu", 12.5)]


async def test_reimporting_the_same_export_adds_nothing(service: FinOpsService, aws: Settings) -> None:
    focus_export()
    connector = AwsDataExportConnector(aws, retry=FAST)
    await sync_connector(service, "aws", connector, START, END, guild_id=GUILD)
    again = await sync_connector(service, "aws", connector, START, END, guild_id=GUILD)
    assert [(r.rows_added, r.rows_unchanged) for r in again if r.target == "costs"] == [(0, 1), (0, 1)]
    assert (await ledger(service, "SELECT count(*) FROM cost_lines WHERE guild_id = ?")) == [(2,)]


def cur2_parquet() -> bytes:
    table = pa.table({
        "line_item_line_item_type": ["SavingsPlanCoveredUsage", "SavingsPlanNegation", "Usage"],
        "line_item_usage_start_date": ["2026-11-01T00:00:00Z"] * 3,
        "line_item_usage_end_date": ["2026-11-01T01:00:00Z"] * 3,
        "line_item_resource_id": ["i-0abc1234def567890", "i-0abc1234def567890", "vol-0123"],
        "line_item_unblended_cost": [0.40, -0.40, 0.10],
        "savings_plan_savings_plan_effective_cost": [0.25, 0.0, 0.0],
        "line_item_currency_code": ["USD"] * 3,
        "line_item_product_code": ["AmazonEC2"] * 3,
        "line_item_usage_account_id": ["123456789012"] * 3,
        "line_item_usage_amount": [1.0, 1.0, 8.0],
        "product_region_code": ["eu-north-1"] * 3,
        "product_instance_type": ["m5.large", "m5.large", ""],
        "product": pa.array([[("product_name", "Amazon Elastic Compute Cloud")]] * 3, pa.map_(pa.string(), pa.string())),
        "resource_tags": pa.array([[("user_env", "prod")], [], []], pa.map_(pa.string(), pa.string())),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


async def test_cur2_export_is_amortised_regional_and_metered_by_bare_instance_id(
        service: FinOpsService, aws: Settings) -> None:
    key = f"{ROOT}/data/BILLING_PERIOD=2026-11/cur2-00001.snappy.parquet"
    put(key, cur2_parquet())
    put_manifest("2026-11", [key])
    put_cpu("i-0abc1234def567890", 40.0)
    reports = await sync_connector(service, "aws", AwsDataExportConnector(aws, retry=FAST), START, END,
                                   guild_id=GUILD)
    assert reports[0].source_name == f"aws-data-export:s3://{BUCKET}/{key}"
    got = await ledger(service, "SELECT charge_category, resource_id, service_name, region_id, billed_cost, "
                                "effective_cost, tags, sku_price_details FROM cost_lines WHERE guild_id = ? "
                                "ORDER BY effective_cost DESC")
    # the covered hour and its negation are one charge: nothing billed on demand, 0.25 amortised from the plan
    instance, volume = got
    assert instance[:4] == ("Usage", "i-0abc1234def567890", "Amazon Elastic Compute Cloud", "eu-north-1")
    assert instance[4] == pytest.approx(0.0) and instance[5] == pytest.approx(0.25)
    assert json.loads(instance[6]) == {"user_env": "prod"} and json.loads(instance[7]) == {"InstanceType": "m5.large"}
    assert volume[1:6] == ("vol-0123", "Amazon Elastic Compute Cloud", "eu-north-1", 0.10, 0.10)
    assert reports[0].rows_merged == 1
    assert reports[-1].target == "metrics" and reports[-1].rows_added == 1


async def test_newest_manifest_of_a_period_wins(service: FinOpsService, aws: Settings) -> None:
    one, two = focus_export()
    await asyncio.sleep(1.1)  # S3 LastModified has one-second resolution
    put_manifest("2026-11", [two], name="e-2/focus-daily-Manifest.json")  # a later execution
    reports = await sync_connector(service, "aws", AwsDataExportConnector(aws, retry=FAST), START, END,
                                   guild_id=GUILD)
    assert [r.source_name for r in reports if r.target == "costs"] == [f"aws-data-export:s3://{BUCKET}/{two}"]


async def test_missing_bucket_is_one_line(aws: Settings) -> None:
    settings = aws.model_copy(update={"aws_data_export_s3_uri": f"s3://no-such-bucket/{ROOT}"})
    with pytest.raises(ConnectorError) as err:
        await AwsDataExportConnector(settings, retry=FAST).list_files(START, END)
    assert "bucket no-such-bucket does not exist" in str(err.value) and "\n" not in str(err.value)


async def test_prefix_without_manifest_says_where_it_looked(service: FinOpsService, aws: Settings) -> None:
    with pytest.raises(ConnectorError) as err:
        await sync_connector(service, "aws", AwsDataExportConnector(aws, retry=FAST), START, END, guild_id=GUILD)
    text = str(err.value)
    assert f"no manifest under s3://{BUCKET}/{ROOT}/metadata/ for billing period(s) 2026-11" in text
    assert "\n" not in text
    runs = await service.recent_runs(guild_id=GUILD)
    assert runs[0]["status"] == "failed" and "no manifest" in str(runs[0]["error"])  # freshness sees the failure


async def test_malformed_manifest_is_one_line(aws: Settings) -> None:
    put(f"{ROOT}/metadata/BILLING_PERIOD=2026-11/focus-daily-Manifest.json", b'{"files": []}')
    with pytest.raises(ConnectorError, match="is not a Data Exports manifest: it needs dataFiles") as err:
        await AwsDataExportConnector(aws, retry=FAST).list_files(START, END)
    assert "\n" not in str(err.value)
    put(f"{ROOT}/metadata/BILLING_PERIOD=2026-11/focus-daily-Manifest.json", b"{not json")
    with pytest.raises(ConnectorError, match="is not JSON"):
        await AwsDataExportConnector(aws, retry=FAST).list_files(START, END)


def test_refused_credentials_are_one_line_without_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    settings = Settings(_env_file=None, aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key=secret,
                        aws_data_export_s3_uri=f"s3://{BUCKET}/{ROOT}")

    @set_initial_no_auth_action_count(0)  # moto checks keys against its IAM: this one is unknown
    def attempt() -> str:
        with mock_aws(), pytest.raises(ConnectorError) as err:
            asyncio.run(AwsDataExportConnector(settings, retry=FAST).list_files(START, END))
        return str(err.value)

    text = attempt()
    assert "AWS refused the credentials" in text and "AWS_SECRET_ACCESS_KEY" in text
    assert secret not in text and "\n" not in text


async def test_a_sync_reads_the_export_and_freshness_follows_it(aws: Settings) -> None:
    one, two = focus_export()
    settings = aws.model_copy(update={"database_path": ":memory:", "finops_db_path": ":memory:"})
    db = await Database.open(":memory:")
    service = await FinOpsService.open(settings, db)
    try:
        outcome = await run_sync(service, "aws", guild_id=GUILD, trigger="command", days=2, today=date(2026, 11, 1))
        assert outcome.ok, outcome.error
        assert [r.source_name for r in outcome.reports if r.target == "costs"] == [
            f"aws-data-export:s3://{BUCKET}/{one}", f"aws-data-export:s3://{BUCKET}/{two}"]
        status = await sync_status(db, settings, guild_id=GUILD)
        source = next(s for s in status.sources if s.provider == "aws")
        assert source.source_kind == "aws_export" and source.last_success_at is not None and not source.failing
    finally:
        await service.close()
        await db.close()
