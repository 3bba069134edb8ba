"""FinOps interactions: upload checks, the cost overview payload, and the paged recommendations.

Why the recommendation list is a normal View with a timeout (not persistent DynamicItems):
it pages over a snapshot of one `recommendations()` call, which is cheap to ask for again;
after 15 minutes (the interaction token's life) the buttons stop and `/cloud-recommend`
shows a fresh list. A page shows at most `PER_PAGE` recommendations as fields; a select
picks which one the action row (Explain, Act, Helpful, Noisy, Risky) applies to, so the
message stays within Discord's five component rows.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord

from bot import embeds_ai
from bot.client import cloud_bot, guild_id_of
from bot.components import ActionButton, ActionSelect, OnPress
from bot.errors import report
from bot.expiring import ExpiringView
from bot.limits import BUTTON_LABEL, LABEL, VIEW_SECONDS, safe, truncate
from bot.lobby import open_lobby
from cloud_engine.errors import IngestError, InvalidInput
from cloud_engine.finops._files import MB, check_size, file_format
from cloud_engine.finops.models import IngestReport, Recommendation, RecommendationSet
from cloud_engine.finops.remediate import RemediationRefusal

if TYPE_CHECKING:
    from cloud_engine.finops.service import FinOpsService
    from cloud_engine.finops.sync import SyncOutcome

__all__ = ["CHART_NAME", "PER_PAGE", "CostOverview", "RecommendationPager", "check_upload", "ingest_upload",
           "load_overview", "sync_reply"]

PER_PAGE = 5
CHART_NAME = "daily_costs.png"
UploadKind = Literal["focus", "metrics"]


def check_upload(kind: UploadKind, filename: str, size: int, max_mb: int, *, replace_window: bool = False) -> None:
    """Refuse a wrong type or an oversize file from the attachment's metadata, before downloading it."""
    if replace_window and kind != "focus":
        raise InvalidInput(field="replace_window", rule="applies to a FOCUS cost export only, not to metrics")
    fmt = file_format(filename)
    if kind == "metrics" and fmt != "csv":
        raise IngestError(detail=f"{filename}: metrics must be a CSV (resource_id, metric, timestamp, value, unit)")
    check_size(size, max_mb * MB, filename)


async def ingest_upload(finops: FinOpsService, kind: UploadKind, data: bytes, filename: str, *, guild_id: int,
                        replace_window: bool = False) -> IngestReport:
    """Hand the bytes to the FinOps service, which checks them and imports them into this server's ledger
    (`replace_window`: a FOCUS export that is complete for its period; see `FinOpsService.ingest_focus_file`)."""
    if kind == "focus":
        return await finops.ingest_focus_bytes(data, filename, guild_id=guild_id, replace_window=replace_window)
    return await finops.ingest_metrics_bytes(data, filename, guild_id=guild_id)


def sync_reply(outcome: SyncOutcome) -> str:
    """What `/cloud-finops-sync` did: each import's counts and the anomalies it found first, or the error."""
    if not outcome.ok:
        return (f"**{outcome.provider}** sync failed: {safe(outcome.error or 'unknown error', 1500)}\n"
                "Recorded in the ingestion log; `finops_sync_failed` subscribers are told.")
    lines = [f"**{outcome.provider}** synced into this server:"]
    for r in outcome.reports:
        restated = f", **{r.rows_restated:,}** restated" if r.target == "costs" else ""
        period = f" ({r.period_start:%Y-%m-%d} → {r.period_end:%Y-%m-%d})" if r.period_start and r.period_end else ""
        lines.append(f"• {r.target}: **{r.rows_read:,}** read, **{r.rows_added:,}** added{restated}, "
                     f"**{r.rows_unchanged:,}** unchanged{period}")
    if len(outcome.reports) == 1:
        lines.append("• metrics: none asked for (no virtual machine this provider can meter in these costs)")
    found = outcome.new_anomalies
    lines.append(f"• anomalies newly found: **{len(found)}**" + (" (told to `anomaly_found` subscribers)" if found
                                                                 else ""))
    for a in found[:5]:
        lines.append(f"  {a.day} {safe(a.service, 80)}: {a.amount:,.2f} {a.currency or ''} vs {a.expected:,.2f}")
    return "\n".join(lines)


@dataclass(frozen=True)
class CostOverview:
    embed: discord.Embed
    chart: bytes


async def load_overview(finops: FinOpsService, guild_id: int) -> CostOverview:
    """Read one server's summaries, forecast, anomalies and chart together (independent ledger reads)."""
    by_provider, by_service, forecast, anomalies, chart = await asyncio.gather(
        finops.cost_summary("provider", guild_id=guild_id), finops.cost_summary("service", guild_id=guild_id),
        finops.forecast(guild_id=guild_id), finops.anomalies(guild_id=guild_id),
        finops.daily_cost_chart(guild_id=guild_id))
    return CostOverview(embeds_ai.costs_overview(by_provider, by_service, forecast, anomalies, chart_name=CHART_NAME),
                        chart)


class RecommendationPager(ExpiringView):
    """Prev/Next over a recommendation list, with per-item Explain, Act and feedback."""

    def __init__(self, recs: RecommendationSet, *, timeout: float = VIEW_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.items: list[Recommendation] = list(recs.items)
        self.total_savings = recs.total_monthly_savings
        self.currency, self.savings_by_currency = recs.currency, recs.savings_by_currency
        self.suppressed = recs.suppressed
        self.green_moves, self.notes, self.acted = recs.green_moves, recs.notes, recs.acted
        self.page = 0
        self.selected: str | None = None
        self.picker: ActionSelect[RecommendationPager] = ActionSelect(self._pick, placeholder="Recommendation", row=0)
        buttons = [("Explain", "explain", discord.ButtonStyle.primary, "🔎", 1),
                   ("Act", "act", discord.ButtonStyle.success, "🛠️", 1),
                   ("Helpful", "helpful", discord.ButtonStyle.secondary, "👍", 1),
                   ("Noisy", "noisy", discord.ButtonStyle.secondary, "🔕", 1),
                   ("Risky", "risky", discord.ButtonStyle.secondary, "⚠️", 1),
                   ("Prev", "prev", discord.ButtonStyle.secondary, "◀️", 2),
                   ("Next", "next", discord.ButtonStyle.secondary, "▶️", 2)]
        self.buttons: dict[str, ActionButton[RecommendationPager]] = {}
        for label, key, style, emoji, row in buttons:
            self.buttons[key] = ActionButton(self._guarded(key), label=truncate(label, BUTTON_LABEL), style=style,
                                             emoji=emoji, row=row, custom_id=f"ce:recs:{key}")
        self._layout()

    # ------------------------------------------------------------------ paging
    @property
    def pages(self) -> int:
        return max(math.ceil(len(self.items) / PER_PAGE), 1)

    def page_items(self) -> list[Recommendation]:
        return self.items[self.page * PER_PAGE:(self.page + 1) * PER_PAGE]

    def current(self) -> Recommendation | None:
        """The selected recommendation on this page (the first one when none is picked)."""
        shown = self.page_items()
        return next((r for r in shown if r.id == self.selected), shown[0] if shown else None)

    def retotal(self) -> None:
        """Totals after items were hidden: per currency (the set's validator), never added across them."""
        totals = RecommendationSet(as_of=None, items=tuple(self.items), total_co2e_kg_month_delta=0.0,
                                   total_monthly_savings=round(sum(r.monthly_savings for r in self.items), 2))
        self.total_savings, self.currency = totals.total_monthly_savings, totals.currency
        self.savings_by_currency = totals.savings_by_currency

    def embed(self) -> discord.Embed:
        return embeds_ai.recommendations_page(self.page_items(), page=self.page, pages=self.pages,
                                              total_savings=self.total_savings, suppressed=self.suppressed,
                                              start=self.page * PER_PAGE, currency=self.currency,
                                              savings_by_currency=self.savings_by_currency,
                                              green_moves=self.green_moves if self.page == 0 else (),
                                              notes=self.notes if self.page == 0 else (),
                                              acted=self.acted if self.page == 0 else ())

    def _layout(self) -> None:
        """Rebuild the components for the current page (select options, disabled states)."""
        self.clear_items()
        shown = self.page_items()
        current = self.current()
        if shown:
            self.picker.options = [discord.SelectOption(
                label=truncate(f"{self.page * PER_PAGE + i}. {r.resource_name}", LABEL),
                description=truncate(r.action, LABEL), value=r.id, default=current is not None and r.id == current.id)
                for i, r in enumerate(shown, start=1)]
            self.add_item(self.picker)
            for key in ("explain", "act", "helpful", "noisy", "risky"):
                self.add_item(self.buttons[key])
        self.buttons["prev"].disabled = self.page == 0
        self.buttons["next"].disabled = self.page >= self.pages - 1
        self.add_item(self.buttons["prev"])
        self.add_item(self.buttons["next"])

    async def _rerender(self, interaction: discord.Interaction) -> None:
        self.page = min(self.page, self.pages - 1)
        self._layout()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    # ------------------------------------------------------------------ callbacks
    def _guarded(self, key: str) -> OnPress:
        async def callback(interaction: discord.Interaction) -> None:
            try:
                await self.press(interaction, key)
            except Exception as exc:
                await report(interaction, exc, action=f"recommend:{key}")
        return callback

    async def _pick(self, interaction: discord.Interaction) -> None:
        self.selected = self.picker.values[0]
        await self._rerender(interaction)

    async def press(self, interaction: discord.Interaction, key: str) -> None:
        """Run one button: page moves re-render; the rest act on the selected recommendation."""
        if key in ("prev", "next"):
            self.page = max(0, min(self.pages - 1, self.page + (1 if key == "next" else -1)))
            self.selected = None
            await self._rerender(interaction)
            return
        rec = self.current()
        if rec is None:
            await interaction.response.send_message("Nothing selected on this page.", ephemeral=True)
        elif key == "explain":
            await self.explain(interaction, rec)
        elif key == "act":
            await self.act(interaction, rec)
        else:
            await self.feedback(interaction, rec, key)

    async def feedback(self, interaction: discord.Interaction, rec: Recommendation, verdict: str) -> None:
        """Record the verdict; a noisy one also drops the item from this list (the service hides it for days)."""
        finops = await cloud_bot(interaction).services.finops()
        result = await finops.record_feedback(rec.id, interaction.user.id, verdict, guild_id=guild_id_of(interaction))
        if result.suppressed_until is None:
            await interaction.response.send_message(f"Thanks: marked **{verdict}** for {safe(rec.resource_name, 100)}.",
                                                    ephemeral=True)
            return
        self.items = [r for r in self.items if r.id != rec.id]
        self.suppressed += 1
        self.retotal()
        self.selected = None
        await self._rerender(interaction)
        await interaction.followup.send(f"Hidden **{safe(rec.action, 200)}** for {safe(rec.resource_name, 100)} until "
                                        f"{result.suppressed_until:%Y-%m-%d}.", ephemeral=True)

    async def explain(self, interaction: discord.Interaction, rec: Recommendation) -> None:
        """The FinOps reviewer's note on this item (a model when configured, else the rules), with the evidence."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        review = await (await cloud_bot(interaction).services.advisor()).review_finops([rec], {})  # its clients, built once
        item = review.effective_recommendation
        note = item.note if item is not None and item.recommendation_id == rec.id else ""
        await interaction.followup.send(embed=embeds_ai.recommendation_detail(
            rec, note, review.base_of_recommendations, review.written_by), ephemeral=True)

    async def act(self, interaction: discord.Interaction, rec: Recommendation) -> None:
        """Open the remediation session and post its lobby, or say plainly why there is none."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = cloud_bot(interaction)
        outcome = await (await bot.services.finops()).act(bot.engine, rec, guild_id=guild_id_of(interaction),
                                                          user_id=interaction.user.id)
        if isinstance(outcome, RemediationRefusal):
            await interaction.followup.send(f"No change opened: {safe(outcome.reason)}", ephemeral=True)
            return
        message = await open_lobby(bot.engine, interaction, outcome)
        if message is None:  # Discord refused the lobby: the user was told why and the session cancelled
            return
        await interaction.followup.send(f"Deployment #{outcome.id} carries this out; validate, plan and apply it "
                                        f"in its lobby: {message.jump_url}", ephemeral=True)
