"""The resource dialog for a load balancer: straight from the kind to a five-input form, and back for edits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot import forms
from bot.resource_wizard import ResourceModal, StepView, start_add
from cloud_engine.core import ResourceSpec
from cloud_engine.core.models import invalid_input
from tests.conftest import GUILD, USER
from tests.fakes.discord import make_interaction, make_member

LB = ResourceSpec(kind="load_balancer", name="web-lb", backend="web-1", domain="shop.example.com", port=8080)


def test_the_form_fits_a_discord_modal() -> None:
    fields = forms.FORMS["load_balancer"]
    assert len(fields) <= 5 and all(len(f.label) <= 45 for f in fields)
    assert [f.key for f in fields if f.required] == ["name", "backend", "domain"]


def test_forms_round_trip_a_load_balancer_and_an_edit_changes_only_the_domain() -> None:
    choices, values = forms.from_spec(LB)
    assert forms.to_spec("load_balancer", choices, values) == LB
    edited = forms.apply_edit(LB, choices, {**values, "domain": "WWW.example.com"})
    assert (edited.domain, edited.backend, edited.port) == ("www.example.com", "web-1", 8080)


def test_a_form_without_a_backend_names_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        forms.to_spec("load_balancer", {}, {"name": "web-lb", "domain": "shop.example.com"})
    assert invalid_input(err.value).data["field"] == "backend"


async def test_choosing_load_balancer_opens_its_form_and_submitting_adds_it(bot, engine) -> None:
    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1")
    session = await engine.start_session(project.id, USER)
    press = make_interaction(bot, make_member(USER))
    await start_add(bot, press, session)
    view: StepView = press.response.calls[0][1]["view"]
    pick = make_interaction(bot, make_member(USER))
    view.select._values = ["load_balancer"]
    await view._chosen(pick)
    name, kwargs = pick.response.calls[0]
    modal: ResourceModal = kwargs["modal"]
    assert name == "send_modal" and modal.title == "Add load balancer"
    for key, item in modal.inputs.items():
        item._value = {"name": "web-lb", "backend": "web-1", "domain": "shop.example.com", "port": "", "cdn": ""}[key]
    submit = make_interaction(bot, make_member(USER))
    await modal.on_submit(submit)
    assert "Added `load_balancer/web-lb`" in submit.followup.text
    [res] = (await engine.get_session(session.id)).resources
    assert (res.spec.backend, res.spec.domain, res.spec.port, res.spec.cdn) == ("web-1", "shop.example.com", 80, False)
    assert res.cost_monthly > 0
