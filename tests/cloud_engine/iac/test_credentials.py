"""A cloud target's Terraform gets its provider's credentials, masked; the sandbox and other providers get none."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from cloud_engine.core import CloudOrchestrator
from cloud_engine.core.models import Project
from cloud_engine.iac.sinks import ListSink
from cloud_engine.iac.terraform_deployer import TerraformDeployer
from cloud_engine.settings import Settings
from tests.conftest import ADMIN, GUILD

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
REGIONS = {"aws": "us-east-1", "azure": "westeurope", "gcp": "us-central1"}


@pytest.fixture
def cloud_settings(settings: Settings, tmp_path: Path) -> Settings:
    fake = tmp_path / "terraform"
    fake.write_text("#!/bin/sh\nenv | sort\n")  # prints what a real terraform would start with
    fake.chmod(0o755)
    return settings.model_copy(update={
        "terraform_bin": str(fake), "aws_access_key_id": SecretStr("AKIAIOSFODNN7EXAMPLE"), "aws_secret_access_key": SecretStr(SECRET),
        "aws_region": "eu-west-1", "azure_client_id": "client-id", "azure_client_secret": SecretStr(SECRET),
        "azure_tenant_id": "tenant", "azure_subscription_id": "sub", "azure_admin_ssh_public_key": "ssh-ed25519 AAAA op",
        "google_application_credentials": tmp_path / "sa.json", "gcp_project_id": "my-proj",
    })


async def _project(engine: CloudOrchestrator, provider: str, target: str) -> Project:
    return await engine.create_project(GUILD, ADMIN, name=f"{provider}-{target}", provider=provider,
                                       region=REGIONS[provider], target=target)


async def _child_env(settings: Settings, project: Project, tmp_path: Path) -> dict[str, str]:
    deployer = TerraformDeployer(settings)
    deployer.root(project).mkdir(parents=True)
    runner = await deployer._runner(project, tmp_path, "plan")
    sink = ListSink()
    await runner.run("version", ["version"], sinks=[sink])
    return dict(line.split("=", 1) for line in sink.lines if "=" in line)


@pytest.mark.parametrize(("provider", "expected"), [
    ("aws", {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}),
    ("azure", {"ARM_CLIENT_ID": "client-id", "ARM_SUBSCRIPTION_ID": "sub",
               "TF_VAR_admin_ssh_public_key": "ssh-ed25519 AAAA op"}),
    ("gcp", {"GOOGLE_PROJECT": "my-proj"}),
])
async def test_a_cloud_target_gets_its_providers_credentials(engine, cloud_settings, tmp_path, provider,
                                                             expected) -> None:
    env = await _child_env(cloud_settings, await _project(engine, provider, "cloud"), tmp_path)
    assert expected.items() <= env.items()
    assert SECRET not in "\n".join(env.values()), "secret values are masked in what the runner streams"
    others = {"aws": "AWS_", "azure": "ARM_", "gcp": "GOOGLE_"}
    for name, prefix in others.items():
        if name != provider:
            assert not any(key.startswith(prefix) for key in env), f"{provider} must not see {prefix}*"
    if provider == "gcp":
        assert "GOOGLE_APPLICATION_CREDENTIALS" in env  # a path, masked anyway (its name says CREDENTIALS)
    masked = {"aws": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], "azure": ["ARM_CLIENT_SECRET"], "gcp": []}
    for name in masked[provider]:
        assert name in env and env[name] not in (SECRET, "AKIAIOSFODNN7EXAMPLE"), f"{name} is passed, masked"


async def test_the_sandbox_gets_no_credentials(engine, cloud_settings, tmp_path) -> None:
    env = await _child_env(cloud_settings, await _project(engine, "gcp", "sandbox"), tmp_path)
    assert not any(key.startswith(("AWS_", "ARM_", "GOOGLE_", "TF_VAR_")) for key in env)
    assert "DISCORD_TOKEN" not in env
