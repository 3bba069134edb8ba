"""The add/edit-resource dialog: kind → catalogue selects (paged) → a modal, plus the remove picker.

Why drafts: a modal that fails validation closes, and Discord cannot reopen it by itself.
Each user's typed values are kept per session (small, in memory, oldest evicted), so the
error message offers "Edit again" with everything pre-filled. Nothing here decides
anything: the engine validates and refuses; this module only collects input.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import discord
from pydantic import ValidationError

from bot import forms
from bot.errors import describe, report
from bot.limits import LABEL, MODAL_TITLE, SELECT_OPTIONS, TEXT_INPUT, truncate
from bot.lobby import post_lobby
from cloud_engine.core.models import Project, ResourceSpec, Session
from cloud_engine.errors import EngineError

__all__ = ["Draft", "DraftStore", "RemoveView", "ResourceModal", "StepView", "page_of", "start_add", "start_edit"]

log = logging.getLogger(__name__)
VIEW_TIMEOUT_S = 10 * 60  # under the 15-minute interaction token life
_PAGE = SELECT_OPTIONS - 2  # room for "previous page" / "next page" entries
_PREV, _NEXT = "__prev__", "__next__"


@dataclass
class Draft:
    """One user's in-progress resource for one session (or a project, before /cloud-edit opens a session)."""

    user_id: int
    project_id: int
    provider: str
    session_id: int | None = None
    kind: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    editing: str | None = None  # "kind/name" when editing an applied resource

    @property
    def key(self) -> tuple[int, str]:
        return (self.user_id, f"s{self.session_id}" if self.session_id else f"p{self.project_id}")

    def steps(self) -> tuple[str, ...]:
        return ("kind",) if self.kind is None else ("kind", *forms.CHOICE_STEPS[self.kind])


class DraftStore:
    """Bounded in-memory drafts keyed by (user, session): a restart forgets them, which is harmless."""

    def __init__(self, capacity: int = 500) -> None:
        self._items: OrderedDict[tuple[int, str], Draft] = OrderedDict()
        self.capacity = capacity

    def put(self, draft: Draft) -> Draft:
        self._items[draft.key] = draft
        self._items.move_to_end(draft.key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return draft

    def get(self, key: tuple[int, str]) -> Draft | None:
        return self._items.get(key)

    def drop(self, draft: Draft) -> None:
        self._items.pop(draft.key, None)


def page_of(options: list[tuple[str, str]], page: int) -> tuple[list[discord.SelectOption], bool, bool]:
    """One page of at most 25 select options, with previous/next entries when there are more."""
    start = page * _PAGE
    chunk = options[start:start + _PAGE]
    out = [discord.SelectOption(label=truncate(label, LABEL), value=value[:LABEL]) for value, label in chunk]
    has_prev, has_next = page > 0, start + _PAGE < len(options)
    if has_prev:
        out.insert(0, discord.SelectOption(label="◀ previous page", value=_PREV))
    if has_next:
        out.append(discord.SelectOption(label="next page ▶", value=_NEXT))
    return out, has_prev, has_next


class StepView(discord.ui.View):
    """One select step of the dialog; choosing advances to the next step or opens the modal."""

    def __init__(self, bot: Any, draft: Draft, step: str, page: int = 0) -> None:
        super().__init__(timeout=VIEW_TIMEOUT_S)
        self.bot, self.draft, self.step, self.page = bot, draft, step, page
        options = forms.step_options(bot.engine.catalog, draft.provider, step)
        current = draft.kind if step == "kind" else draft.choices.get(step)
        page_options, _, _ = page_of(options, page)
        for option in page_options:
            option.default = option.value == current
        self.select: discord.ui.Select[StepView] = discord.ui.Select(
            placeholder=f"Choose {step.replace('_', ' ')}", options=page_options, min_values=1, max_values=1)
        self.select.callback = self._chosen
        self.add_item(self.select)
        if current:
            keep = discord.ui.Button(label=truncate(f"Keep {current}", LABEL), style=discord.ButtonStyle.primary)
            keep.callback = self._keep
            self.add_item(keep)

    def prompt(self) -> str:
        return f"Step {self.draft.steps().index(self.step) + 1}: choose the **{self.step.replace('_', ' ')}**."

    async def _chosen(self, interaction: discord.Interaction) -> None:
        value = self.select.values[0]
        if value in (_PREV, _NEXT):
            page = self.page + (1 if value == _NEXT else -1)
            nxt = StepView(self.bot, self.draft, self.step, page)
            await interaction.response.edit_message(content=nxt.prompt(), view=nxt)
            return
        if self.step == "kind":
            if value != self.draft.kind:
                self.draft.choices, self.draft.values = {}, {}
            self.draft.kind = value
        else:
            self.draft.choices[self.step] = value
        await self._advance(interaction)

    async def _keep(self, interaction: discord.Interaction) -> None:
        await self._advance(interaction)

    async def _advance(self, interaction: discord.Interaction) -> None:
        steps = self.draft.steps()
        following = steps[steps.index(self.step) + 1:]
        if following:
            nxt = StepView(self.bot, self.draft, following[0])
            await interaction.response.edit_message(content=nxt.prompt(), view=nxt)
        else:
            await interaction.response.send_modal(ResourceModal(self.bot, self.draft))

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report(interaction, error, action="resource dialog")


class ResourceModal(discord.ui.Modal):
    """The typed part of a resource; what the user typed survives a failed submit (see Draft)."""

    def __init__(self, bot: Any, draft: Draft) -> None:
        assert draft.kind is not None
        verb = f"Edit {draft.editing}" if draft.editing else f"Add {draft.kind.replace('_', ' ')}"
        super().__init__(title=truncate(verb, MODAL_TITLE), timeout=VIEW_TIMEOUT_S)
        self.bot, self.draft = bot, draft
        self.inputs: dict[str, discord.ui.TextInput[ResourceModal]] = {}
        for spec in forms.FORMS[draft.kind]:
            text_input: discord.ui.TextInput[ResourceModal] = discord.ui.TextInput(
                label=truncate(spec.label, 45), placeholder=truncate(spec.placeholder, LABEL) or None,
                required=spec.required, max_length=min(spec.max_length, TEXT_INPUT),
                style=discord.TextStyle.paragraph if spec.long else discord.TextStyle.short,
                default=draft.values.get(spec.key) or None)
            self.inputs[spec.key] = text_input
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.draft.values = {key: str(item.value or "") for key, item in self.inputs.items()}
        self.bot.drafts.put(self.draft)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = await submit(self.bot, interaction, self.draft)
        except (ValidationError, EngineError) as exc:
            await interaction.followup.send(f"{describe(exc)}\nYour input is kept: press **Edit again**.",
                                            view=ReopenView(self.bot, self.draft), ephemeral=True)
            return
        await interaction.followup.send(text, ephemeral=True)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await report(interaction, error, action="resource modal")


async def submit(bot: Any, interaction: discord.Interaction, draft: Draft) -> str:
    """Validate the draft into a spec and hand it to the engine; opens a session first for /cloud-edit."""
    assert draft.kind is not None
    spec = forms.to_spec(draft.kind, draft.choices, draft.values)
    engine = bot.engine
    if draft.session_id is None:
        purpose = f"edit {draft.editing}" if draft.editing else "deploy"
        session = await engine.start_session(draft.project_id, interaction.user.id, purpose=purpose)
        await post_lobby(engine, interaction.channel, session)
        bot.drafts.drop(draft)
        draft.session_id = session.id
        bot.drafts.put(draft)  # a failed add below can be retried against this same session
    added = await engine.add_resource(draft.session_id, interaction.user.id, spec)
    bot.drafts.drop(draft)
    return (f"{'Updated' if draft.editing else 'Added'} `{added.kind}/{added.name}` "
            f"(~${added.cost_monthly:,.2f}/mo) to deployment #{draft.session_id}. Press **Plan** on the lobby to see "
            "exactly what Terraform would change.")


class ReopenView(discord.ui.View):
    def __init__(self, bot: Any, draft: Draft) -> None:
        super().__init__(timeout=VIEW_TIMEOUT_S)
        self.bot, self.draft = bot, draft

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary)
    async def reopen(self, interaction: discord.Interaction, _: discord.ui.Button[ReopenView]) -> None:
        await interaction.response.send_modal(ResourceModal(self.bot, self.draft))


class RemoveView(discord.ui.View):
    """Pick a resource to drop from the session or to destroy (applied resources need CloudAdmin)."""

    def __init__(self, bot: Any, session: Session, options: list[tuple[str, str]]) -> None:
        super().__init__(timeout=VIEW_TIMEOUT_S)
        self.bot, self.session = bot, session
        page, _, _ = page_of(options, 0)
        self.select: discord.ui.Select[RemoveView] = discord.ui.Select(placeholder="Resource to remove", options=page)
        self.select.callback = self._chosen
        self.add_item(self.select)

    async def _chosen(self, interaction: discord.Interaction) -> None:
        kind, _, name = self.select.values[0].partition("/")
        await interaction.response.defer()
        await self.bot.engine.remove_resource(self.session.id, interaction.user.id, kind, name)
        await interaction.edit_original_response(content=f"Removed `{kind}/{name}` from deployment #{self.session.id}.",
                                                 view=None)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report(interaction, error, action="remove resource")


async def start_add(bot: Any, interaction: discord.Interaction, session: Session) -> None:
    """Open (or resume) the user's draft for this session at its first step."""
    project: Project = await bot.engine.get_project(session.project_id)
    draft = bot.drafts.get((interaction.user.id, f"s{session.id}")) or Draft(
        user_id=interaction.user.id, project_id=project.id, provider=project.provider, session_id=session.id)
    bot.drafts.put(draft)
    view = StepView(bot, draft, "kind")
    await interaction.response.send_message(view.prompt(), view=view, ephemeral=True)


async def start_edit(bot: Any, interaction: discord.Interaction, project: Project, spec: ResourceSpec) -> None:
    """/cloud-edit: the same dialog, pre-filled from the applied resource, skipping the kind."""
    choices, values = forms.from_spec(spec)
    draft = bot.drafts.put(Draft(user_id=interaction.user.id, project_id=project.id, provider=project.provider,
                                 kind=spec.kind, choices=choices, values=values, editing=f"{spec.kind}/{spec.name}"))
    steps = draft.steps()[1:]
    if steps:
        view = StepView(bot, draft, steps[0])
        await interaction.response.send_message(view.prompt(), view=view, ephemeral=True)
    else:
        await interaction.response.send_modal(ResourceModal(bot, draft))


def removable(session: Session, applied: list[Any]) -> list[tuple[str, str]]:
    """(value, label) for everything the session could drop or destroy."""
    out = [(f"{r.kind}/{r.name}", f"{r.kind}/{r.name} (added in this session)")
           for r in session.resources if r.action == "upsert"]
    seen = {value for value, _ in out}
    out += [(f"{r.kind}/{r.name}", f"{r.kind}/{r.name} (applied: destroy)") for r in applied
            if f"{r.kind}/{r.name}" not in seen]
    return out
