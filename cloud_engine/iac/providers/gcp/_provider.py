"""versions.tf, providers.tf and variables.tf for Google Cloud."""

from __future__ import annotations

from cloud_engine.iac.hcl import Block, Raw, Value
from cloud_engine.iac.providers._base import RenderContext, Rendered

GOOGLE_SOURCE = "hashicorp/google"
GOOGLE_VERSION = "~> 6.0"
REQUIRED_TERRAFORM = ">= 1.0.0"


def base_files(ctx: RenderContext, rendered: Rendered) -> dict[str, list[Block]]:
    providers: dict[str, Value] = {"google": {"source": GOOGLE_SOURCE, "version": GOOGLE_VERSION}, **rendered.required_providers}
    versions = Block("terraform", (), {"required_version": REQUIRED_TERRAFORM}, [
        Block("required_providers", (), providers),
    ])
    provider = Block("provider", ("google",), {"project": Raw("var.project_id"), "region": Raw("var.region")})
    variables = [
        Block("variable", ("project_id",), {
            "description": "GCP project id; null falls back to GOOGLE_PROJECT in the environment",
            "type": Raw("string"),
            "default": Raw("null"),
        }),
        Block("variable", ("region",), {
            "description": "Default region for resources that do not name one",
            "type": Raw("string"),
            "default": ctx.region,
        }),
        *rendered.variables.values(),
    ]
    return {"versions.tf": [versions], "providers.tf": [provider], "variables.tf": variables}
