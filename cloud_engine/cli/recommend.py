"""`main.py recommend [--json] [--limit N] [--review]`: deterministic FinOps recommendations.

`--review` hands the recommendations to the advisor's `review_recommendations` (a model when
one is configured, else the rules engine), imported only then: the advisor's dependencies
stay out of every other command's start-up.
"""

from __future__ import annotations

import argparse

from cloud_engine.cli import positive_int
from cloud_engine.finops.cli_support import add_guild_option, dump, finops_service, guild_of
from cloud_engine.settings import Settings


def _money(value: float, currency: str | None) -> str:
    """An amount in its billing currency ($ for USD); amounts in different currencies are never added."""
    return f"${value:,.2f}" if currency in (None, "USD") else f"{value:,.2f} {currency}"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("recommend", help="cost and carbon recommendations from the FinOps ledger")
    parser.add_argument("--limit", type=positive_int, default=None, help="show at most this many")
    parser.add_argument("--include-suppressed", action="store_true", help="also show ones marked noisy")
    parser.add_argument("--review", action="store_true", help="ask the AI advisor to review the list")
    parser.add_argument("--json", action="store_true")
    add_guild_option(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace, settings: Settings) -> int:
    guild = guild_of(args, settings)
    async with finops_service(settings) as service:
        recs = await service.recommendations(include_suppressed=args.include_suppressed, limit=args.limit,
                                             guild_id=guild)
        review = None
        if args.review:
            from cloud_engine.ai.finops_review import review_recommendations

            summary = await service.cost_summary(by="service", guild_id=guild)
            review = await review_recommendations(list(recs.items), summary, settings)
    if args.json:
        payload = recs.model_dump(mode="json")
        if review is not None:
            payload["review"] = review.model_dump(mode="json")
        print(dump(payload))
    elif recs.as_of is None:
        print(f"No cost or usage data for guild {guild} yet, so nothing to recommend: import some first, e.g. "
              f"`python main.py ingest focus EXPORT.csv --guild {guild}` and `python main.py ingest metrics "
              f"METRICS.csv --guild {guild}` (or `python main.py ingest synthetic --guild {guild}`).")
    else:
        savings = " + ".join(f"{_money(v, c)}/month" for c, v in recs.savings_by_currency.items()) \
            or f"{_money(recs.total_monthly_savings, recs.currency)}/month"
        print(f"{len(recs.items)} recommendations for guild {guild} (as of {recs.as_of}); total savings "
              f"{savings}, CO2e {recs.total_co2e_kg_month_delta:+,.1f} kg/month"
              + (f"; {recs.suppressed} hidden as noisy" if recs.suppressed else ""))
        for note in recs.notes:
            print(f"  note: {note}")
        for r in recs.items:
            if r.status == "ok":
                print(f"  [{r.kind}] {r.resource_name}: {r.action} — saves {_money(r.monthly_savings, r.currency)}/month "
                      f"of {_money(r.monthly_cost_current, r.currency)}, CO2e {r.co2e_kg_month_delta:+.1f} kg, "
                      f"confidence {r.confidence:.0%}, risk {r.risk.level} (id {r.id})")
            else:
                print(f"  [{r.kind}] {r.resource_name}: insufficient telemetry; collect {'; '.join(r.needs)} (id {r.id})")
        if recs.green_moves:
            print(f"{len(recs.green_moves)} green-region moves (not in the savings total; judged after any rightsize; "
                  "check data transfer, latency and residency first):")
        for r in recs.green_moves:
            change = (f"saves {_money(r.monthly_savings, r.currency)}" if r.monthly_savings >= 0
                      else f"costs {_money(-r.monthly_savings, r.currency)} more")
            print(f"  [{r.kind}] {r.resource_name}: {r.action} — {change}/month, "
                  f"CO2e {r.co2e_kg_month_delta:+.1f} kg (id {r.id})")
        if recs.acted:
            print(f"{len(recs.acted)} acted on through the lobby (promised vs realised from the bills):")
        for o in recs.acted:
            print(f"  [{o.status}] {o.resource_name}: {o.action} — {o.note} (deployment #{o.session_id})")
    if review is not None and not args.json:
        print("Advisor review:")
        print(dump({"review": review.model_dump(mode="json")}))
    return 0
