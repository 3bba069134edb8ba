"""Discord's limits, in one place, with the helpers that keep text inside them.

Why one module: every renderer, the chunker and the streamer must agree on these numbers;
a literal 2000 scattered around is how messages start failing with 400 Bad Request.
Numbers are Discord's documented limits (developer docs: message, embed and component
objects); timings are our own choices, justified next to each.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

__all__ = [
    "ACK_SECONDS", "BUTTON_LABEL", "BUTTONS_PER_ROW", "EDIT_CADENCE_S", "EMBED_DESCRIPTION", "EMBED_FIELDS", "EMBED_FIELD_NAME",
    "EMBED_FIELD_VALUE", "EMBED_FOOTER", "EMBED_TITLE", "EMBED_TOTAL", "FOLLOWUP_SECONDS", "LABEL", "MESSAGE", "fit_lines",
    "MESSAGES_PER_WINDOW", "MODAL_TITLE", "RATE_WINDOW_S", "ROWS", "SELECT_OPTIONS", "TEXT_INPUT", "THREAD_NAME",
    "VIEW_MARGIN_SECONDS", "VIEW_SECONDS",
    "ATTACHMENT", "AUTOCOMPLETE_CHOICES", "attachment_limit", "fit_embed", "safe", "truncate",
]

MESSAGE = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000
ROWS = 5
BUTTONS_PER_ROW = 5
SELECT_OPTIONS = 25
AUTOCOMPLETE_CHOICES = 25
LABEL = 100  # select option labels/values/descriptions, choice names and values (not buttons: BUTTON_LABEL)
BUTTON_LABEL = 80  # button labels: Discord caps them below the 100 of options and choices
MODAL_TITLE = 45
TEXT_INPUT = 4000
THREAD_NAME = 100
# One uploaded file: what every server accepts (discord.py's default, 10 MiB); boosted servers take more.
ATTACHMENT = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES

ACK_SECONDS = 3.0  # an interaction must be answered (or deferred) within this
FOLLOWUP_SECONDS = 15 * 60  # interaction tokens (followups, edits of the original) expire after this
# Non-persistent views expire this long before the token does, to grey themselves out while it can still edit
# (bot/expiring.py counts it back from the interaction's creation, not from when the view was shown).
VIEW_MARGIN_SECONDS = 60
VIEW_SECONDS = FOLLOWUP_SECONDS - VIEW_MARGIN_SECONDS
# Discord allows about 5 message sends/edits per channel per 5 s. The streamer edits its live
# tail at most once per cadence and budgets calls under the window so it never meets a 429.
EDIT_CADENCE_S = 1.5
MESSAGES_PER_WINDOW = 5
RATE_WINDOW_S = 5.0
ELLIPSIS = "…"


def fit_lines(items: Iterable[str], limit: int = EMBED_FIELD_VALUE, empty: str = "—") -> str:
    """Join lines, stopping (with a count of the rest) before the text would overflow `limit`."""
    out: list[str] = []
    items = list(items)
    for i, item in enumerate(items):
        more = f"\n… and {len(items) - i} more"
        if sum(len(x) + 1 for x in out) + len(item) + len(more) > limit:
            out.append(more.strip())
            break
        out.append(item)
    return "\n".join(out) or empty


def truncate(text: str, limit: int, *, keep: str = "head") -> str:
    """`text` cut to `limit` characters with an ellipsis; keep="tail" keeps the end (errors live there)."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    if keep == "tail":
        return ELLIPSIS + text[-(limit - len(ELLIPSIS)):]
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS


def safe(text: object, limit: int | None = None) -> str:
    """User-supplied text made inert: no markdown, no @mentions; optionally truncated."""
    out = discord.utils.escape_mentions(discord.utils.escape_markdown(str(text)))
    return truncate(out, limit) if limit is not None else out


def code(text: object, limit: int | None = None) -> str:
    """User-supplied text for inside a `code span`, made inert there; optionally truncated.

    Why not `safe`: markdown is not parsed inside a code span, so its backslash escapes show
    as written ("load\\_balancer"). Only a backtick can end the span, so it becomes a look-alike
    (ˋ, U+02CB); mentions are escaped still, so a span never pings anyone.
    """
    out = discord.utils.escape_mentions(str(text).replace("`", "\u02cb"))
    return truncate(out, limit) if limit is not None else out


def attachment_limit(guild: object) -> int:
    """The bytes one file sent to `guild` may hold: its boost tier's limit, never below ATTACHMENT."""
    if isinstance(guild, discord.Guild):
        return max(guild.filesize_limit, ATTACHMENT)
    return ATTACHMENT


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Clamp every part of an embed to its limit, then drop trailing fields until the total fits."""
    if embed.title:
        embed.title = truncate(embed.title, EMBED_TITLE)
    if embed.description:
        embed.description = truncate(embed.description, EMBED_DESCRIPTION)
    if embed.footer.text:
        embed.set_footer(text=truncate(embed.footer.text, EMBED_FOOTER), icon_url=embed.footer.icon_url)
    fields = [(truncate(f.name or "\u200b", EMBED_FIELD_NAME), truncate(f.value or "\u200b", EMBED_FIELD_VALUE), f.inline)
              for f in embed.fields][:EMBED_FIELDS]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=bool(inline))
    dropped = 0
    while len(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
        dropped += 1
    if len(embed) > EMBED_TOTAL and embed.description:
        over = len(embed) - EMBED_TOTAL
        embed.description = truncate(embed.description, max(len(embed.description) - over, 1))
    if dropped:
        note = f"{dropped} more section(s) not shown"
        if len(embed) + len(note) + 4 <= EMBED_TOTAL and len(embed.fields) < EMBED_FIELDS:
            embed.add_field(name="…", value=note, inline=False)
    return embed
