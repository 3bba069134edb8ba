"""AWS specifics shared by kind modules: per-region provider aliases and tags."""

from __future__ import annotations

from cloud_engine.core.catalog_checks import aws_security_group_description
from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import Raw, is_identifier
from cloud_engine.iac.providers._base import RenderContext
from cloud_engine.iac.providers._common import ref, tf_name


def alias(region: str) -> str:
    """The provider alias for a region (`us-west-2` → `us_west_2`), checked to be an identifier."""
    name = region.replace("-", "_")
    if not is_identifier(name):
        raise InvalidInput(field="region", rule=f"{region!r} cannot name an AWS provider alias")
    return name


def provider_for(spec: ResourceSpec, ctx: RenderContext) -> Raw | None:
    """The aliased provider for a resource outside the default region (AWS providers are regional)."""
    region = ctx.region_of(spec)
    return None if region == ctx.region else Raw(f"aws.{alias(region)}")


def aws_tags(spec: ResourceSpec, ctx: RenderContext, name: str | None = None) -> dict[str, str]:
    return {**spec.tags, "Name": name or spec.name, **ctx.labels(spec)}


def sg_description(spec: ResourceSpec) -> str:
    """A security group description AWS will accept; other text is refused here, not at apply."""
    return aws_security_group_description(spec.name, spec.description)


def firewall_groups(spec: ResourceSpec, ctx: RenderContext) -> list[Raw]:
    """The security groups of the project's firewalls on the same network as `spec` (both unset counts),
    then, for a VM, the targets' group of every load balancer fronting it (it admits only that ALB)."""
    groups = [
        ref("aws_security_group", tf_name(other.name))
        for other in ctx.resources
        if other.kind == "firewall" and other.network == spec.network
    ]
    if spec.kind == "vm":
        groups += [ref("aws_security_group", tf_name(lb.name, "targets")) for lb in ctx.resources
                   if lb.kind == "load_balancer" and lb.backend == spec.name and spec.network is not None]
    return groups
