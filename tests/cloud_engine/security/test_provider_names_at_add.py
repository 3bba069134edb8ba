"""A name or tag the provider would refuse is InvalidInput when the resource is added, not when it is planned."""

from __future__ import annotations

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.errors import InvalidInput
from cloud_engine.iac import render
from tests.conftest import ADMIN, GUILD


async def _session(engine: CloudOrchestrator, provider: str, region: str) -> int:
    project = await engine.create_project(GUILD, ADMIN, name=f"names-{provider}", provider=provider, region=region)
    return (await engine.start_session(project.id, ADMIN)).id


@pytest.mark.parametrize(("spec", "field", "rule"), [
    (ResourceSpec(kind="bucket", name="assets", tags={"team": "Data"}), "assets.tags.team", "GCP label values"),
    (ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", tags={"owner": "me@example"}), "web-1.tags.owner",
     "GCP label values"),
    (ResourceSpec(kind="bucket", name="google-assets"), "google-assets.name", "GCS bucket names"),
    (ResourceSpec(kind="bucket", name="b1"), "b1.name", "GCS bucket names have at least 3 characters"),
    (ResourceSpec(kind="k8s_cluster", name="c" * 41), f"{'c' * 41}.name", "GKE cluster names have at most 40"),
])
async def test_gcp_rules_are_checked_when_a_resource_is_added(engine: CloudOrchestrator, spec: ResourceSpec,
                                                              field: str, rule: str) -> None:
    session_id = await _session(engine, "gcp", "us-central1")
    with pytest.raises(InvalidInput) as err:
        await engine.add_resource(session_id, ADMIN, spec)
    assert err.value.field == field and rule in err.value.rule
    assert await engine.get_session(session_id) is not None
    assert not (await engine.get_session(session_id)).resources


@pytest.mark.parametrize(("spec", "rule"), [
    (ResourceSpec(kind="database", name="orders--db"), "RDS identifiers"),
    (ResourceSpec(kind="bucket", name="xn--assets"), "S3 bucket names"),
    (ResourceSpec(kind="bucket", name="logs-s3alias"), "S3 bucket names"),
    (ResourceSpec(kind="bucket", name="b"), "S3 bucket names have at least 3 characters"),
    (ResourceSpec(kind="firewall", name="web", description="Zugriff für alle"), "AWS security group descriptions"),
])
async def test_aws_rules_are_checked_when_a_resource_is_added(engine: CloudOrchestrator, spec: ResourceSpec,
                                                              rule: str) -> None:
    session_id = await _session(engine, "aws", "us-east-1")
    with pytest.raises(InvalidInput, match=rule):
        await engine.add_resource(session_id, ADMIN, spec)


async def test_an_azure_bucket_needs_a_storage_account_name_of_three_letters(engine: CloudOrchestrator) -> None:
    session_id = await _session(engine, "azure", "eastus")
    with pytest.raises(InvalidInput, match="Azure storage account name"):
        await engine.add_resource(session_id, ADMIN, ResourceSpec(kind="bucket", name="a-b"))


async def test_an_azure_firewall_description_fits_a_security_rule(engine: CloudOrchestrator) -> None:
    session_id = await _session(engine, "azure", "eastus")
    with pytest.raises(InvalidInput, match="at most 140"):
        await engine.add_resource(session_id, ADMIN, ResourceSpec(kind="firewall", name="web", description="x" * 141))


async def test_names_the_provider_accepts_are_added(engine: CloudOrchestrator) -> None:
    session_id = await _session(engine, "gcp", "us-central1")
    await engine.add_resource(session_id, ADMIN, ResourceSpec(kind="bucket", name="assets", tags={"team": "data"}))
    await engine.add_resource(session_id, ADMIN, ResourceSpec(kind="k8s_cluster", name="c" * 40))
    assert len((await engine.get_session(session_id)).resources) == 2


@pytest.mark.parametrize(("provider", "spec"), [
    ("gcp", ResourceSpec(kind="bucket", name="google-assets")),
    ("gcp", ResourceSpec(kind="bucket", name="assets", tags={"team": "Data"})),
    ("aws", ResourceSpec(kind="database", name="orders--db")),
    ("azure", ResourceSpec(kind="bucket", name="a-b")),
    ("aws", ResourceSpec(kind="firewall", name="web", description="Zugriff für alle")),
])
def test_the_renderer_applies_the_same_rule(provider: str, spec: ResourceSpec) -> None:
    with pytest.raises(InvalidInput):
        render(provider, [spec], project_name="p1")
