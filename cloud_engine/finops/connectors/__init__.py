"""Provider connectors behind one interface (`base.CostConnector`): AWS, Azure, GCP.

Provider modules import their SDKs lazily where they can, so importing this package does
not require credentials or network access.
"""

from cloud_engine.finops.connectors.base import CostConnector, RetryPolicy

__all__ = ["CostConnector", "RetryPolicy"]
