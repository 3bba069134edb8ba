"""Every user string is validated; errors name the field and the rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloud_engine.core import FirewallRule, InvalidInput, ResourceSpec
from cloud_engine.core.validation import parse_tags
from tests.conftest import GUILD, USER


@pytest.mark.parametrize("name", ["Web", "1web", "web_1", "web-", "a" * 64, "", "web 1", "wéb", "x;drop table"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as err:
        ResourceSpec(kind="bucket", name=name)
    assert err.value.errors()[0]["loc"] == ("name",)


@pytest.mark.parametrize(("cidr", "why"), [("10.0.0.1/16", "host bits"), ("8.8.8.0/24", "private"), ("banana", "CIDR")])
def test_bad_cidrs(cidr: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        ResourceSpec(kind="network", name="n", cidr=cidr)


def test_subnets_must_fit_the_network_and_not_overlap() -> None:
    with pytest.raises(ValidationError, match="not inside"):
        ResourceSpec(kind="network", name="n", cidr="10.1.0.0/16", subnets=[{"name": "a", "cidr": "10.2.0.0/24"}])
    with pytest.raises(ValidationError, match="overlaps"):
        ResourceSpec(kind="network", name="n", cidr="10.1.0.0/16",
                     subnets=[{"name": "a", "cidr": "10.1.0.0/24"}, {"name": "b", "cidr": "10.1.0.0/25"}])


def test_fields_of_other_kinds_are_refused() -> None:
    with pytest.raises(ValidationError, match="do not apply to a bucket"):
        ResourceSpec(kind="bucket", name="b", machine_type="e2-small")


@pytest.mark.parametrize("tags", [{"Bad Key": "v"}, {"k": "line\nbreak"}, {"k": "x" * 64}, {f"k{i}": "v" for i in range(21)}])
def test_bad_tags(tags: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as err:
        ResourceSpec(kind="bucket", name="b", tags=tags)
    assert err.value.errors()[0]["loc"] == ("tags",)


def test_parse_tags_from_modal_text() -> None:
    assert parse_tags("env=dev, team=payments") == {"env": "dev", "team": "payments"}
    with pytest.raises(InvalidInput, match="key=value"):
        parse_tags("env")


def test_ports_and_sizes_in_range() -> None:
    with pytest.raises(ValidationError, match="1-65535"):
        FirewallRule(ports=[70000])
    with pytest.raises(ValidationError, match="number or a range"):
        FirewallRule(ports=["ssh"])
    with pytest.raises(ValidationError):
        ResourceSpec(kind="vm", name="v", machine_type="e2-small", disk_gb=5)


def test_description_rejects_control_characters_but_keeps_unicode() -> None:
    assert ResourceSpec(kind="bucket", name="b", description='quotes " and ${x} and ünïcödé').description
    with pytest.raises(ValidationError, match="control"):
        ResourceSpec(kind="bucket", name="b", description="a\x00b")


async def test_project_input_errors_name_the_field(engine) -> None:
    with pytest.raises(InvalidInput) as err:
        await engine.create_project(GUILD, USER, name="ok", provider="oracle", region="x")
    assert err.value.field == "provider"
    with pytest.raises(InvalidInput) as err:
        await engine.create_project(GUILD, USER, name="ok", provider="gcp", region="us-east-1")
    assert err.value.field == "region" and "us-central1" in err.value.rule
    with pytest.raises(InvalidInput) as err:
        await engine.create_project(GUILD, USER, name="Bad!", provider="gcp", region="us-central1")
    assert err.value.field == "name"
    await engine.create_project(GUILD, USER, name="ok", provider="gcp", region="us-central1")
    with pytest.raises(InvalidInput, match="already exists"):
        await engine.create_project(GUILD, USER, name="ok", provider="gcp", region="us-central1")
    with pytest.raises(InvalidInput, match="bucket"):
        await engine.create_project(GUILD, USER, name="rs", provider="aws", region="us-east-1", backend={"type": "s3"})


async def test_empty_session_cannot_be_validated(engine) -> None:
    project = await engine.create_project(GUILD, USER, name="empty", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    with pytest.raises(InvalidInput, match="no resource changes"):
        await engine.validate(session.id, USER)
