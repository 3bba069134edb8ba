"""The add/edit-resource dialog: kind → catalogue selects (paged) → a modal, plus the remove picker.

Why drafts: a modal that fails validation closes, and Discord cannot reopen it by itself.
Each user's typed values are kept per session (small, in memory, oldest evicted), so the
error message offers "Edit again" with everything pre-filled. Nothing here decides
anything: the engine validates and refuses; this module only collects input.

Why ExpiringViews: these views live in ephemeral interaction messages, which can only be
edited through a 15-minute token; they grey themselves out just before it (bot/expiring.py).
A view replaced by the next step (or page) is stopped, so its expiry cannot later repaint
the message with a stale step; the new view is told which message it is in (`shown_in`).
An edit (`Draft.base`) patches the stored spec with only what the user changed
(`forms.apply_edit`), so fields the dialog does not show are kept.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
from pydantic import ValidationError

from bot import forms
from bot.components import ActionButton, ActionSelect
from bot.errors import describe, report
from bot.expiring import ExpiringView
from bot.limits import BUTTON_LABEL, LABEL, MODAL_TITLE, SELECT_OPTIONS, VIEW_SECONDS, truncate
from bot.lobby import open_lobby
from cloud_engine.core.models import Project, ResourceSpec, Session, SessionResource
from cloud_engine.errors import EngineError

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__ = ["Draft", "DraftStore", "RemoveView", "ResourceModal", "StepView", "page_of", "start_add", "start_edit",
           "start_remove"]

log = logging.getLogger(__name__)
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
    base: ResourceSpec | None = None  # the applied spec being edited: the submit patches it (forms.apply_edit)

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


class StepView(ExpiringView):
    """One select step of the dialog; choosing advances to the next step or opens the modal."""

    def __init__(self, bot: CloudBot, draft: Draft, step: str, page: int = 0, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.bot, self.draft, self.step, self.page = bot, draft, step, page
        options = forms.step_options(bot.engine.catalog, draft.provider, step)
        current = draft.kind if step == "kind" else draft.choices.get(step)
        page_options, _, _ = page_of(options, page)
        for option in page_options:
            option.default = option.value == current
        self.select: ActionSelect[StepView] = ActionSelect(
            self._chosen, placeholder=f"Choose {step.replace('_', ' ')}", options=page_options, min_values=1,
            max_values=1)
        self.add_item(self.select)
        if current:
            keep: ActionButton[StepView] = ActionButton(
                self._keep, label=truncate(f"Keep {current}", BUTTON_LABEL), style=discord.ButtonStyle.primary)
            self.add_item(keep)

    def prompt(self) -> str:
        return f"Step {self.draft.steps().index(self.step) + 1}: choose the **{self.step.replace('_', ' ')}**."

    async def _replace_with(self, interaction: discord.Interaction, nxt: StepView) -> None:
        """Show `nxt` in this view's message; this view stops, so its expiry cannot repaint the message."""
        self.stop()
        await interaction.response.edit_message(content=nxt.prompt(), view=nxt)
        nxt.shown_in(interaction, content=nxt.prompt())

    async def _chosen(self, interaction: discord.Interaction) -> None:
        value = self.select.values[0]
        if value in (_PREV, _NEXT):
            page = self.page + (1 if value == _NEXT else -1)
            await self._replace_with(interaction, StepView(self.bot, self.draft, self.step, page))
            return
        if self.step == "kind":
            if value != self.draft.kind:  # a different kind is a new resource, not an edit of the old one
                self.draft.choices, self.draft.values, self.draft.editing, self.draft.base = {}, {}, None, None
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
            await self._replace_with(interaction, StepView(self.bot, self.draft, following[0]))
        else:  # this step stays usable: a dismissed modal can be reopened from it
            await interaction.response.send_modal(ResourceModal(self.bot, self.draft))

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report(interaction, error, action="resource dialog")


class ResourceModal(discord.ui.Modal):
    """The typed part of a resource; what the user typed survives a failed submit (see Draft)."""

    def __init__(self, bot: CloudBot, draft: Draft, *, timeout: float = VIEW_SECONDS) -> None:
        assert draft.kind is not None
        fields, withheld = forms.edit_fields(draft.base) if draft.base else (forms.FORMS[draft.kind], ())
        super().__init__(title=_title(draft, withheld), timeout=timeout)
        self.bot, self.draft = bot, draft
        self.inputs: dict[str, discord.ui.TextInput[ResourceModal]] = {}
        for spec in fields:
            default = draft.values.get(spec.key) or None
            text_input: discord.ui.TextInput[ResourceModal] = discord.ui.TextInput(
                label=truncate(spec.label, 45), placeholder=truncate(spec.placeholder, LABEL) or None,
                required=spec.required, max_length=spec.limit,
                style=discord.TextStyle.paragraph if spec.long else discord.TextStyle.short,
                default=default if default is None or len(default) <= spec.limit else None)
            self.inputs[spec.key] = text_input
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.draft.values = {key: str(item.value or "") for key, item in self.inputs.items()}
        self.bot.drafts.put(self.draft)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = await submit(self.bot, interaction, self.draft)
        except (ValidationError, EngineError) as exc:
            content = f"{describe(exc)}\nYour input is kept: press **Edit again**."
            view = ReopenView(self.bot, self.draft)
            view.shown_in(await interaction.followup.send(content, view=view, ephemeral=True, wait=True),
                          content=content)
            return
        if text is not None:
            await interaction.followup.send(text, ephemeral=True)

    # Modal.on_error's own signature (no item): discord.py's Modal drops BaseView's `item` parameter itself.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report(interaction, error, action="resource modal")


def _title(draft: Draft, withheld: tuple[forms.FormField, ...]) -> str:
    """"Add vm" / "Edit vm/web-1", naming any field kept unchanged because it is too long to show."""
    assert draft.kind is not None
    if not draft.editing:
        return truncate(f"Add {draft.kind.replace('_', ' ')}", MODAL_TITLE)
    note = f" ({', '.join(f.key for f in withheld)} kept)" if withheld else ""  # at most 28 characters
    return truncate(f"Edit {draft.editing}", MODAL_TITLE - len(note)) + note


async def submit(bot: CloudBot, interaction: discord.Interaction, draft: Draft) -> str | None:
    """Validate the draft into a spec and hand it to the engine; opens a session first for /cloud-edit.

    None when the session's lobby could not be posted (the user was told why; the session is cancelled).
    """
    assert draft.kind is not None
    spec = (forms.apply_edit(draft.base, draft.choices, draft.values) if draft.base
            else forms.to_spec(draft.kind, draft.choices, draft.values))
    engine = bot.engine
    if draft.session_id is None:
        purpose = f"edit {draft.editing}" if draft.editing else "deploy"
        session = await engine.start_session(draft.project_id, interaction.user.id, purpose=purpose)
        if await open_lobby(engine, interaction, session) is None:
            return None
        bot.drafts.drop(draft)
        draft.session_id = session.id
        bot.drafts.put(draft)  # a failed add below can be retried against this same session
    added = await engine.add_resource(draft.session_id, interaction.user.id, spec)
    bot.drafts.drop(draft)
    return (f"{'Updated' if draft.editing else 'Added'} `{added.kind}/{added.name}` "
            f"(~${added.cost_monthly:,.2f}/mo) to deployment #{draft.session_id}. Press **Plan** on the lobby to see "
            "exactly what Terraform would change.")


class ReopenView(ExpiringView):
    def __init__(self, bot: CloudBot, draft: Draft, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.bot, self.draft = bot, draft

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary)
    async def reopen(self, interaction: discord.Interaction, _: discord.ui.Button[ReopenView]) -> None:
        await interaction.response.send_modal(ResourceModal(self.bot, self.draft))


class RemoveView(ExpiringView):
    """Pick a resource to drop from the session or to destroy (applied resources need CloudAdmin); paged."""

    def __init__(self, bot: CloudBot, session: Session, options: list[tuple[str, str]], page: int = 0, *,
                 timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.bot, self.session, self.options, self.page = bot, session, options, page
        chunk, _, _ = page_of(options, page)
        self.select: ActionSelect[RemoveView] = ActionSelect(self._chosen, placeholder="Resource to remove",
                                                             options=chunk)
        self.add_item(self.select)

    def prompt(self) -> str:
        pages = max(-(-len(self.options) // _PAGE), 1)
        return "Which resource?" if pages == 1 else f"Which resource? (page {self.page + 1} of {pages})"

    async def _chosen(self, interaction: discord.Interaction) -> None:
        value = self.select.values[0]
        if value in (_PREV, _NEXT):
            nxt = RemoveView(self.bot, self.session, self.options, self.page + (1 if value == _NEXT else -1))
            self.stop()
            await interaction.response.edit_message(content=nxt.prompt(), view=nxt)
            nxt.shown_in(interaction, content=nxt.prompt())
            return
        kind, _, name = value.partition("/")
        self.stop()
        await interaction.response.defer()
        await self.bot.engine.remove_resource(self.session.id, interaction.user.id, kind, name)
        await interaction.edit_original_response(content=f"Removed `{kind}/{name}` from deployment #{self.session.id}.",
                                                 view=None)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await report(interaction, error, action="remove resource")


async def start_add(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    """Open (or resume) the user's draft for this session at its first step."""
    project: Project = await bot.engine.get_project(session.project_id)
    draft = bot.drafts.get((interaction.user.id, f"s{session.id}")) or Draft(
        user_id=interaction.user.id, project_id=project.id, provider=project.provider, session_id=session.id)
    bot.drafts.put(draft)
    view = StepView(bot, draft, "kind")
    await interaction.response.send_message(view.prompt(), view=view, ephemeral=True)
    view.shown_in(interaction, content=view.prompt())


async def start_remove(bot: CloudBot, interaction: discord.Interaction, session: Session) -> None:
    """The lobby's Remove: a paged picker of everything the session could drop or destroy."""
    options = removable(session, await bot.engine.project_resources(session.project_id))
    if not options:
        await interaction.response.send_message("Nothing to remove yet.", ephemeral=True)
        return
    view = RemoveView(bot, session, options)
    await interaction.response.send_message(view.prompt(), view=view, ephemeral=True)
    view.shown_in(interaction, content=view.prompt())


async def start_edit(bot: CloudBot, interaction: discord.Interaction, project: Project, spec: ResourceSpec) -> None:
    """/cloud-edit: the same dialog, pre-filled from the applied resource, skipping the kind.

    The submit patches `spec` with what the user changed (forms.apply_edit); everything else is kept.
    """
    choices, values = forms.from_spec(spec)
    draft = bot.drafts.put(Draft(user_id=interaction.user.id, project_id=project.id, provider=project.provider,
                                 kind=spec.kind, choices=choices, values=values, editing=f"{spec.kind}/{spec.name}",
                                 base=spec))
    steps = draft.steps()[1:]
    if steps:
        view = StepView(bot, draft, steps[0])
        await interaction.response.send_message(view.prompt(), view=view, ephemeral=True)
        view.shown_in(interaction, content=view.prompt())
    else:
        await interaction.response.send_modal(ResourceModal(bot, draft))


def removable(session: Session, applied: list[SessionResource]) -> list[tuple[str, str]]:
    """(value, label) for everything the session could drop or destroy."""
    out = [(f"{r.kind}/{r.name}", f"{r.kind}/{r.name} (added in this session)")
           for r in session.resources if r.action == "upsert"]
    seen = {value for value, _ in out}
    out += [(f"{r.kind}/{r.name}", f"{r.kind}/{r.name} (applied: destroy)") for r in applied
            if f"{r.kind}/{r.name}" not in seen]
    return out
