"""versions.tf, providers.tf (features {}), variables.tf and the project resource group for Azure."""

from __future__ import annotations

from cloud_engine.iac.hcl import Block, Raw, Value
from cloud_engine.iac.providers._base import MANAGED_BY, RenderContext, Rendered

AZURERM_SOURCE = "hashicorp/azurerm"
AZURERM_VERSION = "~> 4.9"  # storage_account_id on containers (4.9)
REQUIRED_TERRAFORM = ">= 1.0.0"


def base_files(ctx: RenderContext, rendered: Rendered) -> dict[str, list[Block]]:
    providers: dict[str, Value] = {"azurerm": {"source": AZURERM_SOURCE, "version": AZURERM_VERSION}, **rendered.required_providers}
    versions = Block("terraform", (), {"required_version": REQUIRED_TERRAFORM}, [
        Block("required_providers", (), providers),
    ])
    provider = Block("provider", ("azurerm",), {"subscription_id": Raw("var.subscription_id")}, [Block("features")])
    variables = [
        Block("variable", ("location",), {
            "description": "Azure region of the resource group and of resources that do not name one",
            "type": Raw("string"),
            "default": ctx.region,
        }),
        Block("variable", ("subscription_id",), {
            "description": "Subscription id; null falls back to ARM_SUBSCRIPTION_ID in the environment",
            "type": Raw("string"),
            "default": Raw("null"),
        }),
        *rendered.variables.values(),
    ]
    group = Block("resource", ("azurerm_resource_group", "main"), {
        "name": f"rg-{ctx.project_name}",
        "location": Raw("var.location"),
        "tags": {"managed_by": MANAGED_BY, "project": ctx.project_name},
    })
    return {"versions.tf": [versions], "providers.tf": [provider], "variables.tf": variables, "main.tf": [group]}
