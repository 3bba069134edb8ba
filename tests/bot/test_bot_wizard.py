"""The add/edit-resource dialog: typed values survive a failed submit; forms round-trip specs."""

from __future__ import annotations

import pytest

from bot import forms
from bot.resource_wizard import Draft, ReopenView, ResourceModal, StepView, page_of, start_add
from cloud_engine.core import ResourceSpec
from cloud_engine.errors import InvalidInput
from tests.conftest import GUILD, USER
from tests.fakes.discord import make_interaction, make_member


async def _session(engine):
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    return project, await engine.start_session(project.id, USER)


def _fill(modal: ResourceModal, **values: str) -> None:
    for key, item in modal.inputs.items():
        item._value = values.get(key, "")


async def test_modal_error_keeps_typed_values_and_offers_reopen(bot, engine) -> None:
    project, session = await _session(engine)
    draft = bot.drafts.put(Draft(user_id=USER, project_id=project.id, provider="sandbox", session_id=session.id,
                                 kind="vm", choices={"region": "us-central1", "machine_type": "e2-small"}))
    modal = ResourceModal(bot, draft)
    _fill(modal, name="Web_1!", disk_gb="40", tags="env=dev")
    submit = make_interaction(bot, make_member(USER))
    await modal.on_submit(submit)
    sent = submit.followup.sent[0]
    assert "name" in sent["content"].lower() and sent["ephemeral"] is True
    assert isinstance(sent["view"], ReopenView)
    reopened = ResourceModal(bot, sent["view"].draft)
    assert reopened.inputs["name"].default == "Web_1!" and reopened.inputs["disk_gb"].default == "40"
    assert (await engine.get_session(session.id)).resources == []

    _fill(reopened, name="web-1", disk_gb="40", tags="env=dev")
    retry = make_interaction(bot, make_member(USER))
    await reopened.on_submit(retry)
    assert "Added `vm/web-1`" in retry.followup.text
    [res] = (await engine.get_session(session.id)).resources
    assert res.spec.disk_gb == 40 and res.spec.tags == {"env": "dev"} and res.spec.machine_type == "e2-small"
    assert bot.drafts.get(draft.key) is None, "a successful submit forgets the draft"


async def test_add_flow_walks_kind_then_catalogue_selects_then_modal(bot, engine) -> None:
    _, session = await _session(engine)
    press = make_interaction(bot, make_member(USER))
    await start_add(bot, press, session)
    view: StepView = press.response.calls[0][1]["view"]
    assert [o.value for o in view.select.options] == ["vm", "database", "network", "bucket", "firewall", "k8s_cluster"]
    for step_value in ("database", "us-central1"):
        pick = make_interaction(bot, make_member(USER))
        view.select._values = [step_value]
        await view._chosen(pick)
        view = pick.response.calls[0][1]["view"]
    assert view.step == "tier" and all("/mo" in o.label for o in view.select.options)
    last = make_interaction(bot, make_member(USER))
    view.select._values = [view.select.options[0].value]
    await view._chosen(last)
    name, kwargs = last.response.calls[0]
    assert name == "send_modal" and kwargs["modal"].title == "Add database"


def test_paging_keeps_every_option_reachable_under_25() -> None:
    options = [(f"r{i}", f"region {i}") for i in range(60)]
    seen, page = [], 0
    while True:
        chunk, _, has_next = page_of(options, page)
        assert len(chunk) <= 25
        seen += [o.value for o in chunk if not o.value.startswith("__")]
        if not has_next:
            break
        page += 1
    assert seen == [v for v, _ in options]


@pytest.mark.parametrize("spec", [
    ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", region="us-central1", disk_gb=30, tags={"a": "b"}),
    ResourceSpec(kind="network", name="main", cidr="10.20.0.0/16", subnets=[{"name": "app", "cidr": "10.20.1.0/24"}]),
    ResourceSpec(kind="firewall", name="web-in", network="main", rules=[{"ports": [443, "8000-8080"]}]),
    ResourceSpec(kind="bucket", name="assets", storage_class="NEARLINE", versioning=False),
])
def test_forms_round_trip_a_spec_for_editing(spec: ResourceSpec) -> None:
    choices, values = forms.from_spec(spec)
    assert forms.to_spec(spec.kind, choices, values) == spec


def test_bad_yes_no_names_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        forms.to_spec("vm", {}, {"name": "a", "public_ip": "maybe"})
    assert err.value.field == "public IP"
