"""bucket → aws_s3_bucket + public access block, KMS encryption, versioning, owner-enforced ACLs."""

from __future__ import annotations

from cloud_engine.core.catalog_checks import s3_bucket_name
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for

TYPE = "aws_s3_bucket"
# Provider-neutral storage classes → (S3 class, days after upload to transition).
TRANSITIONS = {"NEARLINE": ("STANDARD_IA", 30), "COLDLINE": ("GLACIER_IR", 0), "ARCHIVE": ("DEEP_ARCHIVE", 0)}
FORCE_NEW = frozenset({"name", "region"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    bucket_id = ref(TYPE, name)
    public = bool(spec.public_access)

    def part(resource_type: str, attrs: dict[str, Value], blocks: list[Block]) -> Block:
        return Block("resource", (resource_type, name), {"provider": provider, "bucket": bucket_id, **attrs}, blocks)

    blocks = [
        Block("resource", (TYPE, name), {
            "provider": provider,
            "bucket": s3_bucket_name(spec.name),
            "force_destroy": False,
            "object_lock_enabled": True if spec.retention_days else None,
            "tags": aws_tags(spec, ctx),
        }),
        part("aws_s3_bucket_public_access_block", {
            "block_public_acls": not public, "block_public_policy": not public,
            "ignore_public_acls": not public, "restrict_public_buckets": not public,
        }, []),
        part("aws_s3_bucket_ownership_controls", {}, [Block("rule", (), {"object_ownership": "BucketOwnerEnforced"})]),
        part("aws_s3_bucket_server_side_encryption_configuration", {}, [
            Block("rule", (), {"bucket_key_enabled": True}, [
                Block("apply_server_side_encryption_by_default", (), {
                    "sse_algorithm": "aws:kms" if spec.encrypted else "AES256",
                }),
            ]),
        ]),
        part("aws_s3_bucket_versioning", {}, [
            Block("versioning_configuration", (), {"status": "Enabled" if spec.versioning else "Suspended"}),
        ]),
    ]
    if spec.storage_class in TRANSITIONS:
        s3_class, days = TRANSITIONS[spec.storage_class]
        blocks.append(part("aws_s3_bucket_lifecycle_configuration", {}, [
            Block("rule", (), {"id": "storage-class", "status": "Enabled"}, [
                Block("filter"),
                Block("transition", (), {"days": days, "storage_class": s3_class}),
            ]),
        ]))
    if spec.retention_days:
        blocks.append(part("aws_s3_bucket_object_lock_configuration", {}, [
            Block("rule", (), {}, [
                Block("default_retention", (), {"mode": "GOVERNANCE", "days": spec.retention_days}),
            ]),
        ]))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "arn"), "Bucket ARN")])


KIND = KindRenderer(kind="bucket", resource_type=TYPE, render=render, force_new=FORCE_NEW)
