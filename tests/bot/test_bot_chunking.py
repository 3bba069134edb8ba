"""Fence-aware splitting and embed clamping."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chunking import CONTINUED_HEAD, split_fenced
from bot.limits import EMBED_TOTAL, fit_embed, safe


def _bodies(parts: list[str]) -> str:
    return "".join(parts)


def test_a_cut_inside_a_fence_closes_and_reopens_it_with_its_language() -> None:
    text = "Plan:\n```hcl\n" + "\n".join(f'resource "null_resource" "r{i}" {{}}' for i in range(200)) + "\n```\nDone."
    parts = split_fenced(text, 1000)
    assert len(parts) > 2
    for part in parts:
        assert len(part) <= 1000 and part.count("```") % 2 == 0
    assert parts[1].startswith(CONTINUED_HEAD + "```hcl\n")
    assert parts[0].rstrip().endswith("*(continues…)*")
    assert parts[-1].endswith("Done.")


def test_past_the_cap_the_tail_is_kept() -> None:
    text = "\n".join(f"line {i}" for i in range(5000)) + "\nError: quota exceeded"
    parts = split_fenced(text, 500, max_parts=3)
    assert len(parts) == 3
    assert parts[0].startswith("*(") and "earlier part(s) omitted" in parts[0]
    assert parts[-1].endswith("Error: quota exceeded")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), st.sampled_from(["```", "```text", "```hcl"])), max_size=80),
       st.integers(min_value=200, max_value=2000))
def test_every_part_fits_and_keeps_fences_balanced(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    for part in split_fenced(text, limit, max_parts=1000):
        assert len(part) <= limit
        if len(text) > limit:
            fences = [ln for ln in part.split("\n") if ln.strip().startswith("```")]
            assert len(fences) % 2 == 0


def test_fit_embed_respects_the_total_and_says_what_was_dropped() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for i in range(30):
        embed.add_field(name=f"f{i}", value="v" * 2000)
    fit_embed(embed)
    assert len(embed) <= EMBED_TOTAL and len(embed.title) <= 256 and len(embed.fields) <= 25
    assert all(len(f.value) <= 1024 for f in embed.fields)
    assert "not shown" in embed.fields[-1].value


def test_user_text_cannot_ping_or_format() -> None:
    assert "@\u200beveryone" in safe("@everyone **bold**") and "\\*\\*" in safe("**bold**")


def test_a_long_error_keeps_its_request_id_outside_any_code() -> None:
    from bot.errors import with_request_id
    from bot.limits import MESSAGE

    short = with_request_id("Refused: `x`", "r-1")
    assert short == "Refused: `x`\n-# request `r-1`"
    for text in ["Plan failed:\n```\n" + "Error: x\n" * 400 + "```", "Bad name `" + "a" * 3000 + "`",
                 "plain " * 500, "esc \\` " + "b" * 3000]:
        out = with_request_id(text, "r-2")
        assert len(out) <= MESSAGE and out.endswith("\n-# request `r-2`")
        body = out.removesuffix("\n-# request `r-2`")
        assert body.count("```") % 2 == 0
        assert body.replace("```", "").replace("\\`", "").count("`") % 2 == 0
