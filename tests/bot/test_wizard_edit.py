"""/cloud-edit patches the stored spec: only what the user changed in the dialog changes.

Each resource kind goes through the real dialog (select steps kept, modal pre-filled, one
field changed, submitted to the engine), and the spec the session holds must equal the
original with exactly that change. Fields the dialog never shows (a database's network and
backups, a VM's zone, a firewall's other rules and rule directions) must survive.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from pydantic import ValidationError

from bot import forms
from bot.resource_wizard import ReopenView, ResourceModal, StepView, start_edit
from cloud_engine.core import ResourceSpec, State
from cloud_engine.core.models import FirewallRule
from tests.conftest import ADMIN, GUILD
from tests.fakes.discord import http_error, make_interaction, make_member

FIREWALL = ResourceSpec(kind="firewall", name="edge", network="main", description="edge rules", tags={"env": "prod"},
                        rules=[FirewallRule(direction="egress", protocol="udp", ports=[53], sources=["10.0.0.0/8"],
                                            action="deny"),
                               FirewallRule(ports=[443, "8000-8080"], sources=["10.1.0.0/16"]),
                               FirewallRule(protocol="icmp", sources=["192.168.0.0/16"])])
LONG_TAGS = {f"key-number-{i:02d}": "v" * 40 for i in range(20)}  # 1118 characters as text: over the 1000 limit

CASES: list[tuple[ResourceSpec, dict[str, str], dict[str, str], dict[str, Any]]] = [
    (ResourceSpec(kind="vm", name="web-1", region="us-central1", machine_type="e2-small", disk_gb=30,
                  image="ubuntu-2204-lts", network="main", zone="us-central1-a", public_ip=True, encrypted=False,
                  description="front end", tags={"env": "prod", "team": "web"}),
     {}, {"disk_gb": "50"}, {"disk_gb": 50}),
    (ResourceSpec(kind="vm", name="web-2", region="us-central1", machine_type="e2-small", image="debian-12",
                  network="main", zone="us-central1-a"),
     {"machine_type": "e2-medium"}, {}, {"machine_type": "e2-medium"}),
    (ResourceSpec(kind="database", name="orders-db", region="us-central1", tier="db-custom-2-7680", engine="postgres",
                  storage_gb=20, deletion_protection=True, backup_retention_days=14, network="main",
                  engine_version="15", description="prod orders", high_availability=True, tags={"env": "prod"}),
     {}, {"storage_gb": "40"}, {"storage_gb": 40}),
    (ResourceSpec(kind="network", name="main", region="us-central1", cidr="10.20.0.0/16", description="core",
                  tags={"env": "prod"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"},
                                                 {"name": "data", "cidr": "10.20.2.0/24"}]),
     {}, {"subnets": "app=10.20.1.0/24, data=10.20.2.0/24, ops=10.20.3.0/24"},
     {"subnets": [{"name": "app", "cidr": "10.20.1.0/24"}, {"name": "data", "cidr": "10.20.2.0/24"},
                  {"name": "ops", "cidr": "10.20.3.0/24"}]}),
    (ResourceSpec(kind="bucket", name="assets", region="us-central1", storage_class="NEARLINE", storage_gb=200,
                  versioning=True, public_access=True, retention_days=30, description="site assets",
                  tags={"env": "prod"}),
     {}, {"versioning": "no"}, {"versioning": False}),
    (FIREWALL.model_copy(update={"region": "us-central1"}), {}, {"ports": "53, 5353"},
     {"rules": [FirewallRule(direction="egress", protocol="udp", ports=[53, 5353], sources=["10.0.0.0/8"],
                             action="deny"), *FIREWALL.rules[1:]]}),
    (ResourceSpec(kind="k8s_cluster", name="apps", region="us-central1", machine_type="e2-standard-2", node_count=3,
                  kubernetes_version="1.30", private_nodes=False, network="main", description="apps",
                  tags={"env": "prod"}),
     {}, {"node_count": "5"}, {"node_count": 5}),
]


async def _open_edit(bot: Any, channel: Any, spec: ResourceSpec, choices: dict[str, str]) -> ResourceModal:
    """/cloud-edit's dialog up to its modal: keep every select step, or pick `choices[step]`."""
    project = await bot.engine.create_project(GUILD, ADMIN, name="shop", provider="sandbox", region="us-central1")
    start = make_interaction(bot, make_member(ADMIN), channel=channel)
    await start_edit(bot, start, project, spec)
    name, shown = start.response.calls[0]
    while name != "send_modal":
        view: StepView = shown["view"]
        press = make_interaction(bot, make_member(ADMIN), channel=channel)
        if view.step in choices:
            view.select._values = [choices[view.step]]
            await view._chosen(press)
        else:
            await next(i for i in view.children if isinstance(i, discord.ui.Button)).callback(press)
        name, shown = press.response.calls[0]
    return shown["modal"]


def _type(modal: ResourceModal, changes: dict[str, str]) -> None:
    """What Discord sends back: the pre-filled text for untouched inputs, the new text for the others."""
    for key, item in modal.inputs.items():
        item._value = changes.get(key, item.default or "")


async def _submit(bot: Any, channel: Any, modal: ResourceModal) -> Any:
    interaction = make_interaction(bot, make_member(ADMIN), channel=channel)
    await modal.on_submit(interaction)
    return interaction


async def _stored(bot: Any, spec: ResourceSpec) -> ResourceSpec:
    [session] = await bot.engine.list_sessions(GUILD, user_id=ADMIN)
    return next(r.spec for r in (await bot.engine.get_session(session.id)).resources if r.name == spec.name)


@pytest.mark.parametrize(("spec", "choices", "typed", "changed"), CASES,
                         ids=["vm-disk", "vm-machine-type", "database", "network-subnets", "bucket",
                              "firewall-rules", "k8s_cluster"])
async def test_edit_changes_only_the_field_the_user_changed(bot, channel, spec, choices, typed, changed) -> None:
    modal = await _open_edit(bot, channel, spec, choices)
    for field in forms.FORMS[spec.kind]:
        if field.key == "name":  # an edit never renames (test_an_edit_cannot_rename_the_resource)
            continue
        assert field.key in modal.inputs, f"{field.key} fits its input, so it is offered"
        assert len(modal.inputs[field.key].default or "") <= modal.inputs[field.key].max_length
    _type(modal, typed)
    reply = await _submit(bot, channel, modal)
    assert f"Updated `{spec.kind}/{spec.name}`" in reply.followup.text, reply.followup.text
    stored = await _stored(bot, spec)
    expected = ResourceSpec.model_validate({**spec.model_dump(), **changed})
    assert stored.model_dump() == expected.model_dump()
    untouched = set(ResourceSpec.model_fields) - set(changed)
    assert {k: getattr(stored, k) for k in untouched} == {k: getattr(spec, k) for k in untouched}


async def test_tags_too_long_to_prefill_are_not_offered_and_are_kept(bot, channel) -> None:
    spec = ResourceSpec(kind="bucket", name="logs", region="us-central1", storage_class="STANDARD", tags=LONG_TAGS)
    assert len(", ".join(f"{k}={v}" for k, v in LONG_TAGS.items())) > 1000
    modal = await _open_edit(bot, channel, spec, {})
    assert "tags" not in modal.inputs and "tags kept" in modal.title and len(modal.title) <= 45
    assert all(len(i.default or "") <= i.max_length for i in modal.inputs.values())
    _type(modal, {"storage_gb": "80"})
    await _submit(bot, channel, modal)
    stored = await _stored(bot, spec)
    assert stored.tags == LONG_TAGS and stored.storage_gb == 80


async def test_a_failed_edit_can_be_retried_and_still_keeps_hidden_fields(bot, channel) -> None:
    spec = CASES[2][0]  # the database: network, engine version, backups and description are not in the modal
    modal = await _open_edit(bot, channel, spec, {})
    _type(modal, {"storage_gb": "0"})
    failed = await _submit(bot, channel, modal)
    sent = failed.followup.sent[0]
    assert "storage" in sent["content"].lower() and isinstance(sent["view"], ReopenView)
    again = make_interaction(bot, make_member(ADMIN), channel=channel)
    await sent["view"].reopen.callback(again)
    reopened: ResourceModal = again.response.calls[0][1]["modal"]
    assert reopened.inputs["storage_gb"].default == "0", "what the user typed is offered again"
    _type(reopened, {"storage_gb": "40"})
    await _submit(bot, channel, reopened)
    stored = await _stored(bot, spec)
    assert stored.model_dump() == spec.model_copy(update={"storage_gb": 40}).model_dump()


def test_untouched_form_returns_the_spec_unchanged_for_every_kind() -> None:
    for spec, *_ in CASES:
        choices, values = forms.from_spec(spec)
        assert forms.apply_edit(spec, choices, values) == spec


def test_firewall_edit_changes_the_shown_rule_in_place() -> None:
    choices, values = forms.from_spec(FIREWALL)
    edited = forms.apply_edit(FIREWALL, choices, {**values, "sources": "10.2.0.0/16"})
    first = FIREWALL.rules[0]
    assert edited.rules[0] == first.model_copy(update={"sources": ["10.2.0.0/16"]})
    assert edited.rules[1:] == FIREWALL.rules[1:]
    removed = forms.apply_edit(FIREWALL, choices, {**values, "ports": ""})
    assert removed.rules == FIREWALL.rules[1:], "clearing the shown rule's ports removes that rule only"
    fields, withheld = forms.edit_fields(FIREWALL)
    labels = {f.key: f.label for f in fields}
    assert "rule 1 of 3" in labels["ports"] and len(labels["ports"]) <= 45 and withheld == ()


def test_firewall_without_rules_gets_one_from_typed_ports() -> None:
    spec = ResourceSpec(kind="firewall", name="fw", network="main")
    choices, values = forms.from_spec(spec)
    edited = forms.apply_edit(spec, choices, {**values, "ports": "22", "sources": "10.9.0.0/16"})
    assert edited.rules == [FirewallRule(ports=[22], sources=["10.9.0.0/16"])] and edited.network == "main"


def test_edit_validation_errors_still_surface() -> None:
    spec = CASES[0][0]
    choices, values = forms.from_spec(spec)
    with pytest.raises(ValidationError):
        forms.apply_edit(spec, choices, {**values, "disk_gb": "5"})


def test_withheld_values_are_never_prefilled() -> None:
    spec = ResourceSpec(kind="bucket", name="logs", tags=LONG_TAGS)
    _, values = forms.from_spec(spec)
    fields, withheld = forms.edit_fields(spec)
    assert "tags" not in values and [f.key for f in withheld] == ["tags"] and "tags" not in {f.key for f in fields}
    edited = forms.apply_edit(spec, {}, {**values, "tags": "env=dev"})  # not offered, so not applied
    assert edited.tags == LONG_TAGS


async def test_an_edit_where_the_bot_may_not_post_its_lobby_says_so_and_cancels(bot, channel) -> None:
    spec = CASES[4][0]  # the bucket
    modal = await _open_edit(bot, channel, spec, {})
    _type(modal, {"storage_gb": "300"})
    channel.fail_with = http_error(403, "Missing Permissions")  # Discord refuses the new session's lobby
    interaction = await _submit(bot, channel, modal)
    assert "Create Public Threads" in interaction.followup.text and "went wrong" not in interaction.followup.text
    [session] = await bot.engine.list_sessions(GUILD, user_id=ADMIN)
    assert session.state == State.CANCELLED and session.resources == []


async def test_an_edit_cannot_rename_the_resource(bot, channel) -> None:
    """A new name would add a second resource beside the edited one; the form does not offer it."""
    spec = CASES[4][0]
    modal = await _open_edit(bot, channel, spec, {})
    assert "name" not in modal.inputs
    _type(modal, {"storage_gb": "300"})
    await _submit(bot, channel, modal)
    assert (await _stored(bot, spec)).name == spec.name
    assert forms.apply_edit(spec, {}, {"name": "other", "storage_gb": "300"}).name == spec.name
