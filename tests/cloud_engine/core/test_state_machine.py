"""The transition table: every allowed move works, every other one is refused and changes nothing."""

from __future__ import annotations

import itertools

import pytest

from cloud_engine.core.models import State
from cloud_engine.core.state_machine import TRANSITIONS, Event, allowed_events, next_state
from cloud_engine.errors import IllegalTransition
from tests.conftest import GUILD, USER

EXPECTED = {
    (State.DRAFT, Event.VALIDATE): State.VALIDATING,
    (State.VALIDATING, Event.VALIDATION_PASSED): State.PLANNING,
    (State.VALIDATING, Event.VALIDATION_FAILED): State.DRAFT,
    (State.PLANNING, Event.PLAN_SUCCEEDED): State.PLAN_READY,
    (State.PLANNING, Event.PLAN_FAILED): State.FAILED,
    (State.PLANNING, Event.PLAN_REFUSED): State.DRAFT,
    (State.PLAN_READY, Event.EDIT): State.DRAFT,
    (State.PLAN_READY, Event.APPROVE): State.APPROVED,
    (State.PLAN_READY, Event.REJECT): State.DRAFT,
    (State.APPROVED, Event.APPLY): State.APPLYING,
    (State.APPLYING, Event.APPLY_SUCCEEDED): State.APPLIED,
    (State.APPLYING, Event.APPLY_FAILED): State.FAILED,
}


def test_table_is_exactly_the_designed_machine() -> None:
    cancellable = {State.DRAFT, State.VALIDATING, State.PLANNING, State.PLAN_READY, State.APPROVED}
    expected = dict(EXPECTED)
    for state in cancellable:
        expected[(state, Event.CANCEL)] = State.CANCELLED
        expected[(state, Event.EXPIRE)] = State.EXPIRED
    assert expected == TRANSITIONS


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_pair_is_allowed_or_refused(state: State, event: Event) -> None:
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition) as err:
            next_state(state, event)
        assert err.value.state == state.value and err.value.event == event.value


def test_final_states_allow_nothing() -> None:
    for state in (State.APPLIED, State.FAILED, State.CANCELLED, State.EXPIRED):
        assert allowed_events(state) == []
    assert Event.CANCEL not in allowed_events(State.APPLYING), "a running apply is stopped through the runner"


async def _validated_session(engine, **spec_kw):
    from cloud_engine.core import ResourceSpec

    project = await engine.create_project(GUILD, USER, name="web", provider="sandbox", region="us-central1",
                                          budget_monthly=500)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", **spec_kw))
    return project, session


async def test_refused_transition_changes_nothing_and_audits_nothing(engine) -> None:
    _, session = await _validated_session(engine)
    before = await engine.db.fetchone("SELECT COUNT(*) AS n FROM audit_log")
    with pytest.raises(IllegalTransition):
        await engine.approve(session.id, USER)  # DRAFT cannot be approved
    with pytest.raises(IllegalTransition):
        await engine.apply(session.id, USER)
    after = await engine.db.fetchone("SELECT COUNT(*) AS n FROM audit_log")
    assert (await engine.get_session(session.id)).state == State.DRAFT
    assert after["n"] == before["n"]


async def test_each_transition_writes_one_audit_row_and_one_event(engine) -> None:
    seen = []

    async def record(event):
        seen.append((event.event, event.from_state, event.to_state))

    engine.events.subscribe(record)
    _, session = await _validated_session(engine)
    await engine.validate(session.id, USER)
    await engine.cancel(session.id, USER)
    await engine.events.drain()
    rows = await engine.db.fetchall(
        "SELECT action, from_state, to_state FROM audit_log WHERE target_type = 'session' AND target_id = ? AND to_state"
        " IS NOT NULL ORDER BY id", (str(session.id),))
    assert [(r["from_state"], r["to_state"]) for r in rows] == [
        (None, "DRAFT"), ("DRAFT", "VALIDATING"), ("VALIDATING", "PLANNING"), ("PLANNING", "CANCELLED")]
    transitions = [s for s in seen if s[1] is not None]
    assert [(f, t) for _, f, t in transitions] == [("DRAFT", "VALIDATING"), ("VALIDATING", "PLANNING"),
                                                    ("PLANNING", "CANCELLED")]


async def test_validation_with_violations_returns_to_draft(engine) -> None:
    from cloud_engine.core import ResourceSpec

    project = await engine.create_project(GUILD, USER, name="tiny", provider="aws", region="us-east-1", budget_monthly=5)
    session = await engine.start_session(project.id, USER)
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="api", machine_type="m5.large"))
    result = await engine.validate(session.id, USER)
    assert not result.ok
    assert any(v.policy == "project-budget" for v in result.violations)
    stored = await engine.get_session(session.id)
    assert stored.state == State.DRAFT
    assert stored.reservations == {}
    assert "over its budget" in stored.violations[0]["message"]
