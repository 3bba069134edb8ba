"""Which connector serves which provider, built from settings: `python main.py ingest aws|azure|gcp`.

One factory per provider in `CONNECTORS` (adding a provider is one entry); each raises
`MissingCredentials` naming every variable it lacks before any network call. Where a cloud
writes resource-level cost exports and the settings name one (AWS_DATA_EXPORT_S3_URI,
AZURE_EXPORT_BLOB_URI), the export connector serves the provider, since the APIs answer with
totals (Cost Explorer) or less detail. `METERED` says which of a provider's resource ids its
`fetch_metrics` can meter (virtual machines), so a sync asks for utilisation only where an
answer can exist: an EC2 instance is an ARN in Cost Explorer and FOCUS, a bare id in CUR 2.0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cloud_engine.finops.connectors.base import CostConnector
from cloud_engine.finops.connectors.exports import ExportConnector
from cloud_engine.settings import Settings


@dataclass(frozen=True)
class ConnectorOptions:
    """What a run adds to the settings: GCP reads its billing export from a file (no setting holds it)."""

    billing_export: Path | None = None


def _aws(settings: Settings, options: ConnectorOptions) -> CostConnector | ExportConnector:
    if settings.aws_data_export_s3_uri:
        from cloud_engine.finops.connectors.aws_export import AwsDataExportConnector

        return AwsDataExportConnector(settings)
    from cloud_engine.finops.connectors.aws import AwsConnector

    return AwsConnector(settings)


def _azure(settings: Settings, options: ConnectorOptions) -> CostConnector | ExportConnector:
    if settings.azure_export_blob_uri:
        from cloud_engine.finops.connectors.azure_export import AzureExportConnector

        return AzureExportConnector(settings)
    from cloud_engine.finops.connectors.azure import AzureConnector

    return AzureConnector(settings)


def _gcp(settings: Settings, options: ConnectorOptions) -> CostConnector:
    from cloud_engine.finops.connectors.gcp import GcpConnector

    if options.billing_export is None:
        raise ValueError("the GCP connector needs the billing export file (--billing-export)")
    return GcpConnector(settings, billing_export=options.billing_export)


CONNECTORS: dict[str, Callable[[Settings, ConnectorOptions], CostConnector | ExportConnector]] = {
    "aws": _aws, "azure": _azure, "gcp": _gcp,
}
METERED: dict[str, re.Pattern[str]] = {
    "aws": re.compile(r"^(arn:aws:ec2:[^:]*:[^:]*:instance/|i-[0-9a-f]{8,17}$)"),
    "azure": re.compile(r"/providers/microsoft\.compute/virtualmachines/[^/]+$", re.IGNORECASE),
    "gcp": re.compile(r"^//compute\.googleapis\.com/projects/[^/]+/zones/[^/]+/instances/[^/]+$"),
}


def build_connector(provider: str, settings: Settings,
                    options: ConnectorOptions | None = None) -> CostConnector | ExportConnector:
    """The connector for `provider` (aws | azure | gcp); `MissingCredentials` if its settings are unset."""
    try:
        factory = CONNECTORS[provider]
    except KeyError:
        raise ValueError(f"no connector for {provider!r}; known: {', '.join(sorted(CONNECTORS))}") from None
    return factory(settings, options or ConnectorOptions())


__all__ = ["CONNECTORS", "METERED", "ConnectorOptions", "build_connector"]
