"""Resource-kind registries per provider, merged into one lookup (Infracost-style).

`PROVIDERS["gcp"].kind("vm")` returns the kind renderer, or raises UnsupportedResource for
a kind the provider does not list.
"""

from __future__ import annotations

from cloud_engine.errors import InvalidInput
from cloud_engine.iac.providers._base import KindRenderer, ProviderDef, RenderContext, Rendered
from cloud_engine.iac.providers.aws.registry import PROVIDER as AWS
from cloud_engine.iac.providers.azure.registry import PROVIDER as AZURE
from cloud_engine.iac.providers.gcp.registry import PROVIDER as GCP

PROVIDERS: dict[str, ProviderDef] = {p.name: p for p in (GCP, AWS, AZURE)}

__all__ = ["PROVIDERS", "KindRenderer", "ProviderDef", "RenderContext", "Rendered", "get_provider"]


def get_provider(name: str) -> ProviderDef:
    """The provider definition for gcp, aws or azure."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise InvalidInput(field="provider", rule=f"{name!r} is not one of {sorted(PROVIDERS)}") from None
