"""Azure specifics shared by kind modules: the project resource group and common attributes."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Raw, Value
from cloud_engine.iac.providers._base import RenderContext, require
from cloud_engine.iac.providers._common import ref, tf_name

RESOURCE_GROUP = Raw("azurerm_resource_group.main.name")


def placement(spec: ResourceSpec, ctx: RenderContext) -> dict[str, Value]:
    """name, resource group and location, the first attributes of nearly every azurerm resource."""
    return {"name": spec.name, "resource_group_name": RESOURCE_GROUP, "location": ctx.region_of(spec)}


def first_subnet(spec: ResourceSpec, ctx: RenderContext, *, required: bool) -> Raw | None:
    """The first subnet of the network this resource names (Azure has no default network)."""
    net = ctx.required_network(spec)
    if required:
        require(
            net is not None and bool(net.subnets),
            f"{spec.name}.network",
            f"an Azure {spec.kind} needs a network of this project with at least one subnet",
        )
    if net is None or not net.subnets:
        return None
    return ref("azurerm_subnet", tf_name(net.name, net.subnets[0].name))
