"""AWS Data Exports in S3 (FOCUS 1.2 or CUR 2.0): resource-level costs, plus CloudWatch utilisation.

Cost Explorer (`aws.py`) answers with service and region totals and no ResourceId; an export
holds one line per resource and hour or day. AWS writes it under the export's root
(`AWS_DATA_EXPORT_S3_URI` = s3://bucket/prefix/export-name):

    <root>/data/BILLING_PERIOD=YYYY-MM/<export-name>-00001.csv.gz | .snappy.parquet ...
    <root>/metadata/BILLING_PERIOD=YYYY-MM/<export-name>-Manifest.json

and rewrites a period's files at each refresh (at least daily, and up to weeks after the
month ends). The manifest, written after the data files, lists the period's current files
(`dataFiles`, full s3:// URIs): the files are taken from it, never from listing data/, so
a refresh half written or an old execution's files left behind are not read. With the
"create new export" delivery a period has one manifest per execution; the newest is read.

Each file is downloaded and imported on its own (`exports.import_export`), its rows keeping
`aws-data-export:s3://bucket/key` as their source. A FOCUS 1.2 file is imported as it is; a
CUR 2.0 file is converted first (`cur2.py`). Utilisation comes from CloudWatch for the EC2
instances the costs name (`AwsConnector.fetch_metrics`; CUR names an instance by its bare
id, which CloudWatch's InstanceId dimension takes as is).

Least privilege: s3:ListBucket on the bucket (for the metadata/ prefix), s3:GetObject on
<root>/*, cloudwatch:GetMetricData. Errors name the bucket and key, never a credential.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import duckdb
import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from cloud_engine.errors import ConfigurationError
from cloud_engine.finops._files import MB, check_size, describe, file_format
from cloud_engine.finops.connectors import cur2
from cloud_engine.finops.connectors.aws import AwsConnector
from cloud_engine.finops.connectors.base import RetryPolicy, in_thread, require, with_retries
from cloud_engine.finops.connectors.exports import ExportFile, manifest_json, months, one_line
from cloud_engine.finops.errors import ConnectorError
from cloud_engine.settings import Settings

PROVIDER = "AWS Data Exports"
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken",
                     "InvalidToken", "UnrecognizedClientException", "AuthFailure"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix without slashes at either end) of s3://bucket/prefix/export-name."""
    parsed = urlparse(uri.strip())
    root = parsed.path.strip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not root:
        raise ConfigurationError(variable="AWS_DATA_EXPORT_S3_URI (s3://bucket/prefix/export-name, the export's root)")
    return parsed.netloc, root


class AwsDataExportConnector:
    """Lists, downloads and (for CUR 2.0) converts an export's files; CloudWatch for metrics."""

    source_kind = "aws_export"
    meters = True

    def __init__(self, settings: Settings, *, session: boto3.session.Session | None = None,
                 retry: RetryPolicy | None = None) -> None:
        self.bucket, self.root = parse_s3_uri(settings.aws_data_export_s3_uri or "")
        secret = settings.aws_secret_access_key
        self._secrets: tuple[str, ...] = (secret.get_secret_value(),) if secret is not None else ()
        if session is None:
            creds = require(settings, "AWS", ("aws_access_key_id", "aws_secret_access_key"))
            session = boto3.session.Session(
                aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"],
                region_name=settings.aws_region)
        self._s3 = session.client("s3", region_name=settings.aws_region)
        self.retry = retry or RetryPolicy()
        self._cloudwatch = AwsConnector(settings, session=session, retry=self.retry)
        self.max_bytes = settings.finops_max_upload_mb * MB
        self.source_name = f"aws-data-export:s3://{self.bucket}/{self.root}"

    # ---- S3 calls, with one-line errors -----------------------------------------------------
    def _explain(self, operation: str, where: str, cause: BaseException | None) -> ConnectorError:
        """The error a person can act on: which bucket or key, and what to change (no credential in it)."""
        if isinstance(cause, ClientError):
            code = str(cause.response.get("Error", {}).get("Code", ""))
            if code == "NoSuchBucket":
                detail = f"bucket {self.bucket} does not exist (AWS_DATA_EXPORT_S3_URI)"
            elif code in ("NoSuchKey", "404", "NotFound"):
                detail = f"{where} does not exist (the manifest lists a file that is gone; wait for the export's refresh)"
            elif code in _CREDENTIAL_CODES:
                detail = f"AWS refused the credentials ({code}); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            elif code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
                detail = (f"access denied to {where}; the key needs s3:ListBucket on {self.bucket} and "
                          f"s3:GetObject on s3://{self.bucket}/{self.root}/*")
            else:
                detail = f"{where}: {code or type(cause).__name__}: {one_line(str(cause), self._secrets)}"
        else:
            detail = f"{where}: {type(cause).__name__}: {one_line(str(cause), self._secrets)}"
        return ConnectorError(provider=PROVIDER, operation=operation, detail=one_line(detail, self._secrets))

    async def _call(self, operation: str, where: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return await with_retries(self.retry, PROVIDER, operation, lambda: in_thread(fn, **kwargs))
        except ConnectorError as exc:
            if isinstance(exc.__cause__, ClientError | BotoCoreError):
                raise self._explain(operation, where, exc.__cause__) from exc.__cause__
            raise

    async def _objects(self, prefix: str) -> list[dict[str, Any]]:
        """Every object under `prefix` (all pages of ListObjectsV2)."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = await self._call("ListObjectsV2", f"s3://{self.bucket}/{prefix}", self._s3.list_objects_v2,
                                    **kwargs)
            out += page.get("Contents", [])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return out

    # ---- the export ------------------------------------------------------------------------
    async def _manifest(self, period: date) -> dict[str, Any] | None:
        """The newest manifest of one billing period, or None when the export has not written it yet."""
        prefix = f"{self.root}/metadata/BILLING_PERIOD={period:%Y-%m}/"
        manifests = [o for o in await self._objects(prefix) if str(o["Key"]).endswith("Manifest.json")]
        if not manifests:
            return None
        newest = max(manifests, key=lambda o: (o.get("LastModified"), o["Key"]))
        key = str(newest["Key"])
        body = await self._call("GetObject", f"s3://{self.bucket}/{key}", self._s3.get_object, Bucket=self.bucket,
                                Key=key)
        raw = await in_thread(body["Body"].read)
        manifest = manifest_json(raw, provider=PROVIDER, where=f"s3://{self.bucket}/{key}",
                                 kind="a Data Exports manifest")
        files = manifest.get("dataFiles") if isinstance(manifest, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) and f.startswith("s3://") for f in files):
            raise ConnectorError(provider=PROVIDER, operation="manifest", detail=(
                f"s3://{self.bucket}/{key} is not a Data Exports manifest: it needs dataFiles, a list of s3:// URIs"))
        return {"key": key, "dataFiles": files}

    async def list_files(self, start: date, end: date) -> list[ExportFile]:
        """The current data files of every billing period overlapping [start, end), from their manifests."""
        periods = months(start, end)
        found: list[ExportFile] = []
        manifests = 0
        for period in periods:
            manifest = await self._manifest(period)
            if manifest is None:
                continue
            manifests += 1
            for uri in manifest["dataFiles"]:
                bucket, key = urlparse(uri).netloc, urlparse(uri).path.lstrip("/")
                if bucket != self.bucket:
                    raise ConnectorError(provider=PROVIDER, operation="manifest", detail=(
                        f"s3://{self.bucket}/{manifest['key']} lists {uri}, outside bucket {self.bucket}"))
                head = await self._call("HeadObject", uri, self._s3.head_object, Bucket=bucket, Key=key)
                size = int(head.get("ContentLength", 0))
                check_size(size, self.max_bytes, uri)
                found.append(ExportFile(key=key, source_name=f"aws-data-export:{uri}", size=size))
        if manifests == 0:
            await self._objects(f"{self.root}/")  # a missing bucket or refused credentials say so first
            listed = ", ".join(f"{p:%Y-%m}" for p in periods)
            raise ConnectorError(provider=PROVIDER, operation="manifest", detail=(
                f"no manifest under s3://{self.bucket}/{self.root}/metadata/ for billing period(s) {listed}; "
                "AWS_DATA_EXPORT_S3_URI must be the export's root (s3://bucket/prefix/export-name), and a new export "
                "writes its first files within 24 hours"))
        return found

    async def download(self, file: ExportFile, directory: Path) -> Path:
        """The file under `directory`, as FOCUS: a CUR 2.0 file is converted to a FOCUS Parquet."""
        name = Path(file.key).name
        file_format(name)  # an unexpected file type fails before it is fetched
        target = directory / name
        uri = f"s3://{self.bucket}/{file.key}"
        await self._call("GetObject", uri, self._s3.download_file, Bucket=self.bucket, Key=file.key,
                         Filename=str(target))
        return await asyncio.to_thread(_as_focus, target, file.source_name)

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        """CloudWatch EC2 utilisation for the instances the export's costs name."""
        return await self._cloudwatch.fetch_metrics(resource_ids, start, end)


def _as_focus(path: Path, name: str) -> Path:
    """`path` itself when it holds FOCUS columns, else its CUR 2.0 rows converted to FOCUS."""
    conn = duckdb.connect()
    try:
        columns = describe(conn, file_format(path.name), path, name)
    finally:
        conn.close()
    if not cur2.is_cur2(columns):
        return path
    return cur2.convert(path, path.with_name("focus-" + path.name.split(".")[0] + ".parquet"), name)


__all__ = ["AwsDataExportConnector", "parse_s3_uri"]
