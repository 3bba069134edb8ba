"""GCP label rules, checked before rendering so a bad value fails here, not at apply time."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.providers._base import RenderContext


def gcp_labels(spec: ResourceSpec, ctx: RenderContext) -> dict[str, str]:
    """Labels for a GCP resource; values may hold only lower-case letters, digits, `_` and `-`."""
    labels = ctx.labels(spec)
    for key, value in labels.items():
        if len(value) > 63 or not all((ch.isalnum() and not ch.isupper()) or ch in "_-" for ch in value):
            raise InvalidInput(
                field=f"{spec.name}.tags.{key}",
                rule="GCP label values may only contain lower-case letters, digits, '_' and '-' (at most 63)",
            )
    return labels
