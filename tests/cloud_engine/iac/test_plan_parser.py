"""parse_plan_json on recorded `terraform show -json` output (see testdata/plans/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cloud_engine.iac.plan_parser import REDACTED, UNKNOWN, parse_plan_json, sensitive_values

PLANS = Path(__file__).parent / "testdata" / "plans"


def load(name: str) -> dict[str, Any]:
    return json.loads((PLANS / name).read_text())


def by_address(plan_name: str) -> dict[str, Any]:
    result = parse_plan_json(load(plan_name))
    return {c.address: c for c in result.changes}


def test_create_plan_counts_and_unknowns() -> None:
    result = parse_plan_json(load("create_tf103.json"))
    assert result.terraform_version == "1.0.3"
    assert (result.add, result.change, result.replace, result.destroy) == (3, 0, 0, 0)
    assert result.summary() == "3 to add, 0 to change, 0 to replace, 0 to destroy"
    web = next(c for c in result.changes if c.address == "null_resource.web")
    assert web.action == "create" and web.actions == ["create"]
    assert web.type == "null_resource" and web.name == "web"
    assert web.before is None
    assert web.after == {"id": UNKNOWN, "triggers": {"name": "web", "size": "small"}}
    assert web.changed_attributes == ["id", "triggers"]
    assert web.replace_paths == []
    assert result.output_changes == {"secret": "create", "web_id": "create"}


def test_sensitive_trigger_is_redacted_everywhere() -> None:
    data = load("create_tf103.json")
    result = parse_plan_json(data)
    db = next(c for c in result.changes if c.address == "null_resource.db")
    assert db.after is not None
    assert db.after["triggers"] == {"engine": "postgres", "password": REDACTED}
    assert "hunter2-s3cret" not in result.model_dump_json()
    assert "hunter2-s3cret" in sensitive_values(data)
    assert "postgres" not in sensitive_values(data)


def test_replace_delete_create_and_read_from_real_plan() -> None:
    changes = by_address("mixed_tf103.json")
    web = changes["null_resource.web"]
    assert web.action == "replace" and web.actions == ["delete", "create"]
    assert web.replace_paths == ["triggers"]
    assert web.changed_attributes == ["id", "triggers"]
    assert web.before == {"id": "7938985818278198789", "triggers": {"name": "web", "size": "small"}}
    assert web.after == {"id": UNKNOWN, "triggers": {"name": "web", "size": "large"}}

    db = changes["null_resource.db"]
    assert db.action == "replace"
    assert db.before is not None and db.after is not None
    assert db.before["triggers"]["password"] == REDACTED
    assert db.after["triggers"]["password"] == REDACTED

    cache = changes["null_resource.cache"]
    assert cache.action == "delete" and cache.after is None
    assert cache.changed_attributes == ["id", "triggers"]

    info = changes["data.null_data_source.info"]
    assert info.action == "read" and info.changed_attributes == []
    assert info.after is not None and info.after["inputs"] == {"web": UNKNOWN}

    result = parse_plan_json(load("mixed_tf103.json"))
    assert (result.add, result.change, result.replace, result.destroy) == (1, 0, 2, 1)
    assert result.output_changes == {"secret": "update", "web_id": "update"}
    dumped = result.model_dump_json()
    assert "hunter2-s3cret" not in dumped and "hunter3-n3wsecret" not in dumped


def test_replace_without_replace_paths_falls_back_to_changed_attributes() -> None:
    changes = by_address("replace_no_paths_fmt01.json")
    assert changes["null_resource.web"].replace_paths == ["id", "triggers"]
    assert changes["null_resource.keep"].replace_paths == []  # a create has none


def test_no_op_plan_has_no_changes() -> None:
    result = parse_plan_json(load("noop_tf103.json"))
    assert [c.action for c in result.changes] == ["no-op", "no-op", "no-op"]
    assert all(c.changed_attributes == [] for c in result.changes)
    assert not result.has_changes
    assert set(result.output_changes.values()) == {"no-op"}


def test_destroy_plan() -> None:
    result = parse_plan_json(load("destroy_tf103.json"))
    assert result.destroy == 3 and result.add == 0
    assert {c.action for c in result.changes} == {"delete"}
    assert result.has_changes


def test_update_in_place_and_create_before_destroy_with_nested_replace_paths() -> None:
    changes = by_address("update_replace_tf15.json")
    web = changes["aws_instance.web"]
    assert web.action == "update"
    assert web.changed_attributes == ["instance_type", "tags"]
    assert web.replace_paths == []
    assert web.after is not None and web.after["user_data"] == REDACTED

    api = changes["aws_instance.api"]
    assert api.action == "replace" and api.actions == ["create", "delete"]
    assert api.replace_paths == ["ami", "root_block_device.0.volume_type"]
    assert api.changed_attributes == ["ami", "id", "root_block_device"]

    db = changes["module.db.aws_db_instance.main[0]"]
    assert db.action == "update"
    # A changed sensitive value is reported as changed, but never shown.
    assert db.changed_attributes == ["password"]
    assert db.before == {"id": "db-1", "password": REDACTED, "allocated_storage": 20}


def test_sensitive_values_cover_outputs_and_variables() -> None:
    data = load("update_replace_tf15.json")
    found = sensitive_values(data)
    assert {"Sup3rS3cretDbPass", "N3wS3cretDbPass!", "c2VjcmV0LWJvb3RzdHJhcA=="} <= found
    assert "t3.small" not in found
    dumped = parse_plan_json(data).model_dump_json()
    assert not any(secret in dumped for secret in found)


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["create"], "create"),
        (["update"], "update"),
        (["delete"], "delete"),
        (["delete", "create"], "replace"),
        (["create", "delete"], "replace"),
        (["no-op"], "no-op"),
        (["read"], "read"),
    ],
)
def test_action_mapping(actions: list[str], expected: str) -> None:
    data = {
        "format_version": "1.0",
        "resource_changes": [
            {
                "address": "x.y",
                "type": "x",
                "name": "y",
                "change": {"actions": actions, "before": None, "after": None},
            }
        ],
    }
    assert parse_plan_json(data).changes[0].action == expected


def test_unknown_action_and_format_are_rejected() -> None:
    bad_action = {
        "format_version": "1.2",
        "resource_changes": [{"address": "x.y", "change": {"actions": ["forget"]}}],
    }
    with pytest.raises(ValueError, match="forget"):
        parse_plan_json(bad_action)
    with pytest.raises(ValueError, match="format_version"):
        parse_plan_json({"format_version": "2.0"})
