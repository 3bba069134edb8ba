"""database → PostgreSQL (Entra ID auth only) or MySQL flexible server, no public access,
with a CanNotDelete management lock standing in for deletion protection."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import engine_version, output, ref, suffixed, tf_name
from cloud_engine.iac.providers.azure._common import placement

DEFAULT_TIER = "B_Standard_B1ms"
# Sizes PostgreSQL flexible server accepts, in MB; a request is rounded up to the next one.
POSTGRES_STORAGE_MB = (32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 8388608, 16777216)
MIN_BACKUP_DAYS = 7  # Azure's minimum; shorter requests are raised to it
MYSQL_VERSIONS = {"8.0": "8.0.21", "5.7": "5.7"}
FORCE_NEW = frozenset({"name", "region", "engine", "network"})
RANDOM_PROVIDER = {"random": {"source": "hashicorp/random", "version": "~> 3.6"}}


def _postgres(spec: ResourceSpec, ctx: RenderContext, name: str) -> tuple[str, Rendered]:
    resource_type = "azurerm_postgresql_flexible_server"
    storage_mb = next((mb for mb in POSTGRES_STORAGE_MB if mb >= (spec.storage_gb or 0) * 1024), POSTGRES_STORAGE_MB[-1])
    server = Block("resource", (resource_type, name), {
        **placement(spec, ctx),
        "version": engine_version(spec).split(".")[0],
        "sku_name": spec.tier or DEFAULT_TIER,
        "storage_mb": storage_mb,
        "backup_retention_days": max(MIN_BACKUP_DAYS, spec.backup_retention_days or 0),
        "geo_redundant_backup_enabled": False,
        "public_network_access_enabled": False,
        "tags": ctx.labels(spec),
    }, [Block("authentication", (), {
        "active_directory_auth_enabled": True,
        "password_auth_enabled": False,
        "tenant_id": Raw("data.azurerm_client_config.current.tenant_id"),
    })])
    client = Block("data", ("azurerm_client_config", "current"))
    return resource_type, Rendered(resources=[server], shared={"data.azurerm_client_config.current": client})


def _mysql(spec: ResourceSpec, ctx: RenderContext, name: str) -> tuple[str, Rendered]:
    resource_type = "azurerm_mysql_flexible_server"
    password = Block("resource", ("random_password", name), {"length": 32, "special": True})
    version = engine_version(spec)
    server = Block("resource", (resource_type, name), {
        **placement(spec, ctx),
        "version": MYSQL_VERSIONS.get(version, version),
        "sku_name": spec.tier or DEFAULT_TIER,
        "administrator_login": "dbadmin",
        "administrator_password": ref("random_password", name, "result"),
        "backup_retention_days": max(MIN_BACKUP_DAYS, spec.backup_retention_days or 0),
        "geo_redundant_backup_enabled": False,
        "tags": ctx.labels(spec),
    }, [Block("storage", (), {"size_gb": max(20, spec.storage_gb or 0), "auto_grow_enabled": True})])
    return resource_type, Rendered(resources=[password, server], required_providers=dict(RANDOM_PROVIDER))


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    name = tf_name(spec.name)
    resource_type, rendered = (_mysql if spec.engine == "mysql" else _postgres)(spec, ctx, name)
    server = rendered.resources[-1]
    if spec.high_availability:
        server.add(Block("high_availability", (), {"mode": "ZoneRedundant"}))
    if spec.deletion_protection:
        rendered.resources.append(Block("resource", ("azurerm_management_lock", name), {
            "name": suffixed(spec.name, "no-delete", 90),
            "scope": ref(resource_type, name),
            "lock_level": "CanNotDelete",
            "notes": "Deletion protection requested in Cloud Engine",
        }))
    rendered.outputs.append(output(spec, ref(resource_type, name, "fqdn"), "Server FQDN"))
    return rendered


KIND = KindRenderer(kind="database", resource_type="azurerm_postgresql_flexible_server", render=render,
                    force_new=FORCE_NEW)
