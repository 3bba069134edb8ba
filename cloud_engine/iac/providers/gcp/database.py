"""database → google_sql_database_instance with backups, PITR and deletion protection."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import engine_version, output, ref, tf_name
from cloud_engine.iac.providers.gcp._labels import gcp_labels

TYPE = "google_sql_database_instance"
DEFAULT_TIER = "db-custom-2-7680"
# Changing the engine family or region needs a new instance; major versions upgrade in place.
FORCE_NEW = frozenset({"name", "region", "engine", "network"})


def database_version(spec: ResourceSpec) -> str:
    version = engine_version(spec)
    if spec.engine == "mysql":
        return "MYSQL_" + version.replace(".", "_")
    return "POSTGRES_" + version.split(".")[0]


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
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
    }, [backups, Block("ip_configuration", (), {"ipv4_enabled": True, "ssl_mode": "ENCRYPTED_ONLY"})])
    instance = Block("resource", (TYPE, name), {
        "name": spec.name,
        "database_version": database_version(spec),
        "region": ctx.region_of(spec),
        "deletion_protection": spec.deletion_protection,
    }, [settings])
    return Rendered(resources=[instance], outputs=[output(spec, ref(TYPE, name, "connection_name"), "Connection name")])


KIND = KindRenderer(kind="database", resource_type=TYPE, render=render, force_new=FORCE_NEW)
