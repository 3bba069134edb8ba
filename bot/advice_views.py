"""The "Deploy this" flow under an advisor answer: pick a project, get a lobby.

Why a normal View with a timeout (not a persistent DynamicItem like the lobby): the answer
lives only in this view's memory (it is not stored), so after a restart there is nothing
to deploy; the buttons expire just before the interaction token (15 minutes), grey
themselves out (bot/expiring.py) and the user asks again. The session that "Deploy this" opens is an ordinary lobby, persistent from then on.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.checks import role_refusal
from bot.client import cloud_bot, guild_id_of
from bot.components import ActionButton, ActionSelect, OnPress
from bot.errors import CloudCheckFailure, report, request_id_of
from bot.expiring import ExpiringView
from bot.limits import BUTTON_LABEL, LABEL, SELECT_OPTIONS, VIEW_SECONDS, truncate
from bot.lobby import open_lobby
from cloud_engine.ai.schemas import AdviceAnswer
from cloud_engine.core.models import Project, Role
from cloud_engine.logging_setup import request_id_var

__all__ = ["AdviceView", "ProjectPicker", "deploy_answer_to_project"]


class AdviceView(ExpiringView):
    """One "Deploy this" button per answer (two when comparing models)."""

    def __init__(self, answers: Sequence[AdviceAnswer], *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.answers = list(answers)
        for i, answer in enumerate(answers):
            label = "Deploy this" if len(answers) == 1 else f"Deploy {answer.written_by}"
            button: ActionButton[AdviceView] = ActionButton(
                self._make_callback(answer), label=truncate(label, BUTTON_LABEL), style=discord.ButtonStyle.success,
                emoji="🚀", disabled=not answer.resources, custom_id=f"ce:advice:deploy:{i}")
            self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """The answer sits on a public message: only a CloudUser may open the project picker (refusals audited)."""
        request_id_var.set(request_id_of(interaction))
        try:
            reason = await role_refusal(interaction, Role.USER, what="**Deploy this**")
        except Exception as exc:
            await report(interaction, exc, action="advise:deploy")
            return False
        if reason is None:
            return True
        await report(interaction, CloudCheckFailure(reason), action="advise:deploy")
        return False

    def _make_callback(self, answer: AdviceAnswer) -> OnPress:
        async def callback(interaction: discord.Interaction) -> None:
            try:
                await self.ask_project(interaction, answer)
            except Exception as exc:
                await report(interaction, exc, action="advise:deploy")
        return callback

    @staticmethod
    async def ask_project(interaction: discord.Interaction, answer: AdviceAnswer) -> None:
        """Offer the presser's server projects whose cloud matches the answer's."""
        engine = cloud_bot(interaction).engine
        clouds = {r.provider for r in answer.resources}
        projects = [p for p in await engine.list_projects(guild_id_of(interaction)) if {p.catalog_provider} == clouds]
        if not projects:
            await interaction.response.send_message(
                f"No project in this server deploys to **{', '.join(sorted(clouds)).upper()}**; create one with "
                "`/cloud-init` first.", ephemeral=True)
            return
        picker = ProjectPicker(answer, projects)
        await interaction.response.send_message("Deploy into which project?", view=picker, ephemeral=True)
        picker.shown_in(interaction, content="Deploy into which project?")


class ProjectPicker(ExpiringView):
    """A select of compatible projects; choosing one opens the deployment and posts its lobby."""

    def __init__(self, answer: AdviceAnswer, projects: Sequence[Project], *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.answer = answer
        options = [discord.SelectOption(label=truncate(p.name, LABEL), value=str(p.id),
                                        description=truncate(f"{p.provider} {p.region} · {p.target}", LABEL))
                   for p in projects[:SELECT_OPTIONS]]
        self.select: ActionSelect[ProjectPicker] = ActionSelect(self.chosen, placeholder="Project", options=options)
        self.add_item(self.select)

    async def chosen(self, interaction: discord.Interaction) -> None:
        try:
            await deploy_answer_to_project(interaction, self.answer, int(self.select.values[0]))
        except Exception as exc:
            await report(interaction, exc, action="advise:deploy")


async def deploy_answer_to_project(interaction: discord.Interaction, answer: AdviceAnswer, project_id: int) -> None:
    """advisor.deploy_answer (every engine check applies), then the normal lobby in this channel."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = cloud_bot(interaction)
    advisor = await bot.services.advisor()
    session = await advisor.deploy_answer(answer, bot.engine, project_id, interaction.user.id)
    if (message := await open_lobby(bot.engine, interaction, session)) is None:
        return  # the user was told which permissions the bot lacks; the session was cancelled
    await interaction.followup.send(f"Deployment #{session.id} is ready to validate and plan: {message.jump_url}",
                                    ephemeral=True)
