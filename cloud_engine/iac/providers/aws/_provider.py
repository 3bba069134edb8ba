"""versions.tf, providers.tf (one aliased provider per extra region) and variables.tf for AWS."""

from __future__ import annotations

from cloud_engine.iac.hcl import Block, Raw, Value
from cloud_engine.iac.providers._base import RenderContext, Rendered
from cloud_engine.iac.providers.aws._common import alias
from cloud_engine.iac.providers.aws.load_balancer import CLOUDFRONT_REGION, needs_cloudfront_region

AWS_SOURCE = "hashicorp/aws"
AWS_VERSION = "~> 5.0"
REQUIRED_TERRAFORM = ">= 1.0.0"


def base_files(ctx: RenderContext, rendered: Rendered) -> dict[str, list[Block]]:
    providers: dict[str, Value] = {"aws": {"source": AWS_SOURCE, "version": AWS_VERSION}, **rendered.required_providers}
    versions = Block("terraform", (), {"required_version": REQUIRED_TERRAFORM}, [
        Block("required_providers", (), providers),
    ])
    blocks = [Block("provider", ("aws",), {"region": Raw("var.region")})]
    extra = sorted({spec.region for spec in ctx.resources if spec.region and spec.region != ctx.region}
                   | ({CLOUDFRONT_REGION} if needs_cloudfront_region(ctx) else set()))
    blocks += [Block("provider", ("aws",), {"alias": alias(region), "region": region}) for region in extra]
    variables = [
        Block("variable", ("region",), {
            "description": "Default region for resources that do not name one",
            "type": Raw("string"),
            "default": ctx.region,
        }),
        *rendered.variables.values(),
    ]
    return {"versions.tf": [versions], "providers.tf": blocks, "variables.tf": variables}
