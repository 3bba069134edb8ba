"""The connector interface and the retry policy every provider connector shares.

A connector turns one provider's APIs into the two shapes the ledger accepts: a pyarrow
table with FOCUS column names (costs) and one with resource_id/metric/timestamp/value/unit
(metrics). `FinOpsService.ingest_connector` then imports them exactly like files, with the
same validation, hashing and provenance (`source_kind` = aws_api | azure_api | gcp_api).

Retries: throttling and 5xx answers are retried with exponential backoff and jitter
(tenacity), up to `RetryPolicy.attempts`; anything else fails at once as `ConnectorError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

import pyarrow as pa
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from cloud_engine.finops.errors import ConnectorError, MissingCredentials
from cloud_engine.settings import Settings

T = TypeVar("T")
FOCUS_FIELDS = (
    "BilledCost", "EffectiveCost", "ListCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceName", "ResourceId",
    "ResourceName", "ResourceType", "RegionId", "ProviderName", "BillingCurrency", "ChargeCategory",
    "SubAccountId", "SubAccountName", "Tags", "ConsumedQuantity", "ConsumedUnit", "SkuId", "SkuPriceDetails",
)
METRIC_FIELDS = ("resource_id", "metric", "timestamp", "value", "unit")
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                   "LimitExceededException", "ServiceUnavailable", "InternalError", "InternalFailure"}


class CostConnector(Protocol):
    """What a provider connector offers the service."""

    source_kind: str
    source_name: str

    async def fetch_costs(self, start: date, end: date) -> pa.Table:
        """FOCUS-named cost rows for [start, end)."""

    async def fetch_metrics(self, resource_ids: list[str], start: date, end: date) -> pa.Table:
        """Utilisation points for the resources over [start, end)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_s: float = 0.5
    max_s: float = 20.0


def is_retryable(exc: BaseException) -> bool:
    """Throttling or a server-side error from any of the SDKs we use."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _THROTTLE_CODES or int(status or 0) >= 500 or int(status or 0) == 429
    status = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    if isinstance(status, int):  # azure HttpResponseError, google api_core errors
        return status == 429 or status >= 500
    return False


async def with_retries(policy: RetryPolicy, provider: str, operation: str, call: Callable[[], Awaitable[T]]) -> T:
    """Await `call()` with backoff on retryable errors; wrap the final failure as ConnectorError."""
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(policy.attempts), reraise=True, retry=retry_if_exception(is_retryable),
            wait=wait_exponential_jitter(initial=policy.initial_s, max=policy.max_s),
        ):
            with attempt:
                return await call()
    except (ConnectorError, MissingCredentials):
        raise
    except Exception as exc:
        raise ConnectorError(provider=provider, operation=operation, detail=f"{type(exc).__name__}: {exc}") from exc
    raise ConnectorError(provider=provider, operation=operation, detail="no attempt was made")


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking SDK call (boto3, google-cloud) off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def require(settings: Settings, provider: str, names: tuple[str, ...]) -> dict[str, str]:
    """Values of the named settings, or one error naming every missing variable (never the values)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        value = getattr(settings, name)
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if raw in (None, ""):
            missing.append(name.upper())
        else:
            values[name] = str(raw)
    if missing:
        raise MissingCredentials(provider=provider, variables=", ".join(missing))
    return values


def focus_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows with FOCUS keys -> an Arrow table with every known column (missing ones null)."""
    numeric = {"BilledCost", "EffectiveCost", "ListCost", "ConsumedQuantity"}
    return pa.table({
        f: pa.array([r.get(f) for r in rows], type=pa.float64() if f in numeric else pa.string()) for f in FOCUS_FIELDS
    })


def metric_table(rows: list[tuple[str, str, str, float, str]]) -> pa.Table:
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in METRIC_FIELDS]
    return pa.table({
        "resource_id": pa.array(cols[0], pa.string()), "metric": pa.array(cols[1], pa.string()),
        "timestamp": pa.array(cols[2], pa.string()), "value": pa.array(cols[3], pa.float64()),
        "unit": pa.array(cols[4], pa.string()),
    })


__all__ = ["CostConnector", "RetryPolicy", "focus_table", "in_thread", "is_retryable", "metric_table", "require",
           "with_retries"]
