"""`main.py demo`: an offline end-to-end run on the embedded defaults.

It drives the same services the bot uses, on a fresh SQLite file under `data/demo/`, the
sandbox Terraform target (a real Terraform binary with the null provider) and the rules
advisor, and prints what happened at each step. It exits non-zero if any step fails, so
it doubles as a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from pathlib import Path

from cloud_engine.core import CloudOrchestrator, FirewallRule, ResourceSpec, Subnet
from cloud_engine.finops.cli_support import add_guild_option, guild_of
from cloud_engine.services import Services
from cloud_engine.settings import Settings

ADMIN, DEV = 1001, 2002


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="offline end-to-end demo (SQLite, sandbox Terraform, rules advisor)")
    parser.add_argument("--dir", default="data/demo", help="where the demo keeps its database and Terraform roots")
    parser.add_argument("--keep", action="store_true", help="do not wipe the demo folder first")
    parser.add_argument("--log-level", default="WARNING", help="JSON log level on stderr (default WARNING keeps the story readable)")
    add_guild_option(parser)
    parser.set_defaults(handler=handle)


def _fresh_dir(base: Path, *, keep: bool) -> None:
    if base.exists() and not keep:
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


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
    print("\nDemo finished: every step above ran for real, offline.")
    return 0


async def core_and_terraform(services: Services, base: Path, guild: int) -> None:
    engine: CloudOrchestrator = services.engine
    _section("Access, quotas and a project")
    await engine.grant(guild, ADMIN, ADMIN, "CloudAdmin")
    await engine.grant(guild, ADMIN, DEV, "CloudUser")
    await engine.set_quota(guild, ADMIN, "compute.instances", 6)
    project = await engine.create_project(guild, DEV, name="demo-web", provider="gcp", region="europe-west1",
                                          budget_monthly=400, approver_must_differ=True)
    print(f"project {project.name}: provider {project.provider}, region {project.region}, target "
          f"{project.target.upper()} (real GCP HCL is generated; Terraform runs the null-provider mirror)")

    _section("Session 1: add resources, validate (permissions, quotas, policies, budget)")
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
    for spec in specs:
        added = await engine.add_resource(session.id, DEV, spec)
        print(f"  + {added.kind:<9} {added.name:<12} ${added.cost_monthly:>8.2f}/month")
    result = await engine.validate(session.id, DEV)
    print(f"validation ok={result.ok}; session cost ${result.cost_monthly:.2f}/month; project after "
          f"${result.project_monthly_after:.2f} of budget ${result.budget_monthly:.2f}")
    for v in [*result.violations, *result.warnings]:
        print(f"  [{v.action}] {v.policy}: {v.message}")
    print("quota reservations:", result.reservations)

    _section("Plan (terraform init + plan -json -out, read as it streams and logged; show -json for edits)")
    session = await engine.plan(session.id, DEV)
    _print_plan(session)

    _section("Plan review before approval (deterministic findings, ranked by the rules engine)")
    review = await services.review_plan(session.id)
    print(f"{review.summary}  [written by {review.written_by}]")
    for finding in review.findings[:6]:
        print(f"  [{finding.severity}] {finding.code} {finding.address}: {finding.evidence}")
    if review.citations:
        print("  sources:", ", ".join(review.citations[:5]))

    _section("Approve (approver must differ from the author) and apply the saved plan")
    try:
        await engine.approve(session.id, DEV)
    except Exception as exc:  # the demo shows the refusal a user would see
        print(f"author approving their own plan: refused ({exc})")
    await engine.approve(session.id, ADMIN)
    session = await engine.apply(session.id, DEV)
    print(f"state: {session.state}  {session.error or ''}")

    _section("Session 2: edit a VM in place, replace another field, see the impact before applying")
    edit = await engine.start_session(project.id, DEV)
    await engine.add_resource(edit.id, DEV, specs[2].model_copy(update={"machine_type": "e2-medium"}))
    await engine.add_resource(edit.id, DEV, specs[4].model_copy(update={"region": "europe-west4"}))
    edit = await engine.plan(edit.id, DEV)
    _print_plan(edit)
    await engine.approve(edit.id, ADMIN)
    edit = await engine.apply(edit.id, DEV)
    print(f"state: {edit.state}")

    _section("Project root: git log (one commit per apply)")
    for commit in await engine.deployer.history(project):  # type: ignore[attr-defined]
        print(f"  {commit.sha[:10]} {commit.message.splitlines()[0]}")
    print("\nquota use:", {q["name"]: f"{q['used']}/{q['limit_value']}" for q in await engine.quota_usage(guild)
                           if q["used"] or q["reserved"]})
    stats = await engine.stats(guild)
    print(f"stats: {stats['by_state']}, {stats['resources']} resources, ${stats['monthly_cost']:.2f}/month")
    services._extras["demo_project"] = project


def _print_plan(session) -> None:
    summary = session.plan_summary or {}
    print(f"state: {session.state}; plan: {summary.get('text')} (target: {summary.get('target')})")
    for change in summary.get("changes", []):
        forced = f" (forced by {', '.join(change.get('forced_by') or [])})" if change.get("forced_by") else ""
        changed = f" changed: {', '.join(change.get('changed') or [])}" if change.get("action") == "update" else ""
        part = f" [{change['part']}]" if change.get("part") and change.get("part") != "resource" else ""
        print(f"  {change['action']:<8} {change['kind']}/{change['name']}{part}{forced}{changed}")
    if session.error:
        print("error:", session.error)


async def advisor(services: Services, base: Path, guild: int) -> None:
    from cloud_engine.ai.schemas import AdviceRequest
    from cloud_engine.cli.advise import render as render_answer

    _section("Advisor: /cloud-advise with no API key (rules engine, grounded in knowledge/)")
    request = AdviceRequest(use_case="Customer-facing web app with a PostgreSQL database and file uploads",
                            provider="gcp", budget="low", security="enhanced", compliance="GDPR", model="auto")
    answer = await (await services.advisor()).advise(request, guild_id=guild)
    print(render_answer(answer))


async def finops(services: Services, base: Path, guild: int) -> None:

    _section("FinOps: ingest a synthetic FOCUS export and metrics (3 providers, ~50 resources, 45 days)")
    svc = await services.finops()
    costs, metrics = await svc.ingest_synthetic(base / "finops-input", guild_id=guild)
    print(f"costs: {costs.rows_read} rows read, {costs.rows_added} added; metrics: {metrics.rows_read} read, "
          f"{metrics.rows_added} added (server {guild}'s part of the ledger)")
    again = await svc.ingest_focus_file(base / "finops-input" / Path(costs.source_name).name, guild_id=guild)
    print(f"re-import of the same export: {again.rows_added} rows added, {again.rows_restated} restated, "
          f"{again.rows_unchanged} unchanged (idempotent)")
    summary = await svc.cost_summary(by="provider", guild_id=guild)
    print("cost by provider:", ", ".join(f"{g.key} {_money(g.effective_cost, summary.currency)}"
                                         for g in summary.groups))
    forecast = await svc.forecast(guild_id=guild)
    if forecast is not None:
        print(f"month to date {_money(forecast.month_to_date, forecast.currency)}; forecast "
              f"{_money(forecast.forecast_month_end, forecast.currency)} ({forecast.method})")
    for anomaly in (await svc.anomalies(guild_id=guild)).items[:3]:
        print(f"anomaly: {anomaly.day} {anomaly.provider}/{anomaly.service} {_money(anomaly.amount, anomaly.currency)} "
              f"(expected {_money(anomaly.expected, anomaly.currency)}, robust z {anomaly.robust_z:.1f})")

    _section("Top recommendations ($/month at 730 h, CO2e) and the advisor's review")
    recs = await svc.recommendations(guild_id=guild)
    print(f"{len(recs.items)} recommendations, {_money(recs.total_monthly_savings, recs.currency)}/month and "
          f"{-recs.total_co2e_kg_month_delta:,.1f} kg CO2e/month in total")
    for rec in recs.items[:8]:
        print(f"  {rec.kind:<13} {rec.resource_name:<22} {rec.action[:48]:<48} {_money(rec.monthly_savings, rec.currency):>9} "
              f"{rec.co2e_kg_month_delta:>7.1f} kg  conf {rec.confidence:.2f}  [{rec.status}]")
    review = await (await services.advisor()).review_finops(list(recs.items), summary)
    print(f"\nreview (written by {review.written_by}):")
    for item in [review.effective_recommendation, *review.additional_recommendations[:3]]:
        if item is not None:
            print(f"  - [{getattr(item, 'flag', 'ok')}] {item.resource}: {item.action} "
                  f"(saves {_money(item.monthly_savings or 0, item.currency)}/month, risk {item.risk})")
    print("  basis:    ", review.base_of_recommendations)
    print("  forecast: ", review.cost_forecasting)
    print("  contracts:", review.contract_deal)

def _money(value: float, currency: str | None) -> str:
    """An amount in its billing currency ($ for USD); amounts in different currencies are never added."""
    return f"${value:,.2f}" if currency in (None, "USD") else f"{value:,.2f} {currency}"



STEPS = [core_and_terraform, advisor, finops]
