"""Provider-neutral resource specs → one Terraform root's files, checked by a second parser.

Why pure and synchronous: rendering is a function of the project's desired resources, so
the engine can preview, diff and test it without a binary; `render_formatted` adds the
`terraform fmt` pass. Every file is parsed back with python-hcl2 and every string literal
compared with the value we meant to write before anything is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.fmt import terraform_fmt
from cloud_engine.iac.hcl import Block, write_files
from cloud_engine.iac.providers import RenderContext, Rendered, get_provider
from cloud_engine.iac.providers._base import KIND_ORDER, ordered
from cloud_engine.iac.providers._common import (
    WorldAdminAllowance,
    check_api_access_cidrs,
    check_project_name,
    check_unique,
    check_world_admin,
)
from cloud_engine.iac.sandbox import render_sandbox

__all__ = ["BACKEND_KEYS", "KIND_ORDER", "backend_config", "ordered", "plumbing", "render", "render_formatted",
           "resource_keys"]

# Accepted backend settings: name → required?; anything else is refused.
BACKEND_KEYS: dict[str, dict[str, bool]] = {
    "gcs": {"bucket": True, "prefix": False, "impersonate_service_account": False},
    "s3": {"bucket": True, "key": True, "region": True, "encrypt": False, "dynamodb_table": False,
           "kms_key_id": False, "use_lockfile": False},
    "azurerm": {"resource_group_name": True, "storage_account_name": True, "container_name": True, "key": True,
                "use_azuread_auth": False, "subscription_id": False},
}
FILE_ORDER = ("versions.tf", "providers.tf", "variables.tf", "main.tf", "outputs.tf")


def _rendered(provider: str, specs: Sequence[ResourceSpec], *, project_name: str, region: str | None,
              api_access_cidrs: Sequence[str] = ()) -> tuple[RenderContext, Rendered]:
    prov = get_provider(provider)
    ctx = RenderContext(provider=provider, project_name=project_name, region=region or prov.default_region,
                        resources=ordered(specs), api_access_cidrs=check_api_access_cidrs(api_access_cidrs))
    rendered = Rendered()
    for spec in ctx.resources:
        rendered.merge(prov.kind(spec.kind).render(spec, ctx))
    return ctx, rendered


def render(
    provider: str,
    resources: Sequence[ResourceSpec],
    *,
    project_name: str,
    region: str | None = None,
    backend: Mapping[str, Any] | None = None,
    shape: str = "gcp",
    allow_world_admin: WorldAdminAllowance = False,
    api_access_cidrs: Sequence[str] = (),
) -> dict[str, str]:
    """File name → HCL text for `provider` (gcp, aws, azure) or the sandbox mirror ("sandbox").

    `allow_world_admin` lets firewall rules open SSH/RDP to 0.0.0.0/0: True for all firewalls,
    or the names of those a security policy exempted (the engine decides; default none). The sandbox ignores `backend` (its state is local).
    `api_access_cidrs` are public ranges (an office, a CI runner) allowed to reach Kubernetes
    control planes; by default EKS is private-only and GKE admits only the network's subnets.
    """
    check_project_name(project_name)
    specs = tuple(resources)
    check_unique(specs)
    check_world_admin(specs, allow=allow_world_admin)
    if provider == "sandbox":
        return render_sandbox(specs, project_name=project_name, region=region, shape=shape,
                              allow_world_admin=allow_world_admin)
    ctx, rendered = _rendered(provider, specs, project_name=project_name, region=region,
                              api_access_cidrs=api_access_cidrs)
    base = get_provider(provider).base(ctx, rendered)
    files: dict[str, list[Block]] = {
        "versions.tf": base["versions.tf"],
        "providers.tf": base["providers.tf"],
        "variables.tf": base["variables.tf"],
        "main.tf": [*base.get("main.tf", []), *rendered.shared.values(), *rendered.resources,
                    *rendered.plumbing.values()],
        "outputs.tf": rendered.outputs,
    }
    backend_block = backend_config(backend)
    if backend_block is not None:
        files["backend.tf"] = [backend_block]
    return write_files(files)


def resource_keys(provider: str, resources: Sequence[ResourceSpec], *, project_name: str,
                  region: str | None = None) -> dict[str, tuple[str, str]]:
    """Terraform address → (kind, name) of the user resource whose renderer wrote that block.

    Why: a real provider's plan and state speak in addresses (`aws_instance.web`,
    `google_compute_firewall.edge__r0`); reconciling them with the engine's records needs
    the user resource behind each. Shared blocks (provider plumbing) map to nothing.
    """
    specs = ordered(resources)
    prov = get_provider(provider)
    ctx = RenderContext(provider=provider, project_name=project_name, region=region or prov.default_region,
                        resources=specs)
    out: dict[str, tuple[str, str]] = {}
    for spec in specs:
        for block in prov.kind(spec.kind).render(spec, ctx).resources:
            if block.type == "resource" and len(block.labels) == 2:
                out[f"{block.labels[0]}.{block.labels[1]}"] = spec.key
    return out


def plumbing(provider: str, resources: Sequence[ResourceSpec], *, project_name: str,
             region: str | None = None) -> list[str]:
    """Terraform addresses of the network plumbing the project's resources need on `provider`, in file order.

    Why: gateways, NAT, route tables, flow logs and private DNS zones are created although
    nobody named them; the lobby lists them as "network plumbing" so nothing is hidden
    (`iac/plumbing.py` prices them). Blocks a kind adds for itself (a database's security
    group, a cluster's KMS key) belong to that resource and are not listed.
    """
    specs = tuple(resources)
    check_unique(specs)
    _, rendered = _rendered(provider, specs, project_name=project_name, region=region)
    return [".".join(block.labels) for block in rendered.plumbing.values() if block.type == "resource"]


async def render_formatted(
    provider: str,
    resources: Sequence[ResourceSpec],
    *,
    project_name: str,
    region: str | None = None,
    backend: Mapping[str, Any] | None = None,
    shape: str = "gcp",
    allow_world_admin: WorldAdminAllowance = False,
    terraform_bin: str | None = None,
) -> dict[str, str]:
    """`render`, then `terraform fmt` on every file (the writer's layout usually already matches)."""
    files = render(provider, resources, project_name=project_name, region=region, backend=backend, shape=shape,
                   allow_world_admin=allow_world_admin)
    return await terraform_fmt(files, terraform_bin=terraform_bin)


def backend_config(backend: Mapping[str, Any] | None) -> Block | None:
    """`terraform { backend "<type>" {...} }`, or None for local state ({"type": "local"} or None)."""
    if not backend or backend.get("type", "local") == "local":
        return None
    kind = backend.get("type")
    if kind not in BACKEND_KEYS:
        raise InvalidInput(field="backend.type", rule=f"must be local or one of {sorted(BACKEND_KEYS)}")
    allowed = BACKEND_KEYS[kind]
    settings = {k: v for k, v in backend.items() if k != "type"}
    if stray := sorted(set(settings) - set(allowed)):
        raise InvalidInput(field="backend", rule=f"{kind} backend does not take {stray}")
    if missing := sorted(k for k, required in allowed.items() if required and not settings.get(k)):
        raise InvalidInput(field="backend", rule=f"{kind} backend needs {missing}")
    for key, value in settings.items():
        if not isinstance(value, str | bool):
            raise InvalidInput(field=f"backend.{key}", rule="must be text or true/false")
    if kind == "s3":
        settings.setdefault("encrypt", True)
    return Block("terraform", (), {}, [Block("backend", (kind,), settings)])
