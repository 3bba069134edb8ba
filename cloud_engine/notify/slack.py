"""A notice as a Slack incoming-webhook message: Block Kit with a plain-text fallback.

Why its own module: Slack reads `<...>` as links and mentions (`<!channel>` pings everyone)
and `&` as an entity, so every piece of text from users (project names, reject reasons,
errors) is escaped here, the three characters Slack documents, and nowhere else. Slack's
own limits apply: a header's plain text is at most 150 characters, a section's text and a
context element's text at most 3000, and a message at most 50 blocks; `text` is the
notification fallback that phones and screen readers show.
"""

from __future__ import annotations

from typing import Any

from cloud_engine.notify.events import NotifyEvent

HEADER_MAX = 150
SECTION_MAX = 3000
FALLBACK_MAX = 3000  # Slack accepts 40 000, but truncates display long before; the section carries the rest

_TITLES = {
    NotifyEvent.PLAN_READY: "Plan ready",
    NotifyEvent.APPROVAL_NEEDED: "Approval needed",
    NotifyEvent.APPROVED: "Approved",
    NotifyEvent.REJECTED: "Rejected",
    NotifyEvent.APPLY_SUCCEEDED: "Applied",
    NotifyEvent.APPLY_FAILED: "Apply failed",
    NotifyEvent.BUDGET_THRESHOLD: "Budget alert",
    NotifyEvent.DRIFT_FOUND: "Drift found",
    NotifyEvent.FINOPS_SYNC_FAILED: "FinOps sync failed",
    NotifyEvent.ANOMALY_FOUND: "Cost anomaly",
}


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: `&`, `<` and `>` become entities, so user text never links or pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut (never inside an entity such as `&amp;`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def slack_message(notice: dict[str, Any]) -> dict[str, Any]:
    """The Slack message for one notice: a header, the text, and a context line naming where it happened."""
    event = NotifyEvent(notice["event"])
    title = _TITLES[event] + (f": {notice['project']}" if notice.get("project") else "")
    body = escape(str(notice["text"]))
    where = [f"*{event.value}*"]
    if notice.get("session_id") is not None:
        where.append(f"deployment #{int(notice['session_id'])}")
    if notice.get("at"):
        where.append(escape(str(notice["at"])))
    return {
        "text": _cut(body, FALLBACK_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_MAX), "emoji": False}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, SECTION_MAX)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(" · ".join(where), SECTION_MAX)}]},
        ],
    }
