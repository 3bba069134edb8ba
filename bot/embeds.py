"""Renderers: engine objects in, Discord embeds out, always inside Discord's limits.

Why one module: every embed passes through `fit_embed`, and every piece of user text
through `safe`, in one place. Renderers decide nothing; they show what the engine returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import discord

from bot.embeds_scan import plumbing_line, scan_line, scan_lines, suppressions
from bot.limits import code, fit_embed, fit_lines, safe, truncate
from cloud_engine.core.approvals import DEFAULT_SOURCE, LEGACY_SOURCE, ApprovalStatus, RuleProgress
from cloud_engine.core.audit_export import AuditExport
from cloud_engine.core.lock_admin import HeldLock, UnlockResult
from cloud_engine.core.models import Project, Session, SessionResource, State, ValidationResult
from cloud_engine.core.project_costs import ProjectCosts
from cloud_engine.core.reasons import Rejection
from cloud_engine.core.records import AuditEntry, Grant, GuildStats, QuotaUsage
from cloud_engine.core.role_map import RoleMap

__all__ = ["STATE_COLOURS", "approval_lines", "approve_reply", "audit", "audit_export_note", "costs", "grants", "health",
           "lobby", "locks", "policies", "project_card", "scan_lines", "suppressions", "role_maps", "project_list", "quota", "run_summary", "sessions", "stats", "target_line", "unlocked",
           "validation"]

STATE_COLOURS: dict[State, discord.Colour] = {
    State.DRAFT: discord.Colour.light_grey(), State.VALIDATING: discord.Colour.blurple(),
    State.PLANNING: discord.Colour.blurple(), State.PLAN_READY: discord.Colour.gold(),
    State.APPROVED: discord.Colour.teal(), State.APPLYING: discord.Colour.orange(),
    State.APPLIED: discord.Colour.green(), State.FAILED: discord.Colour.red(),
    State.CANCELLED: discord.Colour.dark_grey(), State.EXPIRED: discord.Colour.dark_grey(),
}
_ICON = {"deny": "⛔", "require_approval": "🔐", "warn": "⚠️"}
_CHANGE_WORDS = {"create": "create", "update": "update in place", "replace": "REPLACE (destroy, then create)",
                 "delete": "DESTROY", "no-op": "no change", "read": "read"}


def _money(value: float) -> str:
    return f"${value:,.2f}"


def target_line(project: Project) -> str:
    """Say plainly where Terraform will act; the sandbox must never look like a real cloud."""
    if project.target == "sandbox":
        return "🧪 **SANDBOX**: nothing is created in a real cloud (Terraform runs against null resources)."
    return f"☁️ **{project.provider.upper()}** in `{project.region}`: real resources, real costs."


def _resource_line(res: SessionResource) -> str:
    if res.action == "delete":
        return f"🗑️ `{res.kind}/{safe(res.name)}`: destroy"
    detail = res.spec.machine_type or res.spec.tier or res.spec.storage_class or res.spec.cidr or ""
    extra = f" {safe(detail)}" if detail else ""
    return f"➕ `{res.kind}/{safe(res.name)}`{extra}: {_money(res.cost_monthly)}/mo"


def _plan_lines(summary: Mapping[str, Any]) -> list[str]:
    lines = [f"**{summary.get('add', 0)}** add · **{summary.get('change', 0)}** change · "
             f"**{summary.get('replace', 0)}** replace · **{summary.get('destroy', 0)}** destroy"]
    if plumbing := summary.get("plumbing"):  # before the changes: a long plan's list is cut, these are not
        lines.append(plumbing_line(plumbing, summary.get("plumbing_change")))
    if scan := summary.get("scan"):
        lines.append(scan_line(scan))
    for change in summary.get("changes") or []:
        action = str(change.get("action", "?"))
        forced = change.get("forced_by") or []
        paths = truncate(", ".join(map(str, forced)).replace("`", "'"), 120)
        why = f" (forced by `{paths}`)" if forced else ""
        lines.append(f"• `{change.get('kind', '?')}/{safe(change.get('name', '?'))}`: "
                     f"{_CHANGE_WORDS.get(action, safe(action))}{why}")
    return lines


def _mentions(user_ids: Iterable[int]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids)


def _rule_line(progress: RuleProgress) -> str:
    rule = progress.rule
    line = f"{len(progress.counted)} of {rule.approvals} approval{'s' if rule.approvals > 1 else ''}"
    if progress.counted:
        line += f": {_mentions(progress.counted)}"
    if rule.source not in (DEFAULT_SOURCE, LEGACY_SOURCE):
        kind = "rule" if rule.source.startswith("builtin:") else "policy"
        line += f" ({kind} **{safe(rule.source, 80)}**)"
    if progress.met:
        return f"✅ {line}"
    who = f"a **{rule.role.value}**" + (f" with the role <@&{rule.discord_role}>" if rule.discord_role else "") \
        + (" other than the author" if rule.must_differ else "")
    more = f"{progress.missing} more" if progress.counted else str(progress.missing)
    return f"🔐 {line} · still needs {more}: {who} may approve"


def approval_lines(status: ApprovalStatus) -> list[str]:
    """One line per approval rule: '1 of 2 approvals: @alice' and who may still approve."""
    return [_rule_line(p) for p in status.progress]


def approve_reply(session: Session, status: ApprovalStatus | None) -> str:
    """What the approver is told: approved, or how many approvals the plan still waits for."""
    if session.state != State.PLAN_READY or status is None or status.complete:
        return f"Approved deployment #{session.id}; its author can now **Apply**."
    return (f"Your approval of deployment #{session.id} is recorded; it needs more before **Apply**:\n"
            + "\n".join(approval_lines(status)))


def lobby(session: Session, project: Project, quotas: Sequence[QuotaUsage] | None = None, *,
          rejection: Rejection | None = None, approval: ApprovalStatus | None = None) -> discord.Embed:
    """The deployment lobby: what will change, where, for how much, and what stands in the way."""
    embed = discord.Embed(title=f"Deployment #{session.id} · {project.name}", colour=STATE_COLOURS[session.state],
                          description=f"{target_line(project)}\nState: **{session.state.value}** · "
                                      f"purpose: {safe(session.purpose, 200)} · by <@{session.user_id}>")
    total = sum(r.cost_monthly for r in session.resources if r.action == "upsert")
    plumbing = float((session.plan_summary or {}).get("plumbing_change") or 0)  # as the estimate counts it
    total_note = f" incl. {'+' if plumbing > 0 else '-'}{_money(abs(plumbing))} plumbing" if plumbing else ""
    embed.add_field(name=f"Resources ({len(session.resources)}) · {_money(total + plumbing)}/mo{total_note}",
                    value=fit_lines((_resource_line(r) for r in session.resources),
                                 empty="None yet: press **Add resource**."), inline=False)
    if session.reservations:
        usage = {row.name: row for row in quotas or []}
        embed.add_field(name="Quota reserved", inline=False, value=fit_lines(
            f"`{name}` +{n}" + (f" ({usage[name].used}/{usage[name].limit_value} used)" if name in usage else "")
            for name, n in sorted(session.reservations.items())))
    if session.violations:
        embed.add_field(name="Policy findings", inline=False, value=fit_lines(
            f"{_ICON.get(v.get('action', ''), '•')} {safe(v.get('message', ''), 300)}" for v in session.violations))
    if session.plan_summary:
        embed.add_field(name="Plan", value=fit_lines(_plan_lines(session.plan_summary)), inline=False)
        if found := scan_lines(session.plan_summary.get("scan")):
            embed.add_field(name="Security scan", value=fit_lines(found), inline=False)
    if approval is not None and not approval.plain:
        embed.add_field(name="Approvals", value=fit_lines(approval_lines(approval)), inline=False)
    elif session.needs_approval:
        embed.add_field(name="Approval", value="A policy requires a **CloudAdmin** to approve this plan.", inline=False)
    if rejection is not None:
        embed.add_field(name="Plan rejected", inline=False,
                        value=f"<@{rejection.by}>: {safe(rejection.reason, 300)}\nChange it, then **Plan** again.")
    if session.approved_by:
        approvers = approval.approver_ids if approval is not None and session.state == State.APPROVED else ()
        embed.add_field(name="Approved by", value=_mentions(approvers) if len(approvers) > 1 else
                        f"<@{session.approved_by}>", inline=True)
    if session.error:
        embed.add_field(name="Warning" if session.state == State.APPLIED else "Error", value=f"```text\n{truncate(session.error, 900, keep='tail')}\n```", inline=False)
    embed.set_footer(text=f"budget {_money(project.budget_monthly)}/mo · updated")
    embed.timestamp = session.updated_at
    return fit_embed(embed)


def validation(result: ValidationResult) -> discord.Embed:
    ok = "✅ Passed" if result.ok else "⛔ Blocked"
    embed = discord.Embed(title=f"Validation: {ok}", colour=discord.Colour.green() if result.ok else discord.Colour.red(),
                          description=f"This change: **{_money(result.cost_monthly)}/mo** · project after: "
                                      f"**{_money(result.project_monthly_after)}/mo** of "
                                      f"{_money(result.budget_monthly) if result.budget_monthly else 'no budget'}")
    findings = [*result.violations, *result.warnings]
    embed.add_field(name="Findings", inline=False, value=fit_lines(
        (f"{_ICON.get(v.action, '•')} {safe(v.message, 300)} ({safe(v.policy)})" for v in findings), empty="None"))
    embed.add_field(name="Cost lines", inline=False, value=fit_lines(
        f"`{code(line.resource)}` {_money(line.monthly)}/mo ({safe(line.detail, 80)})" for line in result.cost_lines))
    if result.needs_approval:
        embed.add_field(name="Approval", value="A CloudAdmin must approve the plan.", inline=False)
    embed.set_footer(text=f"state now {result.state.value}")
    return fit_embed(embed)


def project_card(project: Project) -> discord.Embed:
    embed = discord.Embed(title=f"Project {project.name}", description=target_line(project),
                          colour=discord.Colour.blurple())
    embed.add_field(name="Provider", value=project.provider)
    embed.add_field(name="Region", value=project.region)
    embed.add_field(name="Budget", value=f"{_money(project.budget_monthly)}/mo" if project.budget_monthly else "none")
    return fit_embed(embed)


def project_list(projects: Sequence[Project]) -> discord.Embed:
    return fit_embed(discord.Embed(title=f"Projects ({len(projects)})", colour=discord.Colour.blurple(), description=fit_lines(
        (f"**{p.name}** · {p.provider} `{p.region}` · {'🧪 sandbox' if p.target == 'sandbox' else '☁️ cloud'}"
         f" · budget {_money(p.budget_monthly)}" for p in projects), limit=4000,
        empty="No projects yet: `/cloud-init`.")))


def sessions(items: Sequence[Session], title: str) -> discord.Embed:
    return fit_embed(discord.Embed(title=title, colour=discord.Colour.blurple(), description=fit_lines(
        (f"`#{s.id}` **{s.state.value}** · project {s.project_id} · <@{s.user_id}> · {safe(s.purpose, 60)}"
         for s in items), limit=4000, empty="No deployments.")))


def quota(rows: Sequence[QuotaUsage]) -> discord.Embed:
    embed = discord.Embed(title="Server quotas", colour=discord.Colour.blurple())
    embed.description = fit_lines((f"`{r.name}`: {r.used} used + {r.reserved} reserved / {r.limit_value}"
                                for r in rows), limit=4000)
    return fit_embed(embed)


def stats(data: GuildStats) -> discord.Embed:
    embed = discord.Embed(title="Cloud Engine stats", colour=discord.Colour.blurple())
    embed.add_field(name="Projects", value=str(data.projects))
    embed.add_field(name="Resources", value=str(data.resources))
    embed.add_field(name="Monthly cost", value=_money(float(data.monthly_cost)))
    embed.add_field(name="Sessions by state", inline=False,
                    value=fit_lines(f"{k}: {v}" for k, v in data.by_state.items()))
    embed.add_field(name="Top users", inline=False, value=fit_lines(
        f"<@{u.user_id}>: {u.sessions} sessions, {u.applied} applied" for u in data.by_user))
    return fit_embed(embed)


def _audit_time(ts: str) -> str:
    """An audit row's `ts` (ISO 8601, UTC) as a Discord timestamp; text that is not a time is shown as written."""
    try:
        at = datetime.fromisoformat(ts)
    except ValueError:
        return safe(ts, 40)
    return discord.utils.format_dt(at if at.tzinfo else at.replace(tzinfo=UTC), "f")


def audit(rows: Sequence[AuditEntry]) -> discord.Embed:
    """Recent audit rows, each led by when it happened as a Discord timestamp (shown in the reader's time zone)."""
    def line(r: AuditEntry) -> str:
        move = f" {r.from_state or ''}→{r.to_state}" if r.to_state else ""
        target = f" {r.target_type}:{r.target_id}" if r.target_type else ""
        who = f"<@{r.actor_id}>" if r.actor_id is not None else "Cloud Engine"  # the engine's own (expiry, recovery)
        return f"{_audit_time(r.ts)} {who} **{safe(r.action)}**{target}{move}"
    return fit_embed(discord.Embed(title="Audit log", colour=discord.Colour.dark_grey(),
                                   description=fit_lines(map(line, rows), limit=4000, empty="Nothing recorded.")))


def audit_export_note(export: AuditExport, limit_bytes: int) -> str:
    """What an audit export attachment holds, and where to go on when Discord's file limit cut it."""
    if export.total == 0:
        return "Nothing recorded in that period."
    text = (f"Audit log export: {export.rows} row(s), #{export.first_id} to #{export.last_id}, each with its "
            f"`prev_hash` and `row_hash` (check with `python main.py audit verify`).")
    if export.truncated:
        text += (f"\nThe file holds the oldest {export.rows} of {export.total} rows that fit Discord's "
                 f"{limit_bytes // (1024 * 1024)} MiB limit; run again with `since:{export.next_since}` for the rest.")
    return text


def locks(items: Sequence[HeldLock]) -> discord.Embed:
    """Held project locks: project, holding deployment, holder, since when, its state and whether Terraform runs."""
    def line(lock: HeldLock) -> str:
        state = lock.state.value if lock.state else "session gone"
        running = " · Terraform running" if lock.running else ""
        return (f"**{safe(lock.project)}** · deployment #{lock.session_id} · <@{lock.holder_id}> · since "
                f"{discord.utils.format_dt(lock.since, 'R')} · {state}{running}")
    return fit_embed(discord.Embed(title="Project locks", colour=discord.Colour.orange() if items else
                                   discord.Colour.green(),
                                   description=fit_lines(map(line, items), limit=4000, empty="No project is locked.")))


def unlocked(result: UnlockResult) -> str:
    """The reply to `/cloud-unlock`: whose lock went, and what became of the session holding it."""
    text = f"Released the lock on **{safe(result.project)}** held by deployment #{result.session_id} (<@{result.holder_id}>)."
    if result.session_ended and result.state is not None:
        text += f" The deployment is now **{result.state.value}**: {safe(result.reason)}"
    else:
        state = result.previous_state.value if result.previous_state else "gone"
        text += f" The deployment had already ended ({state}); only the lock was left behind."
    return text


def costs(estimate: ProjectCosts) -> discord.Embed:
    """/cloud-costs: the applied resources plus the network plumbing they need, the total validation counts.

    The plumbing gets its own line, worded as the lobby words it, so the project estimate and
    the lobby never disagree about what the project costs.
    """
    project, resources, total = estimate.project, estimate.resources, estimate.total_monthly
    lines = [target_line(project), f"Estimated **{_money(total)}/mo** for {len(resources)} resource(s)"
             + (f" incl. {_money(estimate.plumbing_monthly)} network plumbing" if estimate.plumbing_monthly else "")]
    if estimate.plumbing:
        lines.append(plumbing_line([asdict(item) for item in estimate.plumbing]))
    if estimate.unpriced:
        lines.append(f"🔌 Network plumbing not priced: {safe(estimate.unpriced, 300)}")
    embed = discord.Embed(title=f"Costs · {project.name}", colour=discord.Colour.gold(),
                          description=fit_lines(lines, limit=4000))
    if project.budget_monthly:
        embed.add_field(name="Budget", value=f"{_money(project.budget_monthly)}/mo "
                                             f"({total / project.budget_monthly:.0%} used)", inline=False)
    embed.add_field(name="By resource", inline=False, value=fit_lines(
        f"`{r.kind}/{safe(r.name)}` {_money(r.cost_monthly)}/mo"
        for r in sorted(resources, key=lambda r: -r.cost_monthly)))
    return fit_embed(embed)


def run_summary(session: Session, verb: str, *, duration_s: float, lines: int, api_calls: int) -> discord.Embed:
    ok = session.state in (State.PLAN_READY, State.APPLIED)
    embed = discord.Embed(title=f"{verb.title()} {'finished' if ok else 'did not finish'} · deployment #{session.id}",
                          colour=discord.Colour.green() if ok else discord.Colour.red(),
                          description=f"State: **{session.state.value}** · {duration_s:.0f}s · {lines} lines")
    if session.plan_summary:
        embed.add_field(name="Changes", value=fit_lines(_plan_lines(session.plan_summary)), inline=False)
    embed.add_field(name="Monthly cost", value=_money(session.cost_monthly))
    if session.error:
        embed.add_field(name="Warning" if session.state == State.APPLIED else "Error", value=f"```text\n{truncate(session.error, 900, keep='tail')}\n```", inline=False)
    embed.set_footer(text=f"{api_calls} Discord calls for the live log")
    return fit_embed(embed)


def health(data: Mapping[str, Any]) -> discord.Embed:
    healthy = str(data.get("db_ok", "")).startswith("ok") and data.get("terraform") != "not found"
    embed = discord.Embed(title="Cloud Engine health", colour=discord.Colour.green() if healthy else discord.Colour.orange())
    for name, value in data.items():
        embed.add_field(name=name.replace("_", " "), value=safe(value, 200) if value not in (None, "") else "—")
    return fit_embed(embed)


def grants(rows: Sequence[Grant]) -> discord.Embed:
    def line(r: Grant) -> str:
        until = f" until {r.expires_at.isoformat()[:16]}" if r.expires_at else ""
        return f"<@{r.user_id}> **{r.role.value}**{until}{'' if r.active else ' (expired)'}"
    return fit_embed(discord.Embed(title="Grants", description=fit_lines(map(line, rows), limit=4000)))


def policies(items: Sequence[Any]) -> discord.Embed:
    return fit_embed(discord.Embed(title="Policies", colour=discord.Colour.dark_gold(), description=fit_lines(
        (f"`{p.priority}` **{safe(p.name)}** {p.type} `{code(p.pattern)}` → {p.action} {safe(p.params, 200)}"
         for p in items), limit=4000, empty="No policies.")))


def role_maps(items: Sequence[RoleMap]) -> discord.Embed:
    """Discord roles and the Cloud role their members hold at least."""
    return fit_embed(discord.Embed(title="Discord role map", colour=discord.Colour.blurple(), description=fit_lines(
        (f"<@&{m.discord_role_id}> → **{m.cloud_role.value}** · by <@{m.mapped_by}> "
         f"{discord.utils.format_dt(m.mapped_at, 'R')}" for m in items), limit=4000,
        empty="No Discord role is mapped: `/cloud-role-map`.")))
