"""Which of a session's changes exist: the state against both ends of each change.

The sandbox end to end is covered with the real binary in tests/cloud_engine/core/test_state_truth.py;
here a real provider's shape: a saved plan's before/after, addresses from the real renderer.
"""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.plan import PlanResult, ResourceChange
from cloud_engine.iac.plan_parser import UNKNOWN
from cloud_engine.iac.reconcile import Expectation, expectations_from_plan, fold_statuses, state_instances
from cloud_engine.iac.render import resource_keys
from cloud_engine.iac.sandbox import mirror_instances, render_sandbox

WEB = ResourceSpec(kind="vm", name="web", machine_type="t3.small")
DB = ResourceSpec(kind="bucket", name="logs")


def _state(*instances: tuple[str, str, dict]) -> dict:
    return {"version": 4, "resources": [
        {"mode": "managed", "type": t, "name": n, "instances": [{"attributes": attrs}]} for t, n, attrs in instances]}


def test_addresses_map_back_to_the_user_resource_that_rendered_them() -> None:
    keys = resource_keys("aws", [WEB, DB], project_name="shop", region="us-east-1")
    assert keys["aws_instance.web"] == ("vm", "web")
    assert ("bucket", "logs") in keys.values()


def test_a_real_provider_plan_cut_half_way_is_told_apart_per_resource() -> None:
    keys = {"aws_instance.web": ("vm", "web"), "aws_s3_bucket.logs": ("bucket", "logs"),
            "aws_instance.old": ("vm", "old")}
    plan = PlanResult(changes=[
        ResourceChange(address="aws_instance.web", type="aws_instance", name="web", action="update",
                       actions=["update"], before={"instance_type": "t3.micro", "id": "i-1"},
                       after={"instance_type": "t3.small", "id": "i-1"}),
        ResourceChange(address="aws_s3_bucket.logs", type="aws_s3_bucket", name="logs", action="create",
                       actions=["create"], after={"bucket": "shop-logs", "arn": UNKNOWN}),
        ResourceChange(address="aws_instance.old", type="aws_instance", name="old", action="delete",
                       actions=["delete"], before={"instance_type": "t3.micro"}),
    ])
    state = _state(("aws_instance", "web", {"instance_type": "t3.micro", "id": "i-1"}),
                   ("aws_s3_bucket", "logs", {"bucket": "shop-logs", "arn": "arn:aws:s3:::shop-logs"}))
    statuses = fold_statuses(expectations_from_plan(plan, keys), state_instances(state),
                             [("vm", "web"), ("bucket", "logs"), ("vm", "old")])
    assert statuses == {("vm", "web"): "not_made", ("bucket", "logs"): "made", ("vm", "old"): "made"}


def test_a_replace_cut_between_its_delete_and_its_create_is_partial() -> None:
    old = ResourceSpec(kind="vm", name="web", machine_type="e2-small", image="debian-12")
    new = old.model_copy(update={"image": "ubuntu-2404"})
    before = mirror_instances([old], region="us-central1")
    after = mirror_instances([new], region="us-central1")
    identity, settings = sorted(before)
    expected = {a: Expectation(key=("vm", "web"), before={"triggers": before[a][1]}, after={"triggers": after[a][1]})
                for a in before}
    only_settings = _state(("null_resource", settings.split(".", 1)[1], {"triggers": before[settings][1]}))
    assert fold_statuses(expected, state_instances(only_settings), [("vm", "web")]) == {("vm", "web"): "partial"}
    both_new = _state(*(("null_resource", a.split(".", 1)[1], {"triggers": after[a][1]}) for a in (identity, settings)))
    assert fold_statuses(expected, state_instances(both_new), [("vm", "web")]) == {("vm", "web"): "made"}


def test_the_mirror_instances_are_the_rendered_null_resources() -> None:
    rendered = render_sandbox([WEB.model_copy(update={"machine_type": "e2-small"})], project_name="p",
                              region="us-central1")["main.tf"]
    for address in mirror_instances([WEB.model_copy(update={"machine_type": "e2-small"})], region="us-central1"):
        kind, name = address.split(".", 1)
        assert f'resource "{kind}" "{name}"' in rendered
