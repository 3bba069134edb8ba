"""Azure Cost Management exports in Blob Storage (the FOCUS cost dataset), plus Azure Monitor metrics.

The query API (`azure.py`) aggregates by two dimensions per query; an export holds every
charge line with its resource, region and both billed and amortised cost, in FOCUS. A
scheduled export (`AZURE_EXPORT_BLOB_URI` = https://account.blob.core.windows.net/container/
folder/export-name) writes each run as

    <container>/<folder>/<export-name>/<YYYYMMDD-YYYYMMDD>/<run id>/manifest.json
    <container>/<folder>/<export-name>/<YYYYMMDD-YYYYMMDD>/<run id>/part_0_0001.csv.gz | .parquet ...

The manifest is written after the parts and lists them (`blobs[].blobName`); for each date
range folder overlapping the sync window the newest run's manifest is read, so an older run
(kept when the export does not overwrite) is never imported next to its successor. Each part
is downloaded and imported on its own, its rows keeping `azure-export:container/blob` as
their source. An Azurite-style URL (http://127.0.0.1:10000/account/container/...) names the
account in its path, as the SDK expects.

Credentials: AZURE_STORAGE_CONNECTION_STRING (a read + list SAS, or an account key) when set,
else the service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), which then
needs "Storage Blob Data Reader" on the container only. Metrics come from Azure Monitor with
the service principal; without one the sync imports costs only (`meters` is False).
The SDK's own retries are off: the shared RetryPolicy is the one retry layer.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)

from cloud_engine.errors import ConfigurationError
from cloud_engine.finops._files import MB, check_size, file_format
from cloud_engine.finops.connectors.base import RetryPolicy, in_thread, metric_table, with_retries
from cloud_engine.finops.connectors.exports import ExportFile, manifest_json, one_line
from cloud_engine.finops.errors import ConnectorError, MissingCredentials
from cloud_engine.settings import Settings

PROVIDER = "Azure export"
_RANGE = re.compile(r"^(\d{8})-(\d{8})$")
_SP = ("azure_tenant_id", "azure_client_id", "azure_client_secret")
# A wrong key or SAS: AuthenticationFailed (Azure), AuthorizationFailure (Azurite, or a SAS without the right
# permissions); a role that is missing is AuthorizationPermissionMismatch (below: the 403 branch)
_CREDENTIAL_CODES = {"AuthenticationFailed", "InvalidAuthenticationInfo", "AuthorizationFailure"}


def parse_blob_uri(uri: str) -> tuple[str, str, str]:
    """(account URL, container, prefix) of https://account.blob.core.windows.net/container/folder/export-name.

    A host that is an IP address or localhost (Azurite, or a private endpoint by address) keeps the
    account as the first path segment, so it belongs to the account URL.
    """
    parsed = urlparse(uri.strip())
    parts = [p for p in parsed.path.split("/") if p]
    host = parsed.hostname or ""
    try:
        path_style = host == "localhost" or bool(ipaddress.ip_address(host))
    except ValueError:
        path_style = False
    account = f"{parsed.scheme}://{parsed.netloc}"
    if path_style and parts:
        account, parts = f"{account}/{parts[0]}", parts[1:]
    if parsed.scheme not in ("https", "http") or not parsed.netloc or len(parts) < 2:
        raise ConfigurationError(variable="AZURE_EXPORT_BLOB_URI (https://account.blob.core.windows.net/container/"
                                          "folder/export-name, the export's folder)")
    return account, parts[0], "/".join(parts[1:])


def _overlaps(folder: str, start: date, end: date) -> bool:
    match = _RANGE.match(folder)
    if not match:
        return False
    first, last = (datetime.strptime(m, "%Y%m%d").date() for m in match.groups())
    return first < end and last >= start


class AzureExportConnector:
    """Lists an export's newest run per date range, downloads its parts; Azure Monitor for metrics."""

    source_kind = "azure_export"

    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        from azure.storage.blob import BlobServiceClient

        account_url, self.container, self.prefix = parse_blob_uri(settings.azure_export_blob_uri or "")
        self._secrets: tuple[str, ...] = ()
        conn = settings.azure_storage_connection_string
        if conn is not None and conn.get_secret_value():
            raw = conn.get_secret_value()
            self._secrets = (raw, *re.findall(r"(?:AccountKey|SharedAccessSignature)=([^;]+)", raw))
            service = BlobServiceClient.from_connection_string(raw, retry_total=0)
        else:
            values = {n: getattr(settings, n) for n in _SP}
            missing = [n.upper() for n, v in values.items() if not (v.get_secret_value() if hasattr(v, "get_secret_value")
                                                                   else v)]
            if missing:
                raise MissingCredentials(provider="Azure", variables="AZURE_STORAGE_CONNECTION_STRING, or "
                                                                     + ", ".join(missing))
            from azure.identity import ClientSecretCredential

            secret = settings.azure_client_secret.get_secret_value() if settings.azure_client_secret else ""
            self._secrets = (secret,)
            service = BlobServiceClient(account_url, credential=ClientSecretCredential(
                str(settings.azure_tenant_id), str(settings.azure_client_id), secret), retry_total=0)
        self._client = service.get_container_client(self.container)
        self.retry = retry or RetryPolicy()
        self.max_bytes = settings.finops_max_upload_mb * MB
        self.source_name = f"azure-export:{self.container}/{self.prefix}"
        self.meters = all(getattr(settings, n) for n in (*_SP, "azure_subscription_id"))
        self._settings = settings

    def _explain(self, operation: str, where: str, cause: BaseException | None) -> ConnectorError:
        """What went wrong and what to change, in one line, with any credential masked."""
        raw_code = getattr(cause, "error_code", "") or ""
        code = str(getattr(raw_code, "value", raw_code))
        if isinstance(cause, ResourceNotFoundError) and code == "ContainerNotFound":
            detail = f"container {self.container} does not exist (AZURE_EXPORT_BLOB_URI)"
        elif isinstance(cause, ResourceNotFoundError):
            detail = f"{where} does not exist (the manifest lists a part that is gone; wait for the next run)"
        elif isinstance(cause, ClientAuthenticationError) or code in _CREDENTIAL_CODES:
            detail = (f"Azure Storage refused the credentials ({code or type(cause).__name__}); check "
                      "AZURE_STORAGE_CONNECTION_STRING (a SAS needs read and list) or AZURE_TENANT_ID, "
                      "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET")
        elif isinstance(cause, HttpResponseError) and getattr(cause, "status_code", None) == 403:
            detail = (f"access denied to {where} ({code or 403}); the identity needs Storage Blob Data Reader on "
                      f"container {self.container}")
        else:
            detail = f"{where}: {type(cause).__name__}: {one_line(str(cause), self._secrets)}"
        return ConnectorError(provider=PROVIDER, operation=operation, detail=one_line(detail, self._secrets))

    async def _call(self, operation: str, where: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await with_retries(self.retry, PROVIDER, operation, lambda: in_thread(fn, *args, **kwargs))
        except ConnectorError as exc:
            if isinstance(exc.__cause__, AzureError):
                raise self._explain(operation, where, exc.__cause__) from None
            raise

    async def _listing(self, prefix: str) -> list[Any]:
        blobs: list[Any] = await self._call("list blobs", f"{self.container}/{prefix}",
                                            lambda: list(self._client.list_blobs(name_starts_with=prefix)))
        return blobs

    async def _folders(self, prefix: str) -> list[str]:
        items = await self._call("list blobs", f"{self.container}/{prefix}",
                                 lambda: list(self._client.walk_blobs(name_starts_with=prefix, delimiter="/")))
        return [str(i.name)[len(prefix):].strip("/") for i in items if str(i.name).endswith("/")]

    async def _manifest(self, blob: Any) -> list[str]:
        where = f"{self.container}/{blob.name}"
        raw = await self._call("download", where, lambda: self._client.download_blob(blob.name).readall())
        manifest = manifest_json(raw, provider=PROVIDER, where=where, kind="a Cost Management export manifest")
        blobs = manifest.get("blobs") if isinstance(manifest, dict) else None
        if not isinstance(blobs, list) or not all(isinstance(b, dict) and isinstance(b.get("blobName"), str)
                                                  for b in blobs):
            raise ConnectorError(provider=PROVIDER, operation="manifest", detail=(
                f"{where} is not a Cost Management export manifest: it needs blobs, a list of {{blobName}}"))
        return [str(b["blobName"]).lstrip("/") for b in blobs]

    async def list_files(self, start: date, end: date) -> list[ExportFile]:
        """The parts of the newest run of every date range folder overlapping [start, end)."""
        root = f"{self.prefix}/"
        ranges = [f for f in await self._folders(root) if _overlaps(f, start, end)]
        if not ranges:
            raise ConnectorError(provider=PROVIDER, operation="list blobs", detail=(
                f"no export run under {self.container}/{root} for {start} to {end}; AZURE_EXPORT_BLOB_URI must be "
                "the export's folder (…/container/folder/export-name), and a new export writes its first run "
                "within a day"))
        found: list[ExportFile] = []
        for folder in sorted(ranges):
            blobs = {str(b.name): b for b in await self._listing(f"{root}{folder}/")}
            manifests = [b for name, b in blobs.items() if name.rsplit("/", 1)[-1].lower() == "manifest.json"]
            if not manifests:
                continue  # a run still being written: its manifest comes last
            newest = max(manifests, key=lambda b: (b.last_modified, b.name))
            run_folder = str(newest.name).rsplit("/", 1)[0]
            for name in await self._manifest(newest):
                blob = blobs.get(name) or blobs.get(f"{run_folder}/{name}")
                if blob is None:
                    raise ConnectorError(provider=PROVIDER, operation="manifest", detail=(
                        f"{self.container}/{newest.name} lists {name}, which is not in the container"))
                size = int(blob.size or 0)
                check_size(size, self.max_bytes, f"{self.container}/{blob.name}")
                found.append(ExportFile(key=str(blob.name), source_name=f"azure-export:{self.container}/{blob.name}",
                                        size=size))
        return found

    async def download(self, file: ExportFile, directory: Path) -> Path:
        """The part under `directory` (a FOCUS export needs no conversion)."""
        name = Path(file.key).name
        file_format(name)
        target = directory / name

        def fetch() -> None:
            with target.open("wb") as fh:
                self._client.download_blob(file.key).readinto(fh)

        await self._call("download", f"{self.container}/{file.key}", fetch)
        return target

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        """Azure Monitor VM metrics with the service principal (no rows when none is set)."""
        if not self.meters:
            return metric_table([])
        from cloud_engine.finops.connectors.azure import AzureConnector

        return await AzureConnector(self._settings, retry=self.retry).fetch_metrics(resource_ids, start, end)


__all__ = ["AzureExportConnector", "parse_blob_uri"]
