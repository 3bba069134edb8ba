"""Pre-plan checks that an audit found too lenient: world-open SSH, policy params, subnets, text, tags."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from cloud_engine.core import FirewallRule, PolicySpec, ResourceSpec
from cloud_engine.core.models import Subnet
from cloud_engine.core.validation import description, parse_tags, world_open
from cloud_engine.errors import InvalidInput
from cloud_engine.iac import render
from tests.conftest import ADMIN, GUILD, USER


@pytest.mark.parametrize("sources", [["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["::/1", "8000::/1"],
                                     ["1.0.0.0/8"]])
def test_public_space_of_a_slash_8_or_more_is_the_world(sources: list[str]) -> None:
    assert world_open(sources)


@pytest.mark.parametrize("sources", [["10.0.0.0/8"], ["203.0.113.0/24"], ["192.168.0.0/16", "198.51.100.7/32"]])
def test_private_or_narrow_sources_are_not_the_world(sources: list[str]) -> None:
    assert not world_open(sources)


def test_two_halves_of_the_internet_on_ssh_are_refused_like_0_0_0_0() -> None:
    fw = ResourceSpec(kind="firewall", name="halves", rules=[
        FirewallRule(ports=[22], sources=["0.0.0.0/1", "128.0.0.0/1"])])
    with pytest.raises(InvalidInput):
        render("gcp", [fw], project_name="p")


async def test_region_policies_match_whatever_the_case(engine) -> None:
    project = await engine.create_project(GUILD, USER, name="regions", provider="gcp", region="us-east1")
    await engine.add_policy(GUILD, ADMIN, PolicySpec(name="no-us-east", type="region",
                                                     params={"denied": ["US-EAST1"]}))
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name="logs", region="us-east1"))
    result = await engine.validate(session.id, USER)
    assert not result.ok and "denied" in result.violations[0].message


@pytest.mark.parametrize("params", [{"check": "world_ingress", "ports": "8080"},
                                    {"check": "world_ingress", "ports": ["80-x"]}])
def test_world_ingress_ports_must_be_a_list_of_ports(params: dict) -> None:
    with pytest.raises(ValidationError, match="ports"):
        PolicySpec(name="wi", type="security", params=params)


@pytest.mark.parametrize("cap", [math.nan, math.inf, -1])
def test_a_cost_cap_must_be_a_finite_non_negative_number(cap: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        PolicySpec(name="cap", type="cost", params={"max_monthly_usd": cap})


def test_subnet_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        ResourceSpec(kind="network", name="n1", cidr="10.1.0.0/16",
                     subnets=[Subnet(name="app", cidr="10.1.0.0/24"), Subnet(name="app", cidr="10.1.1.0/24")])


@pytest.mark.parametrize("cidr", ["127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"])
def test_networks_are_private_address_space(cidr: str) -> None:
    with pytest.raises((ValidationError, InvalidInput)):
        ResourceSpec(kind="network", name="n1", cidr=cidr)


@pytest.mark.parametrize("text", ["fix typo\u2028approved-by: admin", "safe\u200b\u202etxt.exe", "a\u2029b"])
def test_free_text_refuses_invisible_and_reordering_characters(text: str) -> None:
    with pytest.raises((ValueError, InvalidInput)):
        description(text)


def test_tags_refuse_duplicates_and_the_engines_own_labels() -> None:
    with pytest.raises(InvalidInput, match="env"):
        parse_tags("env=dev, env=prod")
    with pytest.raises((ValidationError, InvalidInput), match="managed_by"):
        ResourceSpec(kind="bucket", name="logs", tags={"managed_by": "someone"})
