"""The add/edit-resource dialog: typed values survive a failed submit; forms round-trip specs."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot import forms
from bot.resource_wizard import (
    Draft,
    RemoveView,
    ReopenView,
    ResourceModal,
    StepView,
    page_of,
    start_add,
    start_remove,
)
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
    assert [o.value for o in view.select.options] == ["vm", "database", "network", "bucket", "firewall", "k8s_cluster",
                                                     "load_balancer"]
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


def _all_disabled(view: discord.ui.View) -> bool:
    return bool(view.children) and all(getattr(item, "disabled", False) for item in view.children)


async def test_remove_pages_forward_to_the_30th_resource_and_removes_it(bot, engine) -> None:
    _, session = await _session(engine)
    for i in range(30):
        await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name=f"b{i:02d}"))
    press = make_interaction(bot, make_member(USER))
    await start_remove(bot, press, await engine.get_session(session.id))
    view: RemoveView = press.response.calls[0][1]["view"]
    assert "bucket/b29" not in [o.value for o in view.select.options] and len(view.select.options) <= 25
    page = make_interaction(bot, make_member(USER))
    view.select._values = ["__next__"]
    await view._chosen(page)
    name, kwargs = page.response.calls[0]
    assert name == "edit_message" and "page 2 of 2" in kwargs["content"] and view.is_finished()
    second: RemoveView = kwargs["view"]
    back = make_interaction(bot, make_member(USER))
    second.select._values = ["__prev__"]
    await second._chosen(back)
    assert "bucket/b00" in [o.value for o in back.response.calls[0][1]["view"].select.options]
    pick = make_interaction(bot, make_member(USER))
    second.select._values = ["bucket/b29"]
    await second._chosen(pick)
    assert "Removed `bucket/b29`" in pick.edit_original_response.await_args.kwargs["content"]
    names = [r.name for r in (await engine.get_session(session.id)).resources]
    assert len(names) == 29 and "b29" not in names


async def _expire(view: Any) -> None:
    """What discord.py does when the view's timeout passes."""
    await view.on_timeout()


async def test_step_view_greys_out_in_its_message_when_it_expires(bot, engine) -> None:
    _, session = await _session(engine)
    press = make_interaction(bot, make_member(USER))
    await start_add(bot, press, session)
    view: StepView = press.response.calls[0][1]["view"]
    await _expire(view)
    edit = press.edit_original_response.await_args.kwargs
    assert edit["view"] is view and _all_disabled(view) and view.prompt() in edit["content"]


async def test_a_replaced_step_stops_and_the_next_one_expires_in_the_same_message(bot, engine) -> None:
    _, session = await _session(engine)
    press = make_interaction(bot, make_member(USER))
    await start_add(bot, press, session)
    first: StepView = press.response.calls[0][1]["view"]
    pick = make_interaction(bot, make_member(USER))
    first.select._values = ["vm"]
    await first._chosen(pick)
    assert first.is_finished(), "a stopped view never repaints the message with a stale step"
    region: StepView = pick.response.calls[0][1]["view"]
    await _expire(region)
    assert pick.edit_original_response.await_args.kwargs["view"] is region and _all_disabled(region)


async def test_remove_view_greys_out_when_it_expires(bot, engine) -> None:
    _, session = await _session(engine)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="bucket", name="bkt1"))
    press = make_interaction(bot, make_member(USER))
    await start_remove(bot, press, await engine.get_session(session.id))
    view: RemoveView = press.response.calls[0][1]["view"]
    await _expire(view)
    edit = press.edit_original_response.await_args.kwargs
    assert edit["view"] is view and _all_disabled(view) and "Which resource?" in edit["content"]


async def test_remove_with_nothing_to_remove_says_so(bot, engine) -> None:
    _, session = await _session(engine)
    press = make_interaction(bot, make_member(USER))
    await start_remove(bot, press, session)
    assert press.response.calls[0][1]["content"] == "Nothing to remove yet." and "view" not in press.response.calls[0][1]


async def test_reopen_view_greys_out_its_followup_when_it_expires(bot, engine) -> None:
    project, session = await _session(engine)
    draft = bot.drafts.put(Draft(user_id=USER, project_id=project.id, provider="sandbox", session_id=session.id,
                                 kind="vm", choices={"region": "us-central1", "machine_type": "e2-small"}))
    modal = ResourceModal(bot, draft)
    _fill(modal, name="Bad_Name")
    submit = make_interaction(bot, make_member(USER))
    await modal.on_submit(submit)
    [message] = submit.followup.messages
    view: ReopenView = message.view
    await _expire(view)
    assert message.edits and message.edits[-1]["view"] is view and _all_disabled(view)
    assert "Edit again" in message.content
