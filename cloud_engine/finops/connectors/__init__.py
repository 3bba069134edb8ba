"""Provider connectors behind one interface (`base.CostConnector`): AWS, Azure, GCP; and the
cloud's cost exports in storage (`exports.ExportConnector`: AWS Data Exports in S3, Azure Cost
Management exports in Blob Storage), imported file by file so each row names its file.

Provider modules import their SDKs lazily where they can, so importing this package does
not require credentials or network access.
"""

from cloud_engine.finops.connectors.base import CostConnector, RetryPolicy

__all__ = ["CostConnector", "RetryPolicy"]
