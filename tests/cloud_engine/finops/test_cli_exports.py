"""`python main.py ingest aws` with AWS_DATA_EXPORT_S3_URI set reads the Data Export (moto S3): one
line per file naming its s3:// source, and a re-run adds nothing; a missing bucket is one error line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cloud_engine.cli import main
from tests.cloud_engine.finops.test_cli import env  # noqa: F401 - the CLI's temporary stores
from tests.cloud_engine.finops.test_connector_aws_export import BUCKET, ROOT, focus_export


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DATA_EXPORT_S3_URI", f"s3://{BUCKET}/{ROOT}")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield focus_export()


def test_ingest_aws_reads_the_export_file_by_file(env: Path, exported: tuple[str, str],  # noqa: F811
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    one, two = exported
    assert main(["ingest", "aws", "--days", "60", "--guild", "5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith("metrics: ")  # the instance was asked for; CloudWatch has none
    assert f"aws-data-export:s3://{BUCKET}/{one} (aws_export, FOCUS" in lines[0] and "added 1" in lines[0]
    assert f"aws-data-export:s3://{BUCKET}/{two}" in lines[1]
    assert main(["ingest", "aws", "--days", "60", "--guild", "5"]) == 0
    assert all("added 0, restated 0, unchanged 1" in line for line in capsys.readouterr().out.splitlines()[:2])


def test_ingest_aws_with_a_missing_bucket_is_one_error_line(env: Path, exported: tuple[str, str],  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_DATA_EXPORT_S3_URI", f"s3://missing-bucket/{ROOT}")
    assert main(["ingest", "aws", "--days", "60", "--guild", "5"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bucket missing-bucket does not exist" in err[0]
