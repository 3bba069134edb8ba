"""Plan and apply runs, streamed into the lobby's thread (or, when Discord allows none, its channel).

Why a separate owner: a run outlives the button press that started it (the interaction
token dies after 15 minutes; an apply can take longer). The engine owns the run task
(start_plan/start_apply); this module only gives it a ThreadSink, waits for the task in
its own tracked task, then posts the summary in the thread and DMs the author of an apply.
Nothing is ever sent to an interaction followup from here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Literal

import discord

from bot import embeds
from bot.limits import THREAD_NAME, truncate
from bot.streaming import CallBudget, StreamResult, ThreadSink
from cloud_engine.core.models import Session

if TYPE_CHECKING:
    from bot.bot import CloudBot

__all__ = ["NO_THREAD_NOTE", "follow_run", "launch_run", "stream_target"]

log = logging.getLogger(__name__)


Verb = Literal["plan", "apply"]
_THREAD_TYPES = frozenset({discord.ChannelType.public_thread, discord.ChannelType.private_thread,
                           discord.ChannelType.news_thread})
NO_THREAD_NOTE = ("⚠️ Could not open a thread for deployment #{session_id} here, so its output streams in this "
                  "channel. For a thread next time, give the bot **Create Public Threads** and **Send Messages in "
                  "Threads** here (a voice channel's chat cannot hold threads).")


async def stream_target(bot: CloudBot, session: Session, fallback: Any = None) -> tuple[Any, str | None]:
    """The channel a run streams into, and a note to post first when that is not what the user expects.

    The session's thread, created on the lobby message the first time (its id is stored).
    A lobby that is itself in a thread (or a forum post) streams in that thread. When
    Discord refuses the thread (no Create Public Threads permission, a voice channel's
    chat, a deleted lobby), the run streams in the lobby's channel instead of not starting.
    `fallback` (the pressing interaction's channel) stands in for a session without a lobby
    and tells a thread apart when the channel cache does not.
    """
    engine = bot.engine
    if session.thread_id:
        return bot.messageable(session.thread_id), None
    if not session.channel_id or not session.message_id:
        if fallback is None:
            raise RuntimeError(f"session {session.id} has no lobby message to stream under")
        return fallback, None
    here = fallback if getattr(fallback, "id", None) == session.channel_id else bot.messageable(session.channel_id)
    if getattr(here, "type", None) in _THREAD_TYPES:
        await engine.set_lobby_message(session.id, channel_id=session.channel_id, thread_id=session.channel_id)
        return here, None
    message = bot.lobby_message(session.channel_id, session.message_id)
    try:
        thread = await message.create_thread(name=truncate(f"deployment-{session.id} · {session.purpose}", THREAD_NAME))
    except discord.HTTPException as exc:  # Forbidden included
        log.warning("could not open a run thread; streaming in the lobby channel",
                    extra={"session_id": session.id, "status": exc.status, "code": exc.code})
        return here, NO_THREAD_NOTE.format(session_id=session.id)
    await engine.set_lobby_message(session.id, channel_id=session.channel_id, thread_id=thread.id)
    return thread, None


async def launch_run(bot: CloudBot, session: Session, user_id: int, verb: Verb, *, fallback: Any = None) -> Any:
    """Start a plan or apply whose output streams into the session's thread; returns where it streams."""
    thread, note = await stream_target(bot, session, fallback)
    budget = CallBudget()
    sink = ThreadSink(thread, title=f"terraform {verb} · deployment #{session.id}", budget=budget,
                      log_filename=f"deployment-{session.id}-{verb}.log")
    start = bot.engine.start_plan if verb == "plan" else bot.engine.start_apply
    try:
        task = start(session.id, user_id, sinks=[sink])
    except BaseException:
        await sink.close()
        raise
    if note:
        await budget.acquire()
        try:
            await thread.send(note)
        except discord.HTTPException:
            log.warning("could not post the no-thread note", extra={"session_id": session.id})
    sink.start()
    bot.track(follow_run(bot, task, sink, thread, verb, session.id, budget))
    return thread


async def follow_run(bot: CloudBot, task: asyncio.Task[Session], sink: ThreadSink, thread: Any, verb: Verb,
                     session_id: int, budget: CallBudget) -> None:
    """After the run: finish the stream, post the summary, DM the author of an apply."""
    try:
        await task
    except BaseException:
        log.info("run ended with an error; the engine recorded it", extra={"session_id": session_id})
    stream: StreamResult = await sink.result()
    session = await bot.engine.get_session(session_id)
    embed = embeds.run_summary(session, verb, duration_s=stream.duration, lines=stream.lines,
                               api_calls=stream.api_calls)
    await budget.acquire()
    try:
        await thread.send(embed=embed)
    except discord.HTTPException:
        log.warning("could not post the run summary", extra={"session_id": session_id})
    if verb == "apply":
        await notify_author(bot, session.user_id, embed)


async def notify_author(bot: CloudBot, user_id: int, embed: discord.Embed) -> None:
    """DM the deployment's author; people who closed their DMs are simply not told."""
    try:
        user = bot.get_user(user_id) or await bot.fetch_user(user_id)
        await user.send(embed=embed)
    except (discord.Forbidden, discord.NotFound):
        log.info("author does not accept DMs", extra={"user_id": user_id})
    except discord.HTTPException:
        log.warning("could not DM the author", extra={"user_id": user_id})
