"""database → google_sql_database_instance with backups, PITR and deletion protection, reachable only
on a private IP of a network of this project (through the network's private services access)."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import engine_version, output, ref, tf_name
from cloud_engine.iac.providers._topology import require_network
from cloud_engine.iac.providers.gcp._labels import gcp_labels
from cloud_engine.iac.providers.gcp.network import psa_connection

TYPE = "google_sql_database_instance"
DEFAULT_TIER = "db-custom-2-7680"
# Changing the engine family or region needs a new instance; major versions upgrade in place.
FORCE_NEW = frozenset({"name", "region", "engine", "network"})
# PostgreSQL logging flags CIS asks for (connections, locks, checkpoints, DDL, errors) and pgAudit.
POSTGRES_FLAGS = {
    "cloudsql.enable_pgaudit": "on", "log_checkpoints": "on", "log_connections": "on", "log_disconnections": "on",
    "log_duration": "on", "log_hostname": "on", "log_lock_waits": "on", "log_min_error_statement": "error",
    "log_min_messages": "warning", "log_statement": "ddl",
}


def database_version(spec: ResourceSpec) -> str:
    version = engine_version(spec)
    if spec.engine == "mysql":
        return "MYSQL_" + version.replace(".", "_")
    return "POSTGRES_" + version.split(".")[0]


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    net = require_network(spec, ctx).network
    backups = Block("backup_configuration", (), {
        "enabled": True,
        "start_time": "03:00",
        "point_in_time_recovery_enabled": spec.engine == "postgres" or None,
        "binary_log_enabled": spec.engine == "mysql" or None,
    }, [Block("backup_retention_settings", (), {
        "retained_backups": spec.backup_retention_days, "retention_unit": "COUNT",
    })])
    settings = Block("settings", (), {
        "tier": spec.tier or DEFAULT_TIER,
        "edition": "ENTERPRISE",
        "availability_type": "REGIONAL" if spec.high_availability else "ZONAL",
        "disk_size": spec.storage_gb,
        "disk_type": "PD_SSD",
        "disk_autoresize": True,
        "deletion_protection_enabled": spec.deletion_protection,
        "user_labels": gcp_labels(spec, ctx),
    }, [backups, Block("ip_configuration", (), {
        "ipv4_enabled": False,
        "private_network": ref("google_compute_network", tf_name(net.name)),
        "ssl_mode": "ENCRYPTED_ONLY",
    })])
    if spec.engine == "postgres":
        settings.add(*(Block("database_flags", (), {"name": k, "value": v}) for k, v in POSTGRES_FLAGS.items()))
    instance = Block("resource", (TYPE, name), {
        "name": spec.name,
        "database_version": database_version(spec),
        "region": ctx.region_of(spec),
        "deletion_protection": spec.deletion_protection,
        "depends_on": [Raw(psa_connection(net))],
    }, [settings])
    return Rendered(resources=[instance], outputs=[output(spec, ref(TYPE, name, "connection_name"), "Connection name")])


KIND = KindRenderer(kind="database", resource_type=TYPE, render=render, force_new=FORCE_NEW)
