"""Fence-aware splitting of long text into Discord-sized parts (Atlantis' SplitComment).

Why its own pure module: slicing output at fixed offsets breaks code blocks (the rest of
the message renders as garbage) and hides the end, where Terraform prints its errors.
Here a cut inside a ``` block closes the block and reopens it (same language) in the next
part, parts carry "continued" markers, and past `max_parts` the oldest parts are dropped
so the tail survives; the caller attaches the full text as a file when that happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.limits import MESSAGE

__all__ = ["CONTINUED_HEAD", "CONTINUES_TAIL", "FENCE", "neutralize_fences", "split_fenced"]

FENCE = "```"
CONTINUED_HEAD = "*(continued)*\n"
CONTINUES_TAIL = "\n*(continues…)*"
_OMITTED_HEAD = "*({n} earlier part(s) omitted; see the full log)*\n"
_HEAD_RESERVE = len(_OMITTED_HEAD.format(n=10**6))
_CLOSE = "\n" + FENCE


@dataclass
class _Part:
    opens_in: str | None  # language of a fence already open when the part starts
    lines: list[str] = field(default_factory=list)
    closes_in: str | None = None  # fence still open when the part ends


def neutralize_fences(line: str) -> str:
    """Make a line safe inside our own fence: a literal ``` would end the block early."""
    return line.replace(FENCE, "`\u200b`\u200b`")


def split_fenced(text: str, limit: int = MESSAGE, *, max_parts: int = 10) -> list[str]:
    """Split `text` into at most `max_parts` strings of at most `limit` characters each.

    Code fences stay balanced in every part; when parts are dropped the last ones are kept.
    """
    if limit < 200:
        raise ValueError("limit too small to carry markers and fences")
    if len(text) <= limit:
        return [text]
    parts = _cut(text, limit)
    omitted = max(len(parts) - max_parts, 0)
    parts = parts[omitted:]
    rendered = []
    for i, part in enumerate(parts):
        head = _OMITTED_HEAD.format(n=omitted) if i == 0 and omitted else (CONTINUED_HEAD if i or omitted else "")
        body = "\n".join(part.lines)
        if part.opens_in is not None:
            body = f"{FENCE}{part.opens_in}\n{body}"
        if part.closes_in is not None:
            body += _CLOSE
        tail = CONTINUES_TAIL if i < len(parts) - 1 else ""
        rendered.append(head + body + tail)
    return rendered


def _cut(text: str, limit: int) -> list[_Part]:
    """Greedy line packing; a fence open at a cut is closed here and reopened in the next part."""
    parts: list[_Part] = []
    fence: str | None = None
    current = _Part(opens_in=None)
    size = 0

    def budget(part: _Part) -> int:
        reopen = len(FENCE) + len(part.opens_in) + 1 if part.opens_in is not None else 0
        return limit - _HEAD_RESERVE - len(CONTINUES_TAIL) - len(_CLOSE) - reopen

    for line in text.split("\n"):
        pieces = _pieces(line, budget(_Part(opens_in=fence if fence is not None else None)) - 1) or [""]
        for piece in pieces:
            if current.lines and size + len(piece) + 1 > budget(current):
                current.closes_in = fence
                parts.append(current)
                current, size = _Part(opens_in=fence), 0
            current.lines.append(piece)
            size += len(piece) + 1
        stripped = line.strip()
        if stripped.startswith(FENCE):
            fence = stripped[len(FENCE):].strip() if fence is None else None
    current.closes_in = fence
    parts.append(current)
    return parts


def _pieces(line: str, width: int) -> list[str]:
    width = max(width, 1)
    return [line[i:i + width] for i in range(0, len(line), width)]
