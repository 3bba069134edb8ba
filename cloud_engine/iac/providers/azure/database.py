"""database → PostgreSQL or MySQL flexible server, no public access, reached through a private endpoint
in the network's data subnet (with the engine's privatelink DNS zone linked to the network), with a
CanNotDelete management lock standing in for deletion protection.

Login: a generated administrator password (random_password, sensitive in Terraform's state
and output) plus Entra ID authentication on PostgreSQL. A private endpoint rather than VNet
integration (a delegated subnet): Azure allows only one of the two, and only the endpoint
keeps the data subnet usable by other resources and passes Checkov's CKV2_AZURE_57.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered
from cloud_engine.iac.providers._common import engine_version, output, ref, suffixed, tf_name
from cloud_engine.iac.providers._topology import require_network
from cloud_engine.iac.providers.azure._common import RESOURCE_GROUP, placement

DEFAULT_TIER = "B_Standard_B1ms"
# Sizes PostgreSQL flexible server accepts, in MB; a request is rounded up to the next one.
POSTGRES_STORAGE_MB = (32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 8388608, 16777216)
MIN_BACKUP_DAYS = 7  # Azure's minimum; shorter requests are raised to it
MYSQL_VERSIONS = {"8.0": "8.0.21", "5.7": "5.7"}
FORCE_NEW = frozenset({"name", "region", "engine", "network"})
RANDOM_PROVIDER = {"random": {"source": "hashicorp/random", "version": "~> 3.6"}}
ADMIN_LOGIN = "dbadmin"
# engine → (private DNS zone, private link sub-resource)
PRIVATE_LINK = {"postgres": ("privatelink.postgres.database.azure.com", "postgresqlServer"),
                "mysql": ("privatelink.mysql.database.azure.com", "mysqlServer")}


def _password(name: str) -> Block:
    return Block("resource", ("random_password", name), {"length": 32, "special": True})


def _private_endpoint(spec: ResourceSpec, ctx: RenderContext, name: str, resource_type: str) -> Rendered:
    use = require_network(spec, ctx)
    net = use.network
    zone_name, subresource = PRIVATE_LINK[spec.engine or "postgres"]
    zone = tf_name(spec.engine or "postgres", "privatelink")
    link = tf_name(net.name, spec.engine or "postgres", "privatelink")
    subnet = use.data_subnets[0]
    endpoint = Block("resource", ("azurerm_private_endpoint", name), {
        **placement(spec, ctx),
        "name": suffixed(spec.name, "pe", 80),
        "subnet_id": ref("azurerm_subnet", tf_name(net.name, subnet.name)),
        "tags": ctx.labels(spec),
    }, [
        Block("private_service_connection", (), {
            "name": suffixed(spec.name, "psc", 80),
            "private_connection_resource_id": ref(resource_type, name),
            "subresource_names": [subresource],
            "is_manual_connection": False,
        }),
        Block("private_dns_zone_group", (), {
            "name": "default", "private_dns_zone_ids": [ref("azurerm_private_dns_zone", zone)],
        }),
    ])
    rendered = Rendered(resources=[endpoint])
    rendered.add_plumbing(
        Block("resource", ("azurerm_private_dns_zone", zone), {
            "name": zone_name, "resource_group_name": RESOURCE_GROUP,
            "tags": {"managed_by": "cloud-engine", "project": ctx.project_name},
        }),
        Block("resource", ("azurerm_private_dns_zone_virtual_network_link", link), {
            "name": suffixed(net.name, f"{spec.engine}-dns", 80),
            "resource_group_name": RESOURCE_GROUP,
            "private_dns_zone_name": ref("azurerm_private_dns_zone", zone, "name"),
            "virtual_network_id": ref("azurerm_virtual_network", tf_name(net.name)),
            "registration_enabled": False,
            "tags": {"managed_by": "cloud-engine", "project": ctx.project_name},
        }),
    )
    return rendered


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
        "administrator_login": ADMIN_LOGIN,
        "administrator_password": ref("random_password", name, "result"),
        "tags": ctx.labels(spec),
    }, [Block("authentication", (), {
        "active_directory_auth_enabled": True,
        "password_auth_enabled": True,
        "tenant_id": Raw("data.azurerm_client_config.current.tenant_id"),
    })])
    client = Block("data", ("azurerm_client_config", "current"))
    return resource_type, Rendered(resources=[_password(name), server],
                                   shared={"data.azurerm_client_config.current": client},
                                   required_providers=dict(RANDOM_PROVIDER))


def _mysql(spec: ResourceSpec, ctx: RenderContext, name: str) -> tuple[str, Rendered]:
    resource_type = "azurerm_mysql_flexible_server"
    password = _password(name)
    version = engine_version(spec)
    server = Block("resource", (resource_type, name), {
        **placement(spec, ctx),
        "version": MYSQL_VERSIONS.get(version, version),
        "sku_name": spec.tier or DEFAULT_TIER,
        "administrator_login": ADMIN_LOGIN,
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
    rendered.merge(_private_endpoint(spec, ctx, name, resource_type))
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
