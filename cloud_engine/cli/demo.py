"""`main.py demo`: an offline end-to-end run on the embedded defaults.

It drives the same services the bot uses, on a fresh SQLite file under `data/demo/`, the
sandbox Terraform target (a real Terraform binary with the null provider) and the rules
advisor, and prints what happened at each step. It exits non-zero if any step fails, so
it doubles as a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from cloud_engine.cli import log_level
from cloud_engine.core import CloudOrchestrator, FirewallRule, ResourceSpec, Subnet
from cloud_engine.core.models import Project, Session
from cloud_engine.core.policies import PolicySpec
from cloud_engine.errors import PermissionDenied
from cloud_engine.finops.cli_support import add_guild_option, guild_of
from cloud_engine.iac.binary import find_terraform, terraform_env
from cloud_engine.notify import SIGNATURE_HEADER, NotificationService, NotifyEvent, verify
from cloud_engine.services import Services
from cloud_engine.settings import Settings

ADMIN, DEV, OPS = 1001, 2002, 3003
TERRAFORM_SUMMARIES = ("Plan:", "No changes.", "Apply complete!")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("demo", help="offline end-to-end demo (SQLite, sandbox Terraform, rules advisor)")
    parser.add_argument("--dir", default="data/demo", help="where the demo keeps its database and Terraform roots")
    parser.add_argument("--keep", action="store_true", help="do not wipe the demo folder first")
    parser.add_argument("--log-level", type=log_level, default=None,
                        help="JSON log level on stderr (default WARNING keeps the story readable; --verbose: INFO)")
    add_guild_option(parser)
    parser.set_defaults(handler=handle)


def _fresh_dir(base: Path, *, keep: bool) -> None:
    if base.exists() and not keep:
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)


def _section(title: str) -> None:
    print(f"\n== {title}")


def _table(rows: Sequence[Sequence[str]], *, right: Sequence[int] = (), indent: str = "  ") -> None:
    """Print rows as aligned columns (columns listed in `right` aligned right, e.g. amounts)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        print(indent + "  ".join(cells).rstrip())


def _co2e(kg: float) -> str:
    """One sign convention everywhere (the CLI's and Discord's): negative is less CO2e emitted."""
    return f"{kg:+,.1f} kg"


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    base = Path(args.dir)
    guild = guild_of(args, settings)
    await asyncio.to_thread(_fresh_dir, base, keep=args.keep)
    settings = settings.model_copy(update={
        "database_path": str(base / "cloud.db"), "terraform_runs_dir": base / "terraform_runs",
        "finops_db_path": str(base / "finops.duckdb"), "terraform_target": "sandbox",
        "groq_api_key": None, "gemini_api_key": None})
    services = await Services.open(settings)
    try:
        for step in STEPS:
            await step(services, base, guild)
    finally:
        await services.close()
    print(f"\nDemo finished: every step above ran for real and offline. Its data is in {base}/.")
    return 0


async def core_and_terraform(services: Services, base: Path, guild: int) -> None:
    engine: CloudOrchestrator = services.engine
    _section("Access, quotas and a project")
    await engine.grant(guild, ADMIN, ADMIN, "CloudAdmin")
    await engine.grant(guild, ADMIN, DEV, "CloudUser")
    await engine.set_quota(guild, ADMIN, "compute.instances", 6)
    print(f"User {ADMIN} is CloudAdmin, user {DEV} is CloudUser; the server may run at most 6 VMs.")
    project = await engine.create_project(guild, DEV, name="demo-web", provider="gcp", region="europe-west1",
                                          budget_monthly=400, approver_must_differ=True)
    print(f"Project {project.name}: {project.provider.upper()} in {project.region}, budget $400.00/month, on the "
          f"{project.target} target: the real GCP configuration is generated and kept, and Terraform runs an offline "
          "mirror of it made of null resources.")

    _section("Session 1: add resources, then validate them (permissions, quotas, policies, budget)")
    session = await engine.start_session(project.id, DEV)
    specs = [
        ResourceSpec(kind="network", name="app-net", cidr="10.20.0.0/16",
                     subnets=[Subnet(name="web", cidr="10.20.1.0/24"), Subnet(name="data", cidr="10.20.2.0/24")]),
        ResourceSpec(kind="firewall", name="allow-https", network="app-net",
                     rules=[FirewallRule(ports=[443], sources=["0.0.0.0/0"])]),
        ResourceSpec(kind="vm", name="web-1", machine_type="e2-small", network="app-net",
                     tags={"env": "demo", "owner": "platform"}, description='Web tier "blue" ${not-interpolated}'),
        ResourceSpec(kind="database", name="orders", tier="db-g1-small", storage_gb=20, network="app-net",
                     tags={"env": "demo", "owner": "platform"}),
        ResourceSpec(kind="bucket", name="demo-assets", storage_gb=100, tags={"env": "demo"}),
    ]
    rows = [("Kind", "Name", "Cost/month")]
    for spec in specs:
        added = await engine.add_resource(session.id, DEV, spec)
        rows.append((added.kind, added.name, f"${added.cost_monthly:,.2f}"))
    _table(rows, right=(2,))
    result = await engine.validate(session.id, DEV)
    verdict = "Validation passed" if result.ok else "Validation failed"
    print(f"{verdict}: this session costs ${result.cost_monthly:,.2f}/month, which brings the project to "
          f"${result.project_monthly_after:,.2f} of its ${result.budget_monthly:,.2f} budget.")
    for v in [*result.violations, *result.warnings]:
        print(f"  {v.action}: {v.message} (policy {v.policy})")
    print("Quota reserved for it until it is applied or abandoned:")
    _table([("Quota", "Reserved"), *((name, str(n)) for name, n in sorted(result.reservations.items()))], right=(1,))

    _section("Plan: terraform init and plan, streamed, logged and saved for the apply")
    session = await engine.plan(session.id, DEV)
    _print_plan(services, project, session)

    _section("Plan review before approval: deterministic findings, ranked by the rules engine")
    review = await services.review_plan(session.id)
    print(f"{review.summary} (written by {review.written_by})")
    _table([("Severity", "Finding", "Where", "Evidence"),
            *((f.severity, f.code, f.address, f.evidence) for f in review.findings[:6])])
    if review.citations:
        print("Sources: " + ", ".join(review.citations[:5]))

    _section("Approve (this project needs an approver other than the author), then apply the saved plan")
    try:
        await engine.approve(session.id, DEV)
    except PermissionDenied:
        print(f"User {DEV}, the author, tried to approve their own plan: refused, as the project requires.")
    await engine.approve(session.id, ADMIN)
    print(f"User {ADMIN} approved it.")
    session = await engine.apply(session.id, DEV)
    _print_run(services, project, session, "apply")

    _section("Session 2: resize the VM (in place) and move the bucket (a replacement), seen before applying")
    edit = await engine.start_session(project.id, DEV)
    await engine.add_resource(edit.id, DEV, specs[2].model_copy(update={"machine_type": "e2-medium"}))
    await engine.add_resource(edit.id, DEV, specs[4].model_copy(update={"region": "europe-west4"}))
    edit = await engine.plan(edit.id, DEV)
    _print_plan(services, project, edit)
    await engine.approve(edit.id, ADMIN)
    edit = await engine.apply(edit.id, DEV)
    _print_run(services, project, edit, "apply")

    _section("The project's Terraform root is a git repository: one commit per apply")
    for commit in await engine.deployer.history(project):  # type: ignore[attr-defined]
        print(f"  {commit.sha[:10]}  {commit.message.splitlines()[0]}")
    print("\nQuota in use:")
    _table([("Quota", "Used", "Limit"), *((q.name, str(q.used), str(q.limit_value))
                                         for q in await engine.quota_usage(guild) if q.used or q.reserved)],
           right=(1, 2))
    stats = await engine.stats(guild)
    states = ", ".join(f"{count} {state.lower()}" for state, count in sorted(stats.by_state.items()))
    print(f"Sessions: {states}. The server now runs {stats.resources} resources for "
          f"${stats.monthly_cost:,.2f}/month.")
    services._extras["demo_project"] = project


async def team(services: Services, base: Path, guild: int) -> None:
    """A signed webhook hears the team's events; drift made out of band is found and reconciled."""
    engine: CloudOrchestrator = services.engine
    project: Project = services._extras["demo_project"]
    _section("Team: a signed webhook hears what happens; drift is found and reconciled")
    received: list[tuple[bytes, str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    lab = services.settings.model_copy(update={"webhook_allow_private": True})  # the receiver is on loopback
    notes = NotificationService(services.db, lab, engine.access, engine.clock)
    try:
        sub, secret = await notes.subscribe_webhook(
            guild, ADMIN, f"http://127.0.0.1:{port}/hook",
            events=(NotifyEvent.DRIFT_FOUND, NotifyEvent.APPROVAL_NEEDED, NotifyEvent.APPLY_SUCCEEDED))
        print(f"Webhook #{sub.id} (a receiver on this machine; loopback is allowed for the demo only) is told of "
              "drift_found, approval_needed and apply_succeeded, each POST signed with its own HMAC-SHA256 secret.")
        await engine.grant(guild, ADMIN, OPS, "CloudAdmin")
        await engine.add_policy(guild, ADMIN, PolicySpec(
            name="two-admins-for-vms", type="cost", action="require_approval", pattern="vm/*",
            params={"max_monthly_usd": 0, "approvals": 2, "approver_role": "CloudAdmin"}))
        print(f"Policy two-admins-for-vms: any change to a VM needs two different CloudAdmins (users {ADMIN} and "
              f"{OPS}), never its author.")
        root = Path(services.settings.terraform_runs_dir) / str(project.id)
        await _forget_in_state(services, root, "vm__web-1")
        print("Someone runs `terraform state rm` on vm web-1 by hand: Terraform no longer knows it exists.")
        checked = await engine.drift.check(guild, DEV, project.name)
        if checked.report is None:
            print(f"Drift check: {checked.outcome}.")
            return
        print(f"Drift check: report #{checked.report.id}, {checked.report.summary()}. A Reconcile button opens:")
        session = await engine.drift.reconcile(guild, DEV, checked.report.id)
        session = await engine.plan(session.id, DEV)
        print(f"  session {session.id} ({session.purpose}), planned: {(session.plan_summary or {}).get('text')}.")
        await engine.approve(session.id, ADMIN)
        status = await engine.approval_status(session.id)
        if status is not None:
            for progress in status.progress:
                print(f"  {len(progress.counted)} of {progress.rule.approvals} approvals ({progress.rule.source}): "
                      f"user {', user '.join(map(str, progress.counted)) or 'nobody yet'}; the lobby waits.")
        session = await engine.approve(session.id, OPS)
        session = await engine.apply(session.id, DEV)
        after = await engine.drift.check(guild, DEV, project.name)
        print(f"  approved by users {ADMIN} and {OPS}, then {session.state.value}; the next drift check is "
              f"{after.outcome}.")
        await notes.run_once()
        print("The webhook received:")
        for body, signature in received:
            notice = json.loads(body)
            check = "signature verified" if verify(secret, body, signature) else "SIGNATURE WRONG"
            print(f"  {notice['event']}: {notice['text']} ({check})")
    finally:
        await notes.close()
        await runner.cleanup()


async def _forget_in_state(services: Services, root: Path, resource: str) -> None:
    """`terraform state rm` of every mirror address of one user resource, as a person with a shell would."""
    state = json.loads(await asyncio.to_thread((root / "terraform.tfstate").read_text, "utf-8"))
    addresses = [f"null_resource.{r['name']}" for r in state.get("resources", [])
                 if r["name"] == resource or r["name"].startswith(f"{resource}__")]
    binary = find_terraform(services.settings.terraform_bin)
    proc = await asyncio.create_subprocess_exec(str(binary.path), "state", "rm", *addresses, cwd=root,
                                                env=terraform_env(), stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()


def _print_plan(services: Services, project: Project, session: Session) -> None:
    summary = session.plan_summary or {}
    if session.state.value != "PLAN_READY":
        print(f"The plan failed ({session.state.value}): {session.error}")
        return
    print(f"Plan ready: {summary.get('text')}.")
    rows = [("Change", "Resource", "Why")]
    for change in summary.get("changes", []):
        part = f" ({change['part'].replace(':', ' ')})" if change.get("part") and change.get("part") != "resource" \
            else ""
        why = ""
        if change.get("forced_by"):
            why = f"{', '.join(change['forced_by'])} cannot change in place"
        elif change.get("action") == "update" and change.get("changed"):
            why = f"{', '.join(change['changed'])} changes in place"
        rows.append((change["action"], f"{change['kind']} {change['name']}{part}", why))
    _table(rows)
    if scan := summary.get("scan"):
        if scan.get("scanned"):
            ids = sorted({str(f["check_id"]) for f in scan.get("findings", [])})
            found = f"{scan['failed']} open finding(s) ({', '.join(ids)})" if ids else "no open findings"
            print(f"Security scan of the {project.provider.upper()} configuration (Checkov {scan.get('version')}): "
                  f"{found}; {scan.get('passed')} checks passed, {scan.get('accepted')} failures accepted by "
                  "documented defaults (checkov-allowlist.txt).")
        else:
            print(f"Not scanned: {scan.get('reason')}.")
    _print_terraform_lines(services, project, session, "plan")


def _print_run(services: Services, project: Project, session: Session, phase: str) -> None:
    if session.state.value == "APPLIED":
        print(f"Applied: session {session.id} is APPLIED" + (f" (warning: {session.error})" if session.error else "."))
    else:
        print(f"The {phase} ended {session.state.value}: {session.error}")
    _print_terraform_lines(services, project, session, phase)


def _print_terraform_lines(services: Services, project: Project, session: Session, phase: str) -> None:
    """Terraform's own summary line from the run's log, and where that log is."""
    root = services.engine.deployer.workspace(project).root  # type: ignore[attr-defined]
    log = Path(root) / ".runs" / str(session.id) / f"{phase}.log"
    if not log.is_file():
        return
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
             if line.strip().startswith(TERRAFORM_SUMMARIES)]
    if lines:
        print(f"Terraform says (on the sandbox's null-resource mirror): {lines[-1]}")
    print(f"Terraform's full {phase} log: {log}")


async def advisor(services: Services, base: Path, guild: int) -> None:
    from cloud_engine.ai.schemas import AdviceRequest
    from cloud_engine.cli.advise import render as render_answer

    _section("Advisor: /cloud-advise with no API key set (the rules engine, grounded in knowledge/)")
    request = AdviceRequest(use_case="Customer-facing web app with a PostgreSQL database and file uploads",
                            provider="gcp", budget="low", security="enhanced", compliance="GDPR", model="auto")
    print(f'Question: "{request.use_case}" on {request.provider.upper()}, budget {request.budget}, security '
          f"{request.security}, compliance {request.compliance}.\n")
    answer = await (await services.advisor()).advise(request, guild_id=guild)
    print(render_answer(answer))


async def finops(services: Services, base: Path, guild: int) -> None:
    _section("FinOps: import a synthetic FOCUS export and metrics (3 providers, about 50 resources, 45 days)")
    svc = await services.finops()
    costs, metrics = await svc.ingest_synthetic(base / "finops-input", guild_id=guild)
    print(f"Cost lines: {costs.rows_read:,} read, {costs.rows_added:,} added. Metric points: {metrics.rows_read:,} "
          f"read, {metrics.rows_added:,} added (into server {guild}'s part of the ledger).")
    again = await svc.ingest_focus_file(base / "finops-input" / Path(costs.source_name).name, guild_id=guild)
    print(f"Importing the same export again adds {again.rows_added} rows and restates {again.rows_restated}: all "
          f"{again.rows_unchanged:,} are unchanged.")
    summary = await svc.cost_summary(by="provider", guild_id=guild)
    print(f"\nCost by provider, {summary.start} to {summary.end}:")
    _table([("Provider", "Effective cost", "Share"),
            *((g.key, _money(g.effective_cost, summary.currency), f"{g.share:.0%}") for g in summary.groups)],
           right=(1, 2))
    forecast = await svc.forecast(guild_id=guild)
    if forecast is not None:
        print(f"Month to date ({forecast.month}): {_money(forecast.month_to_date, forecast.currency)}; forecast for "
              f"the whole month: {_money(forecast.forecast_month_end, forecast.currency)}.")
    for anomaly in (await svc.anomalies(guild_id=guild)).items[:3]:
        print(f"Anomaly on {anomaly.day}: {anomaly.provider} {anomaly.service} cost "
              f"{_money(anomaly.amount, anomaly.currency)} where {_money(anomaly.expected, anomaly.currency)} was "
              f"expected (robust z-score {anomaly.robust_z:,.0f}).")

    _section("Top recommendations ($ per month at 730 h; CO2e per month, negative = less emitted)")
    recs = await svc.recommendations(guild_id=guild)
    print(f"{len(recs.items)} recommendations: {_money(recs.total_monthly_savings, recs.currency)}/month in savings "
          f"and CO2e {_co2e(recs.total_co2e_kg_month_delta)}/month in total. The top eight:")
    for number, rec in enumerate(recs.items[:8], start=1):
        print(f"\n  {number}. {rec.resource_name} ({rec.provider}, {rec.kind}): saves "
              f"{_money(rec.monthly_savings, rec.currency)}/month, CO2e {_co2e(rec.co2e_kg_month_delta)}/month, "
              f"confidence {rec.confidence:.0%}, risk {rec.risk.level}")
        print(f"     {_sentence(rec.action)}")
    review = await (await services.advisor()).review_finops(list(recs.items), summary)
    print(f"\nThe advisor's review (written by {review.written_by}):")
    for item in [review.effective_recommendation, *review.additional_recommendations[:3]]:
        if item is not None:
            flag = getattr(item, "flag", "ok")
            print(f"  - {item.resource}: {_sentence(item.action)} Saves "
                  f"{_money(item.monthly_savings or 0, item.currency)}/month; risk {item.risk}"
                  + ("" if flag == "ok" else f"; flagged {flag}") + ".")
    print(f"  Basis: {review.base_of_recommendations}")
    print(f"  Forecast: {review.cost_forecasting}")
    print(f"  Contracts: {review.contract_deal}")


def _sentence(text: str) -> str:
    """Text as a sentence: a capital first letter and a full stop at the end."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _money(value: float, currency: str | None) -> str:
    """An amount in its billing currency ($ for USD); amounts in different currencies are never added."""
    return f"${value:,.2f}" if currency in (None, "USD") else f"{value:,.2f} {currency}"


STEPS = [core_and_terraform, team, advisor, finops]
