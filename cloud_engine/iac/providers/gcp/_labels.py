"""GCP label rules, checked before rendering so a bad value fails here, not at apply time.

The rule itself is `catalog_checks.gcp_labels`, which also checks user tags when a resource
is added; here it also covers the ownership labels the renderer adds.
"""

from __future__ import annotations

from cloud_engine.core import catalog_checks
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.providers._base import RenderContext


def gcp_labels(spec: ResourceSpec, ctx: RenderContext) -> dict[str, str]:
    """Labels for a GCP resource; keys and values may hold only lower-case letters, digits, `_` and `-`."""
    labels = ctx.labels(spec)
    catalog_checks.gcp_labels(spec.name, labels)
    return labels
