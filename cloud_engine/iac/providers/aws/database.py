"""database → aws_db_instance: encrypted, private, deletion-protected, password in Secrets Manager."""

from __future__ import annotations

from cloud_engine.core.catalog_checks import rds_identifier
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import engine_version, output, ref, suffixed, tf_name
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for

TYPE = "aws_db_instance"
DEFAULT_TIER = "db.t3.micro"
# Engine, storage encryption and region cannot change in place; versions upgrade in place.
FORCE_NEW = frozenset({"name", "region", "engine", "encrypted"})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    net = ctx.required_network(spec)
    blocks: list[Block] = []
    subnet_group: Raw | None = None
    if net is not None and net.subnets:
        group = tf_name(spec.name, "subnets")
        blocks.append(Block("resource", ("aws_db_subnet_group", group), {
            "provider": provider,
            "name": suffixed(spec.name, "subnets", 255),
            "subnet_ids": [ref("aws_subnet", tf_name(net.name, s.name)) for s in net.subnets],
            "tags": aws_tags(spec, ctx),
        }))
        subnet_group = ref("aws_db_subnet_group", group, "name")
    blocks.append(Block("resource", (TYPE, name), {
        "provider": provider,
        "identifier": rds_identifier(spec.name),
        "engine": spec.engine,
        "engine_version": engine_version(spec),
        "instance_class": spec.tier or DEFAULT_TIER,
        "allocated_storage": spec.storage_gb,
        "storage_type": "gp3",
        "storage_encrypted": spec.encrypted,
        "username": "dbadmin",
        "manage_master_user_password": True,
        "db_subnet_group_name": subnet_group,
        "publicly_accessible": False,
        "multi_az": bool(spec.high_availability),
        "backup_retention_period": spec.backup_retention_days,
        "deletion_protection": spec.deletion_protection,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": suffixed(spec.name, "final"),
        "copy_tags_to_snapshot": True,
        "iam_database_authentication_enabled": True,
        "tags": aws_tags(spec, ctx),
    }))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "endpoint"), "Endpoint")])


KIND = KindRenderer(kind="database", resource_type=TYPE, render=render, force_new=FORCE_NEW)
