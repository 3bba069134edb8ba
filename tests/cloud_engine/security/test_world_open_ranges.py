"""Any set of sources that covers a whole address family is the world, IPv4-mapped IPv6 included."""

from __future__ import annotations

import pytest

from cloud_engine.core import CloudOrchestrator, FirewallRule, ResourceSpec
from cloud_engine.core.validation import world_open
from cloud_engine.errors import InvalidInput
from cloud_engine.iac import render
from tests.conftest import GUILD, USER


@pytest.mark.parametrize("sources", [
    ["::ffff:0:0/96"],  # every IPv4 address, written as IPv6 (Python calls it private)
    ["::ffff:0:0/97", "::ffff:128.0.0.0/97"],
    ["::/64"],  # holds ::ffff:0:0/96
    ["::/0"], ["::/1", "8000::/1"], ["0.0.0.0/0"],
    ["10.0.0.0/8", "0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2",
     "128.0.0.0/1"],  # the whole IPv4 space, one piece of it private
])
def test_sources_covering_a_whole_family_are_the_world(sources: list[str]) -> None:
    assert world_open(sources)


@pytest.mark.parametrize("sources", [["::ffff:10.0.0.0/104"], ["::ffff:203.0.113.0/120"], ["fc00::/7"],
                                     ["2001:db8::/48", "10.0.0.0/8"]])
def test_narrow_or_private_ipv6_sources_are_not_the_world(sources: list[str]) -> None:
    assert not world_open(sources)


def _ssh_from(source: str) -> ResourceSpec:
    return ResourceSpec(kind="firewall", name="ssh", rules=[FirewallRule(ports=[22], sources=[source])])


async def test_ssh_from_every_ipv4_mapped_address_is_refused_by_the_builtin_guard(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, USER, name="mapped", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, _ssh_from("::ffff:0:0/96"))
    result = await engine.validate(session.id, USER)
    assert not result.ok
    assert [v.policy for v in result.violations] == ["builtin:no-world-admin-ingress"]


def test_the_renderer_refuses_ssh_from_every_ipv4_mapped_address() -> None:
    with pytest.raises(InvalidInput, match="SSH"):
        render("gcp", [_ssh_from("::ffff:0:0/96")], project_name="p1")
