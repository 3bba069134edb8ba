"""The lobby's security scan and network plumbing, and the suppression list, as Discord text.

Why apart from embeds.py: scanner output (check ids, Terraform addresses, file names) is
text Cloud Engine did not write, so every piece goes through `_code` or `safe` here, in one
place; embeds.py places these lines in the lobby and the run summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import discord

from bot.limits import fit_embed, fit_lines, safe
from cloud_engine.core.suppressions import Suppression

__all__ = ["plumbing_line", "scan_line", "scan_lines", "suppressed_findings", "suppressions"]


def _money(value: float) -> str:
    return f"${value:,.2f}"


def plumbing_line(items: Sequence[Mapping[str, Any]], change: object = None) -> str:
    """What the provider configuration adds that nobody named (NAT, gateways, flow logs), with its list price.

    `change` is what this session changes of it per month: the estimate and budget check include it.
    """
    monthly = sum(float(i.get("monthly_usd") or 0) for i in items)
    priced = [i for i in items if float(i.get("monthly_usd") or 0) > 0]
    named = ", ".join(f"`{_code(i.get('resource_type'), 60)}` {_money(float(i['monthly_usd']))}"
                      for i in priced[:3])  # Terraform type names the renderer wrote, shown as code
    counted = ("in the estimate" if change is None else
               f"this change {'+' if float(str(change)) >= 0 else '-'}{_money(abs(float(str(change))))}/mo, "
               "in the estimate")
    return (f"🔌 Network plumbing: {len(items)} resource(s), {_money(monthly)}/mo at list prices ({counted})"
            f"{': ' + named if named else ''}; traffic billed by use")


def _code(value: object, limit: int = 80) -> str:
    """Scanner text (check ids, Terraform addresses) inside a code span: no backtick can close it."""
    return str(value)[:limit].replace("`", "'")


def scan_line(scan: Mapping[str, Any]) -> str:
    """The plan's Checkov verdict in one line: open findings by check id, what is new and suppressed, or "not scanned"."""
    if not scan.get("scanned"):
        return f"🔎 **Not scanned**: {safe(scan.get('reason') or 'unknown reason', 200)}"
    ids = list(dict.fromkeys(str(f.get("check_id")) for f in scan.get("findings") or []))
    shown = ", ".join(f"`{_code(i, 40)}`" for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    verdict = f"**{scan.get('failed', 0)}** finding(s) to review: {shown}" if ids else "no findings"
    baseline, new = scan.get("baseline"), scan.get("new")
    if isinstance(baseline, Mapping) and new is None:
        verdict += f"; not compared: the last apply (#{baseline.get('session')}) was not scanned"
    elif new is not None:
        since = "since the last apply" if baseline else "(nothing applied yet)"
        verdict += f"; **{new} new** {since}"
    if suppressed := scan.get("suppressed_count"):
        verdict += f"; {suppressed} suppressed"
    return (f"🔎 Checkov: {verdict} ({scan.get('accepted', 0)} accepted by documented defaults; "
            "details in **Review**)")


def _finding_where(finding: Mapping[str, Any]) -> str:
    return (f"`{_code(finding.get('check_id'), 40)}` on `{_code(finding.get('resource'))}` "
            f"({_code(finding.get('file'), 60)}:{int(finding.get('line') or 0)})")


def scan_lines(scan: Mapping[str, Any] | None) -> list[str]:
    """The lobby's security-scan detail: each new open finding, and each suppressed one with its reason, who and until."""
    if not scan or not scan.get("scanned"):
        return []
    lines = [f"🆕 {_finding_where(f)}" for f in scan.get("findings") or [] if f.get("new")]
    for finding in scan.get("suppressed") or []:
        why = finding.get("suppressed") or {}
        until = str(why.get("until") or "")[:16].replace("T", " ")
        lines.append(f"🔕 {_finding_where(finding)} suppressed by <@{int(why.get('by') or 0)}> "
                     f"{'until ' + until + ' UTC' if until else 'until removed'}: {safe(why.get('reason') or '', 150)}")
    return lines


def suppressed_findings(scan: Mapping[str, Any] | None) -> str | None:
    """How many of the plan's findings a suppression hides, and which: None when there are none.

    Why say so: a review lists open findings only, so without this a reviewer cannot tell a
    clean plan from one whose findings an admin accepted; the reasons live in the suppressions.
    """
    count = int((scan or {}).get("suppressed_count") or 0)
    if not count:
        return None
    head = f"🔕 **{count}** suppressed (see `/cloud-policy suppressions`), not counted as findings:"
    return fit_lines([head, *(f"• {_finding_where(f)}: {safe((f.get('suppressed') or {}).get('reason') or '', 120)}"
                              for f in (scan or {}).get("suppressed") or [])])


def suppressions(items: Sequence[Suppression], now: datetime) -> discord.Embed:
    """The server's scan suppressions: id, check, resources, reason, who, until when (and which have expired)."""
    def line(s: Suppression) -> str:
        until = ("until removed" if s.expires_at is None else
                 f"{'expired' if not s.active(now) else 'until'} {discord.utils.format_dt(s.expires_at, 'f')}")
        return (f"`#{s.id}` `{_code(s.check_id, 64)}` on `{_code(s.resource_glob, 200)}` · <@{s.created_by}> · "
                f"{until}: {safe(s.reason, 200)}")
    return fit_embed(discord.Embed(title="Scan suppressions", colour=discord.Colour.dark_gold(), description=fit_lines(
        [line(s) for s in items], limit=4000, empty="No suppressions: `/cloud-policy suppress`.")))


