"""database → aws_db_instance: encrypted, private, deletion-protected, password in Secrets Manager.

It needs a network of this project with subnets in two zones: the DB subnet group uses the
data subnets (all subnets when fewer than two are data subnets, since RDS needs two zones),
and a security group of its own admits only the engine's port, only from the subnets where
the network's compute runs (the app subnet and any cluster's node subnets).
"""

from __future__ import annotations

from cloud_engine.core.catalog_checks import rds_identifier
from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import engine_version, output, ref, suffixed, tf_name
from cloud_engine.iac.providers._topology import db_port, require_network
from cloud_engine.iac.providers.aws._common import aws_tags, provider_for
from cloud_engine.iac.providers.aws.network import node_subnets

TYPE = "aws_db_instance"
DEFAULT_TIER = "db.t3.micro"
# Engine, storage encryption and region cannot change in place; versions upgrade in place.
FORCE_NEW = frozenset({"name", "region", "engine", "encrypted"})
LOG_EXPORTS = {"postgres": ["postgresql", "upgrade"], "mysql": ["audit", "error", "general", "slowquery"]}


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    provider = provider_for(spec, ctx)
    use = require_network(spec, ctx)
    net = use.network
    placed = use.data_subnets if len(use.data_subnets) >= 2 else use.subnets
    require(len(placed) >= 2, f"{spec.name}.network",
            f"an RDS database needs a network with subnets in two zones; {net.name} has {len(placed)}")
    group = tf_name(spec.name, "subnets")
    blocks: list[Block] = [Block("resource", ("aws_db_subnet_group", group), {
        "provider": provider,
        "name": suffixed(spec.name, "subnets", 255),
        "subnet_ids": [ref("aws_subnet", tf_name(net.name, s.name)) for s in placed],
        "tags": aws_tags(spec, ctx),
    })]
    sg = tf_name(spec.name, "db")
    blocks.append(Block("resource", ("aws_security_group", sg), {
        "provider": provider,
        "name": suffixed(spec.name, "db", 255),
        "description": f"{spec.engine} {spec.name}: engine port from the app tier only",
        "vpc_id": ref("aws_vpc", tf_name(net.name)),
        "tags": aws_tags(spec, ctx),
    }))
    by_name = {s.name: s for s in use.subnets}
    sources = [use.app_subnet.name] if use.app_subnet is not None else []
    if use.of_kind("k8s_cluster"):
        sources += [n for n in node_subnets(use) if n not in sources]
    port = db_port(spec)
    blocks += [
        Block("resource", ("aws_vpc_security_group_ingress_rule", tf_name(spec.name, "db", source)), {
            "provider": provider,
            "security_group_id": ref("aws_security_group", sg),
            "description": f"{spec.engine} from subnet {source}",
            "ip_protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "cidr_ipv4": by_name[source].cidr,
            "tags": aws_tags(spec, ctx),
        })
        for source in sources
    ]
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
        "db_subnet_group_name": ref("aws_db_subnet_group", group, "name"),
        "vpc_security_group_ids": [ref("aws_security_group", sg)],
        "publicly_accessible": False,
        "multi_az": bool(spec.high_availability),
        "backup_retention_period": spec.backup_retention_days,
        "deletion_protection": spec.deletion_protection,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": suffixed(spec.name, "final"),
        "copy_tags_to_snapshot": True,
        "iam_database_authentication_enabled": True,
        "auto_minor_version_upgrade": True,
        "enabled_cloudwatch_logs_exports": LOG_EXPORTS[spec.engine or "postgres"],
        "tags": aws_tags(spec, ctx),
    }))
    return Rendered(resources=blocks, outputs=[output(spec, ref(TYPE, name, "endpoint"), "Endpoint")])


KIND = KindRenderer(kind="database", resource_type=TYPE, render=render, force_new=FORCE_NEW)
