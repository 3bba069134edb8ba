"""The sandbox mirror: identity/settings split per provider shape, and plans read back as user changes."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import hcl2

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac import LogicalChange, logical_changes, render
from cloud_engine.iac.binary import find_terraform, plugin_dir
from cloud_engine.iac.hcl import unescape_hcl_literal
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.iac.plan_parser import parse_plan_json


def null_resources(main_tf: str) -> dict[str, dict]:
    out = {}
    for entry in hcl2.loads(main_tf)["resource"]:
        for name, body in entry.get('"null_resource"', {}).items():
            out[unescape_hcl_literal(name)] = body
    return out


def triggers(body: dict) -> dict[str, str]:
    return {k: unescape_hcl_literal(v) for k, v in body["triggers"].items()}


def test_mirror_splits_identity_and_settings_by_provider_shape() -> None:
    vm = ResourceSpec(kind="vm", name="web", image="debian-12", machine_type="e2-small", tags={"team": "a"})
    gcp = null_resources(render("sandbox", [vm], project_name="p1", region="us-east1", shape="gcp")["main.tf"])
    assert triggers(gcp["vm__web"])["image"] == "debian-12"
    assert triggers(gcp["vm__web"])["region"] == "us-east1"
    assert "disk_gb" in triggers(gcp["vm__web"])  # boot disk size forces a new GCP instance
    assert triggers(gcp["vm__web__settings"])["machine_type"] == "e2-small"
    assert json.loads(triggers(gcp["vm__web__settings"])["tags"]) == {"team": "a"}
    assert gcp["vm__web__settings"]["depends_on"] == ["${null_resource.vm__web}"]
    aws = null_resources(render("sandbox", [vm], project_name="p1", region="us-east-1", shape="aws")["main.tf"])
    assert "disk_gb" in triggers(aws["vm__web__settings"])  # EBS root volumes grow in place


def test_mirror_declares_the_pinned_null_provider() -> None:
    text = render("sandbox", [], project_name="p1", region=None, shape="azure")["main.tf"]
    providers = hcl2.loads(text)["terraform"][0]["required_providers"][0]["null"]
    assert providers == {"source": '"hashicorp/null"', "version": '"2.1.2"'}


def test_subnets_get_their_own_pair() -> None:
    net = ResourceSpec(kind="network", name="core", subnets=[{"name": "app", "cidr": "10.10.1.0/24"}])
    mirror = null_resources(render("sandbox", [net], project_name="p1", shape="aws")["main.tf"])
    assert triggers(mirror["network__core__subnet__app"])["cidr"] == "10.10.1.0/24"  # forces new on AWS
    assert set(mirror) == {"network__core", "network__core__settings", "network__core__subnet__app",
                           "network__core__subnet__app__settings"}


def change(name: str, action: str, before: dict | None, after: dict | None) -> ResourceChange:
    return ResourceChange(
        address=f"null_resource.{name}", type="null_resource", name=name, action=action, actions=[action],
        before=None if before is None else {"triggers": before},
        after=None if after is None else {"triggers": after},
    )


def test_logical_changes_fold_pairs() -> None:
    plan = PlanResult(changes=[
        change("vm__a", "no-op", {"image": "x"}, {"image": "x"}),
        change("vm__a__settings", "replace", {"machine_type": "s", "tags": "{}"}, {"machine_type": "m", "tags": "{}"}),
        change("vm__b", "replace", {"image": "x", "zone": "z"}, {"image": "y", "zone": "z"}),
        change("vm__b__settings", "no-op", {"machine_type": "s"}, {"machine_type": "s"}),
        change("bucket__c", "create", None, {"name": "c"}),
        change("bucket__c__settings", "create", None, {"versioning": "true"}),
        change("network__d", "delete", {"name": "d"}, None),
        change("network__d__settings", "delete", {"cidr": "10.0.0.0/16"}, None),
        change("network__e__subnet__s1", "replace", {"cidr": "10.0.1.0/24"}, {"cidr": "10.0.2.0/24"}),
        change("network__e__subnet__s1__settings", "no-op", {}, {}),
        ResourceChange(address="aws_instance.x", type="aws_instance", name="x", action="create", actions=["create"]),
    ])
    # rows in the kinds' render order (networks first, load balancers last), Terraform's order within a kind
    assert logical_changes(plan) == [
        LogicalChange(kind="network", name="d", action="delete"),
        LogicalChange(kind="network", name="e", part="subnet:s1", action="replace", forced_by=["cidr"],
                      changed=["cidr"]),
        LogicalChange(kind="bucket", name="c", action="create"),
        LogicalChange(kind="vm", name="a", action="update", changed=["machine_type"]),
        LogicalChange(kind="vm", name="b", action="replace", forced_by=["image"], changed=["image"]),
    ]


async def terraform(root: Path, *args: str) -> str:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    proc = await asyncio.create_subprocess_exec(
        find_terraform().path, *args, cwd=root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, f"terraform {args[0]} failed: {stderr.decode()}"
    return stdout.decode()


async def plan_changes(root: Path, specs: list[ResourceSpec], plan_file: str) -> list[LogicalChange]:
    (root / "main.tf").write_text(render("sandbox", specs, project_name="p1", shape="gcp")["main.tf"], "utf-8")
    await terraform(root, "plan", "-no-color", "-input=false", f"-out={plan_file}")
    data = json.loads(await terraform(root, "show", "-json", plan_file))
    return logical_changes(parse_plan_json(data))


async def test_real_plan_shows_update_versus_replace(tmp_path: Path) -> None:
    plugins = plugin_dir(tmp_path / "cache")  # offline: the pinned null provider, no registry access
    root = tmp_path / "root"
    root.mkdir()
    specs = [
        ResourceSpec(kind="vm", name="web", image="debian-12", machine_type="e2-small"),
        ResourceSpec(kind="vm", name="api", image="debian-12", machine_type="e2-small"),
    ]
    (root / "main.tf").write_text(render("sandbox", specs, project_name="p1", shape="gcp")["main.tf"], "utf-8")
    await terraform(root, "init", "-no-color", "-input=false", f"-plugin-dir={plugins}")
    first = await plan_changes(root, specs, "plan1.bin")
    assert [(c.name, c.action) for c in first] == [("api", "create"), ("web", "create")]
    await terraform(root, "apply", "-no-color", "-input=false", "plan1.bin")

    edited = [
        specs[0].model_copy(update={"machine_type": "e2-medium"}),
        specs[1].model_copy(update={"image": "ubuntu-2204-lts"}),
    ]
    second = {c.name: c for c in await plan_changes(root, edited, "plan2.bin")}
    assert second["web"] == LogicalChange(kind="vm", name="web", action="update", changed=["machine_type"])
    assert second["api"] == LogicalChange(kind="vm", name="api", action="replace", forced_by=["image"],
                                          changed=["image"])
