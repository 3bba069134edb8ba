"""The thread streamer against a channel that enforces Discord's 5-calls-per-5-s budget."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import discord

from bot.limits import MESSAGE
from bot.streaming import CallBudget, ThreadSink, stream_lines
from tests.fakes.discord import FakeChannel, RateLimitedChannel, VirtualClock, http_error

RUN_SECONDS = 120.0


async def terraform_lines(clock: VirtualClock, n: int, run_s: float = RUN_SECONDS) -> AsyncIterator[str]:
    """Terraform-like output produced evenly over `run_s` virtual seconds."""
    step = run_s / n
    for i in range(n):
        if i % 50 == 0:
            await clock.sleep(step * 50)
        yield f'null_resource.vm_web_{i % 40}: Still creating... [{i // 40}s elapsed] id="{i:08d}" ```x```'


def attached_log(channel: FakeChannel) -> str:
    file: discord.File = channel.sent[-1].file
    assert file is not None, "the last message carries the full log"
    fp = file.fp
    assert isinstance(fp, io.BytesIO)
    return fp.getvalue().decode()


async def test_ten_thousand_lines_no_429_bounded_calls_and_full_log() -> None:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock)
    lines = [line async for line in terraform_lines(VirtualClock(), 10_000)]
    result = await stream_lines(channel, terraform_lines(clock, 10_000), title="terraform apply", clock=clock,
                                sleep=clock.sleep)
    assert channel.rejected == 0 and result.retries_429 == 0
    assert result.api_calls == len(channel.calls)
    # one edit per 1.5 s of run at most, plus messages bounded by the cap, plus the summary
    assert result.api_calls <= RUN_SECONDS / 1.5 + 2 + 16
    assert all(len(m.content) <= MESSAGE for m in channel.sent)
    assert attached_log(channel) == "\n".join(lines) + "\n"
    assert result.lines == 10_000


async def test_every_message_is_one_closed_fence_and_output_backticks_cannot_break_it() -> None:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock)
    await stream_lines(channel, terraform_lines(clock, 600, run_s=20), title="plan", clock=clock, sleep=clock.sleep)
    for message in channel.sent[:-1]:
        body = message.content
        assert body.count("```") == 2 and body.rstrip().endswith("```"), body[-80:]


async def test_small_output_is_one_live_message_edited_in_place() -> None:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock)

    async def slow() -> AsyncIterator[str]:
        for i in range(10):
            await clock.sleep(1.0)
            yield f"line {i}"

    result = await stream_lines(channel, slow(), title="plan", clock=clock, sleep=clock.sleep)
    live = channel.sent[0]
    assert result.messages == 2  # the live tail + the summary with the log
    assert live.edits, "the tail is edited, not re-sent"
    assert "line 9" in live.content and "line 0" in live.content
    assert len(live.edits) <= 10 / 1.5 + 1


async def test_a_429_is_waited_out_with_its_retry_after() -> None:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock, limit=1, window=5.0)  # far stricter than Discord
    budget = CallBudget(calls=10, window=5.0, clock=clock, sleep=clock.sleep)  # pacer too generous on purpose

    async def burst() -> AsyncIterator[str]:
        for i in range(30):
            await clock.sleep(0.5)
            yield f"line {i}"

    result = await stream_lines(channel, burst(), title="apply", clock=clock, sleep=clock.sleep, budget=budget)
    assert result.retries_429 >= 1
    assert attached_log(channel).count("\n") == 30
    assert clock.slept >= 5.0


async def test_a_broken_channel_never_raises_into_the_runner() -> None:
    channel = FakeChannel()
    channel.fail_with = http_error(403)
    sink = ThreadSink(channel, title="apply", cadence=0.0)
    sink.start()
    for i in range(100):
        await sink.write(f"line {i}")
    result = await sink.result()
    assert result.lines == 100 and result.failed_calls == 1 and result.full_log.count("\n") == 100


async def test_thread_sink_streams_what_the_runner_writes() -> None:
    clock = VirtualClock()
    channel = RateLimitedChannel(clock)
    sink = ThreadSink(channel, title="plan", clock=clock, sleep=clock.sleep)
    sink.start()
    for i in range(2000):
        await sink.write(f"+ resource {i}")
    await sink.close()
    await sink.write("after close is dropped")
    result = await sink.result()
    assert result.lines == 2000 and channel.rejected == 0
    assert attached_log(channel).splitlines()[-1] == "+ resource 1999"
