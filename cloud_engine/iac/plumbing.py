"""The network plumbing of a project on a real cloud, priced, for the lobby and the estimate.

Why here and not in the catalogue's pricers: plumbing exists because of how resources sit
together (a NAT because a private VM shares a network with nobody public), which only the
renderer knows. The catalogue prices one spec at a time; this prices what the renderer adds
on top, at list prices of the providers' reference regions (source and date below), hourly
charges only: traffic and log ingestion are billed by use and named in `detail`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.render import plumbing

__all__ = ["PRICES_AS_OF", "PRICE_SOURCES", "PlumbingItem", "network_plumbing"]

HOURS_PER_MONTH = 730
PRICES_AS_OF = "2026-11-01"
PRICE_SOURCES = {
    "aws": "https://aws.amazon.com/vpc/pricing/",
    "gcp": "https://cloud.google.com/vpc/network-pricing#nat-pricing",
    "azure": "https://azure.microsoft.com/pricing/details/azure-nat-gateway/ and /pricing/details/dns/",
}
# Terraform type → (USD per hour, what it is and what is billed by use).
HOURLY: dict[str, tuple[float, str]] = {
    "aws_nat_gateway": (0.045, "NAT gateway; plus $0.045 per GB processed"),
    "aws_eip": (0.005, "public IPv4 address of the NAT gateway"),
    "aws_flow_log": (0.0, "VPC flow logs; CloudWatch Logs ingestion and storage billed by volume"),
    "aws_internet_gateway": (0.0, "internet gateway; data transfer out billed by volume"),
    "google_compute_router_nat": (0.0014, "Cloud NAT per VM using it (up to 32); plus $0.045 per GB processed"),
    "azurerm_private_dns_zone": (0.50 / HOURS_PER_MONTH, "private DNS zone ($0.50 per month); queries billed by use"),
    "azurerm_nat_gateway": (0.045, "NAT gateway; plus $0.045 per GB processed"),
    "azurerm_public_ip": (0.005, "static public IP of the NAT gateway"),
}
GCP_NAT_MAX_VMS = 32


@dataclass(frozen=True)
class PlumbingItem:
    """One generated resource nobody named: its address, what it is, and what it costs."""

    address: str
    resource_type: str
    hourly_usd: float
    monthly_usd: float
    detail: str


def _nat_vms(network: str, specs: Sequence[ResourceSpec]) -> int:
    """VMs behind a GCP Cloud NAT: private VMs and private cluster nodes in the network."""
    count = 0
    for spec in specs:
        if spec.network != network:
            continue
        if spec.kind == "vm" and not spec.public_ip:
            count += 1
        elif spec.kind == "k8s_cluster" and spec.private_nodes:
            count += spec.node_count or 0
    return min(max(count, 1), GCP_NAT_MAX_VMS)


def network_plumbing(provider: str, resources: Sequence[ResourceSpec], *, project_name: str,
                     region: str | None = None) -> list[PlumbingItem]:
    """Every plumbing resource the project needs on `provider`, in file order, with its hourly and monthly price.

    Types without a price of their own (route tables, default security groups, peering
    connections) cost 0 and say so.
    """
    specs = tuple(resources)
    items: list[PlumbingItem] = []
    for address in plumbing(provider, specs, project_name=project_name, region=region):
        resource_type, name = address.split(".", 1)
        hourly, detail = HOURLY.get(resource_type, (0.0, "no charge of its own"))
        if resource_type == "google_compute_router_nat":
            vms = _nat_vms(name.split("__")[0], specs)
            hourly, detail = hourly * vms, f"{detail}; {vms} VM(s)"
        hourly = round(hourly, 6)
        items.append(PlumbingItem(address=address, resource_type=resource_type, hourly_usd=hourly,
                                  monthly_usd=round(hourly * HOURS_PER_MONTH, 2), detail=detail))
    return items
