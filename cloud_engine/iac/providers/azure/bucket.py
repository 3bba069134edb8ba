"""bucket → azurerm_storage_account (TLS 1.2, no public blobs, infrastructure encryption) + private container.

Storage account names allow only 3-24 lower-case letters and digits, so the account name is
the spec name without hyphens, cut to 24; the container keeps the spec name.

When (and only when) a load balancer of the project fronts the bucket, the account also
serves a static website (`azurerm_storage_account_static_website`, azurerm 4.x's own
resource: index.html at every folder, 404.html for a missing page) from the `$web`
container Azure creates for it: that web endpoint is Front Door's origin
(`azure/front_door.py`). A bucket nobody fronts keeps the web endpoint off, so nothing in it
is served anonymously over the account's web host.
"""

from __future__ import annotations

from cloud_engine.core.catalog_checks import azure_storage_account_name
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.azure._common import placement

TYPE = "azurerm_storage_account"
STATIC_WEBSITE = "azurerm_storage_account_static_website"
INDEX_DOCUMENT = "index.html"  # as CloudFront's default_root_object on AWS
ERROR_DOCUMENT = "404.html"
ACCESS_TIERS = {"STANDARD": "Hot", "NEARLINE": "Cool", "COLDLINE": "Cold", "ARCHIVE": "Cold"}
# Infrastructure (double) encryption can only be chosen when the account is created.
FORCE_NEW = frozenset({"name", "region", "encrypted"})


def account_name(spec: ResourceSpec) -> str:
    """The storage account's name (rule in `catalog_checks.azure_storage_account_name`, also checked at add time)."""
    return azure_storage_account_name(spec.name)


def fronted(spec: ResourceSpec, ctx: RenderContext) -> bool:
    """Whether a load balancer of this project serves the bucket (then it needs its static website)."""
    return any(other.kind == "load_balancer" and other.backend == spec.name for other in ctx.resources)


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    account = Block("resource", (TYPE, name), {
        **placement(spec, ctx),
        "name": account_name(spec),
        "account_tier": "Standard",
        "account_replication_type": "ZRS",
        "account_kind": "StorageV2",
        "access_tier": ACCESS_TIERS[spec.storage_class or "STANDARD"],
        "min_tls_version": "TLS1_2",
        "https_traffic_only_enabled": True,
        "allow_nested_items_to_be_public": bool(spec.public_access),
        "infrastructure_encryption_enabled": spec.encrypted,
        "tags": ctx.labels(spec),
    }, [Block("blob_properties", (), {"versioning_enabled": bool(spec.versioning)}, [
        Block("delete_retention_policy", (), {"days": 7}),
        Block("container_delete_retention_policy", (), {"days": 7}),
    ])])
    container = Block("resource", ("azurerm_storage_container", name), {
        "name": spec.name,
        "storage_account_id": ref(TYPE, name),
        "container_access_type": "blob" if spec.public_access else "private",
    })
    blocks = [account, container]
    if fronted(spec, ctx):
        blocks.append(Block("resource", (STATIC_WEBSITE, name), {
            "storage_account_id": ref(TYPE, name), "index_document": INDEX_DOCUMENT,
            "error_404_document": ERROR_DOCUMENT,
        }))
    if spec.retention_days:
        blocks.append(Block("resource", ("azurerm_storage_container_immutability_policy", name), {
            "storage_container_resource_manager_id": ref("azurerm_storage_container", name, "resource_manager_id"),
            "immutability_period_in_days": spec.retention_days,
        }))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "primary_blob_endpoint"), "Blob endpoint")])


KIND = KindRenderer(kind="bucket", resource_type=TYPE, render=render, force_new=FORCE_NEW)
