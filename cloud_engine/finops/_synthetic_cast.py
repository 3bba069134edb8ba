"""The synthetic data set's cast: per-provider accounts, names and resources with realistic ids.

Ids have the shapes each cloud really uses (an EC2 instance ARN ends in `instance/i-0…`, an
Azure VM is `…/providers/Microsoft.Compute/virtualMachines/…`, a GCP instance is
`//compute.googleapis.com/projects/…/zones/…/instances/…`), derived from a hash of the
resource's name so the same cast always has the same ids. No id column of the export is
made only of digits in every row (the FinOps Foundation's validator infers column types
from a CSV and would read such a column as a number): AWS's 12-digit account ids share
their columns with GCP's and Azure's, whose ids hold letters, and rows are written period
by period so every provider appears in the first rows a reader samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from cloud_engine.data.catalog import load_catalog
from cloud_engine.finops.prices import PUBLIC_IP_HOURLY, SNAPSHOT_GB_MONTH

_PROVIDERS: dict[str, dict[str, object]] = {
    "aws": {"name": "AWS", "region": "us-east-1", "region_name": "US East (N. Virginia)", "zone": "us-east-1a",
            "account": "123456789012", "account_name": "Shop Payer", "account_type": "Management Account",
            "sub_id": "210987654321", "sub": "shop-prod", "sub_type": "Member Account",
            "compute": "Amazon Elastic Compute Cloud", "lb": "Elastic Load Balancing",
            "storage": "Amazon Simple Storage Service", "db": "Amazon Relational Database Service",
            "analytics": "Amazon Athena",
            "types": {"vm": "Instance", "disk": "Volume", "snapshot": "Snapshot", "ip": "Elastic IP Address",
                      "lb": "Load Balancer", "bucket": "Bucket", "db": "DB Instance", "analytics": "Workgroup"},
            "steady": "m5.xlarge", "oversized": "m5.2xlarge", "small": "t3.medium", "spiky": "c5.xlarge",
            "dev": "t3.large", "db_tier": "db.m5.large"},
    "gcp": {"name": "Google Cloud", "region": "us-central1", "region_name": "Iowa", "zone": "us-central1-a",
            "account": "01A2B3-C4D5E6-F7A8B9", "account_name": "Analytics Billing", "account_type": "Billing Account",
            "sub_id": "analytics-prod-4821", "sub": "analytics-prod", "sub_type": "Project",
            "compute": "Compute Engine", "lb": "Cloud Load Balancing", "storage": "Cloud Storage",
            "db": "Cloud SQL", "analytics": "BigQuery",
            "types": {"vm": "Compute Instance", "disk": "Persistent Disk", "snapshot": "Disk Snapshot",
                      "ip": "Static External IP Address", "lb": "Load Balancer", "bucket": "Bucket",
                      "db": "Cloud SQL Instance", "analytics": "BigQuery Dataset"},
            "steady": "n2-standard-4", "oversized": "n2-standard-8", "small": "e2-medium", "spiky": "c3-standard-4",
            "dev": "e2-standard-4", "db_tier": "db-custom-2-7680"},
    "azure": {"name": "Microsoft", "region": "eastus", "region_name": "East US", "zone": "1",
              "account": "7c1f0e2a-5b3d-4e8f-9a6b-2d4c8e1f3a5b:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b_2019-05-31",
              "account_name": "Contoso MCA", "account_type": "Billing Profile",
              "sub_id": "3f2b8c1d-7e4a-4c59-b0a6-9d1e2f3a4b5c", "sub": "platform-prod", "sub_type": "Subscription",
              "compute": "Virtual Machines", "lb": "Load Balancer", "storage": "Storage",
              "db": "Azure SQL Database", "analytics": "Azure Synapse Analytics",
              "types": {"vm": "Virtual Machine", "disk": "Managed Disk", "snapshot": "Snapshot",
                        "ip": "Public IP Address", "lb": "Load Balancer", "bucket": "Storage Account",
                        "db": "SQL Database", "analytics": "Synapse Workspace"},
              "steady": "Standard_D4s_v5", "oversized": "Standard_D8s_v5", "small": "Standard_B2s",
              "spiky": "Standard_F4s_v2", "dev": "Standard_D4s_v5", "db_tier": "GP_Standard_D2ds_v5"},
}

# FOCUS 1.2 ServiceCategory / ServiceSubcategory per service role (one pair per ServiceName, as the spec asks).
SERVICE_CATEGORIES: dict[str, tuple[str, str]] = {
    "compute": ("Compute", "Virtual Machines"), "lb": ("Networking", "Application Networking"),
    "storage": ("Storage", "Object Storage"), "db": ("Databases", "Relational Databases"),
    "analytics": ("Analytics", "Analytics Platforms"),
}
ZONAL_KINDS = frozenset({"vm", "disk"})


@dataclass(frozen=True)
class SyntheticResource:
    """One generated resource: what it is, what it costs per hour, and how it behaves."""

    resource_id: str
    name: str
    provider: str
    provider_name: str
    region: str
    service: str
    resource_type: str
    pattern: str
    hourly_cost: float
    sub_account: str
    account: str
    machine_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    metric_days: int | None = None  # None: metrics for the whole window
    created_days_ago: int | None = None
    kind: str = "vm"
    service_role: str = "compute"
    sub_account_id: str = ""

    @property
    def spec(self) -> dict[str, object]:
        """The provider's accounts and names (billing account, region name, zone …)."""
        return _PROVIDERS[self.provider]


def _hex(name: str, n: int = 17) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:n]


def _aws_id(region: str, account: str, kind: str, name: str) -> str:
    ec2 = f"arn:aws:ec2:{region}:{account}:"
    return {
        "vm": f"{ec2}instance/i-0{_hex(name, 16)}", "disk": f"{ec2}volume/vol-0{_hex(name, 16)}",
        "snapshot": f"{ec2}snapshot/snap-0{_hex(name, 16)}", "ip": f"{ec2}elastic-ip/eipalloc-0{_hex(name, 16)}",
        "lb": f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{_hex(name, 16)}",
        "bucket": f"arn:aws:s3:::{name}", "db": f"arn:aws:rds:{region}:{account}:db:{name}",
        "analytics": f"arn:aws:athena:{region}:{account}:workgroup/{name}",
    }[kind]


def _gcp_id(region: str, zone: str, project: str, kind: str, name: str) -> str:
    compute = f"//compute.googleapis.com/projects/{project}"
    return {
        "vm": f"{compute}/zones/{zone}/instances/{name}", "disk": f"{compute}/zones/{zone}/disks/{name}",
        "snapshot": f"{compute}/global/snapshots/{name}", "ip": f"{compute}/regions/{region}/addresses/{name}",
        "lb": f"{compute}/regions/{region}/forwardingRules/{name}",
        "bucket": f"//storage.googleapis.com/projects/_/buckets/{name}",
        "db": f"//cloudsql.googleapis.com/projects/{project}/instances/{name}",
        "analytics": f"//bigquery.googleapis.com/projects/{project}/datasets/{name.replace('-', '_')}",
    }[kind]


def _azure_id(subscription: str, group: str, kind: str, name: str) -> str:
    base = f"/subscriptions/{subscription}/resourceGroups/{group}/providers"
    return {
        "vm": f"{base}/Microsoft.Compute/virtualMachines/{name}", "disk": f"{base}/Microsoft.Compute/disks/{name}",
        "snapshot": f"{base}/Microsoft.Compute/snapshots/{name}",
        "ip": f"{base}/Microsoft.Network/publicIPAddresses/{name}",
        "lb": f"{base}/Microsoft.Network/loadBalancers/{name}",
        "bucket": f"{base}/Microsoft.Storage/storageAccounts/{name.replace('-', '')[:24]}",
        "db": f"{base}/Microsoft.Sql/servers/sql-{group}/databases/{name}",
        "analytics": f"{base}/Microsoft.Synapse/workspaces/{name}",
    }[kind]


def resource_id(provider: str, kind: str, name: str) -> str:
    """The id `provider` would give a resource of `kind` named `name` in the synthetic accounts."""
    spec = _PROVIDERS[provider]
    region, sub = str(spec["region"]), str(spec["sub_id"])
    if provider == "aws":
        return _aws_id(region, sub, kind, name)
    if provider == "gcp":
        return _gcp_id(region, str(spec["zone"]), sub, kind, name)
    return _azure_id(sub, f"rg-{spec['sub']}", kind, name)


def _provider_resources(provider: str) -> list[SyntheticResource]:
    spec = _PROVIDERS[provider]
    cat = load_catalog().for_provider(provider)
    region = str(spec["region"])
    mult = cat.regions[region]
    types: dict[str, str] = spec["types"]  # type: ignore[assignment]
    vm_metrics = ("cpu", "memory", "network_in", "network_out")
    out: list[SyntheticResource] = []

    def add(name: str, kind: str, service_key: str, pattern: str, hourly: float, *, machine_type: str | None = None,
            tags: dict[str, str] | None = None, metrics: tuple[str, ...] = (), metric_days: int | None = None,
            created_days_ago: int | None = None) -> None:
        full = f"{provider}-{name}"
        out.append(SyntheticResource(
            resource_id=resource_id(provider, kind, full),
            name=full, provider=provider, provider_name=str(spec["name"]), region=region,
            service=str(spec[service_key]), resource_type=types[kind], pattern=pattern, hourly_cost=round(hourly, 6),
            sub_account=str(spec["sub"]), account=str(spec["account"]), machine_type=machine_type,
            tags={"project": str(spec["sub"]), "env": "prod", **(tags or {})}, metrics=metrics,
            metric_days=metric_days, created_days_ago=created_days_ago, kind=kind, service_role=service_key,
            sub_account_id=str(spec["sub_id"]),
        ))

    def vm(name: str, type_key: str, pattern: str, **kw: object) -> None:
        machine = str(spec[type_key])
        add(name, "vm", "compute", pattern, cat.machine_types[machine].hourly_usd * mult,
            machine_type=machine, **kw)  # type: ignore[arg-type]

    vm("web-1", "steady", "steady", metrics=vm_metrics)
    vm("api-1", "steady", "steady", metrics=vm_metrics)
    vm("legacy-report", "small", "idle", metrics=vm_metrics)
    vm("erp-app", "oversized", "oversized", metrics=vm_metrics)
    vm("batch-etl", "spiky", "spiky", metrics=vm_metrics)
    vm("dev-box", "dev", "weekday", tags={"env": "dev"}, metrics=vm_metrics)
    vm("test-runner", "dev", "weekday", tags={"env": "test"}, metrics=vm_metrics)
    vm("cache-1", "oversized", "steady_low", metrics=("cpu", "network_in", "network_out"))
    vm("new-svc", "steady", "steady", metrics=vm_metrics, metric_days=5)
    disk_price = cat.storage_gb_month.disk / load_catalog().hours_per_month
    add("data-disk", "disk", "compute", "disk_busy", 500 * disk_price * mult, metrics=("disk_read", "disk_write"))
    add("old-disk", "disk", "compute", "zero", 250 * disk_price * mult, metrics=("disk_read", "disk_write"))
    add("spare-ip", "ip", "compute", "zero", PUBLIC_IP_HOURLY, metrics=("network_in", "network_out"))
    add("lb-legacy", "lb", "lb", "zero", cat.load_balancer_hourly * mult, metrics=("network_in", "network_out"))
    add("lb-main", "lb", "lb", "steady", cat.load_balancer_hourly * mult, metrics=("network_in", "network_out"))
    snap_hourly = 300 * SNAPSHOT_GB_MONTH / load_catalog().hours_per_month
    add("snap-2025", "snapshot", "compute", "none", snap_hourly, created_days_ago=200)
    add("snap-recent", "snapshot", "compute", "none", snap_hourly, created_days_ago=10)
    bucket = cat.storage_gb_month.bucket["STANDARD"] * 2000 / load_catalog().hours_per_month
    add("assets", "bucket", "storage", "none", bucket)
    add("orders-db", "db", "db", "none", cat.database_tiers[str(spec["db_tier"])].hourly_usd * mult)
    add("warehouse", "analytics", "analytics", "anomaly" if provider == "gcp" else "none", 0.2)
    return out


def synthetic_resources(scale: int = 1) -> list[SyntheticResource]:
    """The resource cast for all three providers; `scale` > 1 repeats it with distinct ids."""
    base = [r for p in ("aws", "gcp", "azure") for r in _provider_resources(p)]
    if scale <= 1:
        return base
    return [replace(r, resource_id=f"{r.resource_id}-{i:04d}", name=f"{r.name}-{i:04d}")
            for i in range(scale) for r in base]


__all__ = ["SERVICE_CATEGORIES", "ZONAL_KINDS", "SyntheticResource", "resource_id", "synthetic_resources"]
