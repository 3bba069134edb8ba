"""bucket → google_storage_bucket: uniform access, public access prevention, versioning.

A bucket a load balancer fronts (a backend bucket) also gets a website configuration: the load
balancer serves index.html for `/` and for folders, and 404.html for a missing object, as
Google's static-website setup asks; without it `/` answers with a storage error.
"""

from __future__ import annotations

from cloud_engine.core.catalog_checks import gcs_bucket_name
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.gcp._labels import gcp_labels

TYPE = "google_storage_bucket"
FORCE_NEW = frozenset({"name", "region"})
INDEX_DOCUMENT = "index.html"  # as CloudFront's default_root_object on AWS
ERROR_DOCUMENT = "404.html"


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    bucket = Block("resource", (TYPE, name), {
        "name": gcs_bucket_name(spec.name),
        "location": ctx.region_of(spec).upper(),
        "storage_class": spec.storage_class,
        "uniform_bucket_level_access": True,
        "public_access_prevention": "inherited" if spec.public_access else "enforced",
        "force_destroy": False,
        "labels": gcp_labels(spec, ctx),
    }, [Block("versioning", (), {"enabled": bool(spec.versioning)})])
    if any(other.kind == "load_balancer" and other.backend == spec.name for other in ctx.resources):
        bucket.add(Block("website", (), {"main_page_suffix": INDEX_DOCUMENT, "not_found_page": ERROR_DOCUMENT}))
    if spec.retention_days:
        bucket.add(Block("retention_policy", (), {"retention_period": spec.retention_days * 86400}))
    return Rendered(resources=[bucket], outputs=[output(spec, ref(TYPE, name, "url"), "Bucket URL")])


KIND = KindRenderer(kind="bucket", resource_type=TYPE, render=render, force_new=FORCE_NEW)
