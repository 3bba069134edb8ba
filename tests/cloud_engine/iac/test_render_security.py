"""Security defaults, the SSH/RDP world-open guard, unknown kinds, backends and the round-trip guard."""

from __future__ import annotations

import dataclasses
from typing import Any

import hcl2
import pytest

from cloud_engine.core.models import ResourceSpec
from cloud_engine.errors import InvalidInput, TerraformError, UnsupportedResource
from cloud_engine.iac import hcl, render
from cloud_engine.iac.hcl import unescape_hcl_literal
from cloud_engine.iac.providers import PROVIDERS

PROVIDER_NAMES = ["gcp", "aws", "azure"]


def resources_of(main_tf: str, resource_type: str) -> dict[str, dict[str, Any]]:
    """name → body of every `resource "<type>" "<name>"` block in a file."""
    out: dict[str, dict[str, Any]] = {}
    for entry in hcl2.loads(main_tf).get("resource", []):
        for rtype, by_name in entry.items():
            if unescape_hcl_literal(rtype) == resource_type:
                for name, body in by_name.items():
                    out[unescape_hcl_literal(name)] = body
    return out


def world_ssh_firewall(port: int = 22) -> ResourceSpec:
    return ResourceSpec(kind="firewall", name="open-admin", rules=[{"ports": [port], "sources": ["0.0.0.0/0"]}])


def network() -> ResourceSpec:
    # databases need a network; RDS needs subnets in two zones
    return ResourceSpec(kind="network", name="core", subnets=[{"name": "a", "cidr": "10.10.1.0/24"},
                                                              {"name": "b", "cidr": "10.10.2.0/24"}])


def test_gcp_security_defaults() -> None:
    specs = [network(), ResourceSpec(kind="bucket", name="bk1"), ResourceSpec(kind="database", name="db1", network="core")]
    main = render("gcp", specs, project_name="p1")["main.tf"]
    bucket = resources_of(main, "google_storage_bucket")["bk1"]
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == '"enforced"'
    db = resources_of(main, "google_sql_database_instance")["db1"]
    assert db["deletion_protection"] is True
    backups = db["settings"][0]["backup_configuration"][0]
    assert backups["enabled"] is True and backups["point_in_time_recovery_enabled"] is True


def test_aws_security_defaults() -> None:
    specs = [network(), ResourceSpec(kind="bucket", name="bk1"), ResourceSpec(kind="database", name="db1", network="core"),
             ResourceSpec(kind="vm", name="vm1")]
    main = render("aws", specs, project_name="p1")["main.tf"]
    db = resources_of(main, "aws_db_instance")["db1"]
    assert db["storage_encrypted"] is True and db["deletion_protection"] is True
    assert db["publicly_accessible"] is False and db["backup_retention_period"] == 7
    block = resources_of(main, "aws_s3_bucket_public_access_block")["bk1"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                          "restrict_public_buckets"))
    sse = resources_of(main, "aws_s3_bucket_server_side_encryption_configuration")["bk1"]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == '"aws:kms"'
    versioning = resources_of(main, "aws_s3_bucket_versioning")["bk1"]
    assert versioning["versioning_configuration"][0]["status"] == '"Enabled"'
    vm = resources_of(main, "aws_instance")["vm1"]
    assert vm["root_block_device"][0]["encrypted"] is True
    assert vm["metadata_options"][0]["http_tokens"] == '"required"'


def test_azure_security_defaults() -> None:
    specs = [network(), ResourceSpec(kind="bucket", name="bkt1"), ResourceSpec(kind="database", name="db1", network="core"),
             ResourceSpec(kind="database", name="db2", engine="mysql", network="core")]
    files = render("azure", specs, project_name="p1")
    account = resources_of(files["main.tf"], "azurerm_storage_account")["bkt1"]
    assert account["min_tls_version"] == '"TLS1_2"'
    assert account["allow_nested_items_to_be_public"] is False
    assert account["infrastructure_encryption_enabled"] is True
    assert resources_of(files["main.tf"], "azurerm_storage_container")["bkt1"]["container_access_type"] == '"private"'
    pg = resources_of(files["main.tf"], "azurerm_postgresql_flexible_server")["db1"]
    assert pg["public_network_access_enabled"] is False
    locks = resources_of(files["main.tf"], "azurerm_management_lock")
    assert {k: v["lock_level"] for k, v in locks.items()} == {"db1": '"CanNotDelete"', "db2": '"CanNotDelete"'}
    assert '"hashicorp/random"' in files["versions.tf"]


@pytest.mark.parametrize("provider", [*PROVIDER_NAMES, "sandbox"])
@pytest.mark.parametrize("port", [22, 3389])
def test_world_open_admin_port_is_refused(provider: str, port: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        render(provider, [world_ssh_firewall(port)], project_name="p1")
    assert exc.value.field == "open-admin.rules[0]"
    assert str(port) in exc.value.rule


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_world_open_admin_port_is_allowed_when_policy_allows(provider: str) -> None:
    main = render(provider, [world_ssh_firewall()], project_name="p1", allow_world_admin=True)["main.tf"]
    assert "0.0.0.0/0" in main


def test_world_open_admin_port_allowance_can_name_single_firewalls() -> None:
    other = ResourceSpec(kind="firewall", name="other", rules=[{"ports": [22], "sources": ["0.0.0.0/0"]}])
    main = render("gcp", [world_ssh_firewall()], project_name="p1", allow_world_admin=frozenset({"open-admin"}))
    assert "0.0.0.0/0" in main["main.tf"]
    with pytest.raises(InvalidInput) as exc:
        render("gcp", [world_ssh_firewall(), other], project_name="p1", allow_world_admin=frozenset({"open-admin"}))
    assert exc.value.field == "other.rules[0]"
    with pytest.raises(InvalidInput):
        render("sandbox", [other], project_name="p1", allow_world_admin=frozenset())


def test_world_open_non_admin_port_is_fine() -> None:
    spec = ResourceSpec(kind="firewall", name="web", rules=[{"ports": [443], "sources": ["0.0.0.0/0"]}])
    assert "0.0.0.0/0" in render("gcp", [spec], project_name="p1")["main.tf"]


def test_labels_include_ownership_and_override_user_tags() -> None:
    # a user tag named like an ownership label is refused at validation (tests/cloud_engine/core/
    # test_input_hardening.py); a spec that skipped validation still cannot spoof ownership
    spec = ResourceSpec(kind="bucket", name="bk1", tags={"team": "data"})
    spec = spec.model_copy(update={"tags": {"team": "data", "managed_by": "someone"}})
    body = resources_of(render("gcp", [spec], project_name="p1")["main.tf"], "google_storage_bucket")["bk1"]
    assert body["labels"] == {"team": '"data"', "managed_by": '"cloud-engine"', "project": '"p1"'}


def test_unknown_kind_raises_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnsupportedResource):
        PROVIDERS["gcp"].kind("queue")
    gcp = PROVIDERS["gcp"]
    reduced = dataclasses.replace(gcp, kinds={k: v for k, v in gcp.kinds.items() if k != "bucket"})
    monkeypatch.setitem(PROVIDERS, "gcp", reduced)
    with pytest.raises(UnsupportedResource) as exc:
        render("gcp", [ResourceSpec(kind="bucket", name="bk1")], project_name="p1")
    assert exc.value.kind == "bucket" and exc.value.provider == "gcp"


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_every_provider_registers_every_kind(provider: str) -> None:
    assert set(PROVIDERS[provider].kinds) == {"vm", "database", "network", "bucket", "firewall", "k8s_cluster",
                                              "load_balancer"}


def test_unknown_provider_and_bad_project_name_are_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        render("oracle", [], project_name="p1")
    with pytest.raises(InvalidInput):
        render("gcp", [], project_name='p1" }')


def test_duplicate_names_of_one_kind_are_refused() -> None:
    with pytest.raises(InvalidInput):
        render("gcp", [ResourceSpec(kind="vm", name="a"), ResourceSpec(kind="vm", name="a")], project_name="p1")


@pytest.mark.parametrize("backend", [
    {"type": "gcs"},
    {"type": "s3", "bucket": "b", "key": "k"},
    {"type": "gcs", "bucket": "b", "endpoint": "http://evil"},
    {"type": "consul", "address": "x"},
    {"type": "gcs", "bucket": ["b"]},
])
def test_bad_backends_are_refused(backend: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        render("gcp", [], project_name="p1", backend=backend)


def test_s3_backend_encrypts_state_and_escapes_values() -> None:
    backend = {"type": "s3", "bucket": "b", "key": 'a"${x}', "region": "us-east-1"}
    text = render("aws", [], project_name="p1", backend=backend)["backend.tf"]
    body = hcl2.loads(text)["terraform"][0]["backend"][0]['"s3"']
    assert body["encrypt"] is True
    assert unescape_hcl_literal(body["key"]) == 'a"${x}'


def test_aws_refuses_deny_rules_and_azure_vm_needs_a_subnet() -> None:
    deny = ResourceSpec(kind="firewall", name="fw", rules=[{"ports": [80], "action": "deny"}])
    with pytest.raises(InvalidInput):
        render("aws", [deny], project_name="p1")
    with pytest.raises(InvalidInput):
        render("azure", [ResourceSpec(kind="vm", name="vm1")], project_name="p1")
    with pytest.raises(InvalidInput):
        render("aws", [ResourceSpec(kind="k8s_cluster", name="k1")], project_name="p1")


def test_gcp_refuses_label_values_gcp_would_reject() -> None:
    with pytest.raises(InvalidInput):
        render("gcp", [ResourceSpec(kind="bucket", name="bk1", tags={"team": "Data Team"})], project_name="p1")


def test_roundtrip_guard_catches_a_broken_escaper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl, "escape_hcl_string", lambda text: '"' + text + '"')
    spec = ResourceSpec(kind="vm", name="vm1", description='say "hi"')
    with pytest.raises(TerraformError) as exc:
        render("gcp", [spec], project_name="p1")
    assert exc.value.phase == "render"


def test_roundtrip_guard_catches_a_literal_that_reads_back_differently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hcl, "escape_hcl_string", lambda text: '"' + text.replace("a", "b") + '"')
    with pytest.raises(TerraformError, match="reads back"):
        render("gcp", [ResourceSpec(kind="vm", name="vm1", description="abc")], project_name="p1")
