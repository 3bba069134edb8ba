"""The price and capacity catalogue, validated once into frozen models.

Why a data file: prices change and must carry their source and date; code only sees the
validated `Catalog`, never raw JSON. `sandbox` projects use the GCP catalogue, because the
sandbox target mirrors GCP-shaped resources (see docs/architecture.md).
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CATALOG_PATH = Path(__file__).parent / "catalog.json"
Provider = Literal["gcp", "aws", "azure"]


class CloudProvider(StrEnum):
    """The clouds Cloud Engine renders for and reads bills from: the one list every module draws on.

    In catalogue order (the advisor's tie-break). `Provider` spells the same three for
    pydantic fields and slash-command choices, which need a Literal.
    """

    GCP = "gcp"
    AWS = "aws"
    AZURE = "azure"


CLOUDS: tuple[str, ...] = tuple(p.value for p in CloudProvider)
SANDBOX = "sandbox"  # the offline mirror a project may target instead of a cloud
SizeClass = Literal["small", "medium", "large"]
SIZE_ORDER: dict[str, int] = {"small": 0, "medium": 1, "large": 2}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MachineType(_Frozen):
    vcpus: float = Field(gt=0)
    memory_gb: float = Field(gt=0)
    hourly_usd: float = Field(ge=0)
    size: SizeClass
    family: str | None = None


class StoragePrices(_Frozen):
    disk: float = Field(ge=0)
    database: float = Field(ge=0)
    bucket: dict[str, float]


class LoadBalancerPrices(_Frozen):
    """What the `load_balancer` kind costs, with its own source: the gateway hour is billed whether
    traffic flows or not; processed data (and AWS LCUs, Azure capacity units past the first) by use."""

    product: str
    hourly_usd: float = Field(ge=0)
    processed_gb_usd: float = Field(ge=0)
    certificate_monthly_usd: float = Field(ge=0, description="managed certificates are free on all three clouds")
    source: str = Field(pattern=r"^https://")
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    # What the per-GB price is for: a gateway bills data it processes, a CDN edge the data it sends out.
    per_gb: str = "processed"
    requests_10k_usd: float = Field(0.0, ge=0, description="per 10,000 requests, where the product bills them")
    # A bucket backend is served by another product (AWS CloudFront, Azure Front Door), not by the
    # gateway above: its own price and source. None where the same load balancer serves it (GCP).
    bucket: LoadBalancerPrices | None = None


class ProviderCatalog(_Frozen):
    label: str
    regions: dict[str, float] = Field(description="region -> price multiplier against the reference region")
    machine_types: dict[str, MachineType]
    database_tiers: dict[str, MachineType]
    database_engines: tuple[str, ...]
    storage_gb_month: StoragePrices
    k8s_control_plane_hourly: float = Field(ge=0)
    load_balancer_hourly: float = Field(ge=0)
    load_balancer: LoadBalancerPrices
    images: tuple[str, ...]

    def smaller_types(self, name: str) -> list[tuple[str, MachineType]]:
        """Types of the same family with fewer resources, largest first (rightsizing candidates)."""
        current = self.machine_types[name]
        same = [
            (n, m) for n, m in self.machine_types.items()
            if m.family == current.family and n != name
            and m.vcpus <= current.vcpus and m.memory_gb <= current.memory_gb and m.hourly_usd < current.hourly_usd
        ]
        return sorted(same, key=lambda item: item[1].hourly_usd, reverse=True)


class Catalog(_Frozen):
    source: str
    as_of: str
    hours_per_month: int = Field(gt=0)
    providers: dict[Provider, ProviderCatalog]

    def for_provider(self, provider: str) -> ProviderCatalog:
        """The catalogue a project's provider prices against (`sandbox` uses GCP's)."""
        return self.providers["gcp" if provider == "sandbox" else provider]  # type: ignore[index]

    def known(self, provider: str) -> ProviderCatalog | None:
        """`for_provider`, or None for a provider it does not price (e.g. one named in an uploaded bill)."""
        name = "gcp" if provider == "sandbox" else provider
        return self.providers[name] if name in self.providers else None

    def regions(self, provider: str) -> list[str]:
        return list(self.for_provider(provider).regions)


@lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Parse and validate the catalogue file once per process (it is small and read-only)."""
    return Catalog.model_validate(json.loads(path.read_text("utf-8")))
