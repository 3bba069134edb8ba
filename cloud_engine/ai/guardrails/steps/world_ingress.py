"""Only 80/443 may be open to the internet, at every security level and under every framework.

Why not only SSH/RDP: a model that opens 5432, 6379 or 9200 to 0.0.0.0/0 exposes a database,
a cache or a search cluster, which is worse than an admin port. Any world-open rule keeps its
web ports (TCP 80/443) for the world and every other port is narrowed to the private range.
"World" is decided by `FirewallRule.opens_world` (core.validation.world_open), so every CIDR
form counts: 0.0.0.0/0 split into pieces, ::/0, 2000::/3 and whatever that check covers.
"""

from __future__ import annotations

from cloud_engine.ai.guardrails.context import Enforcer, revalidate
from cloud_engine.ai.guardrails.controls import PRIVATE_SOURCE, WEB_PORTS
from cloud_engine.ai.guardrails.steps.registry import step
from cloud_engine.core.models import FirewallRule


def web_only(rule: FirewallRule) -> bool:
    """True when the rule admits nothing but TCP 80 and/or 443."""
    return rule.protocol == "tcp" and bool(rule.ports) and all(p in WEB_PORTS for p in rule.ports)


def split_world_rule(rule: FirewallRule) -> tuple[list[FirewallRule], str]:
    """The rule as allowed: its web ports open to the world, the rest from the private range only.

    Returns the replacement rules and a description of what was narrowed.
    """
    web = [p for p in WEB_PORTS if rule.protocol in ("tcp", "all") and rule.covers_port(p)]
    out: list[FirewallRule] = []
    if web:
        out.append(rule.model_copy(update={"protocol": "tcp", "ports": web}))
    rest_ports = [p for p in rule.ports if p not in web] if rule.protocol == "tcp" and web else list(rule.ports)
    if rest_ports or not rule.ports:
        out.append(rule.model_copy(update={"ports": rest_ports, "sources": [PRIVATE_SOURCE]}))
    what = ", ".join(str(p) for p in rest_ports) if rest_ports else "every port"
    return out, f"{rule.protocol.upper() if rule.protocol != 'all' else 'all protocols'} {what}"


@step("no-world-ingress")
def world_ingress(e: Enforcer) -> None:
    fixed = []
    for spec in e.of_kind("firewall"):
        rules: list[FirewallRule] = []
        narrowed: list[str] = []
        for rule in spec.rules or []:
            if rule.opens_world() and not web_only(rule):
                replacement, what = split_world_rule(rule)
                rules.extend(replacement)
                narrowed.append(what)
            else:
                rules.append(rule)
        if narrowed:
            fixed.append(f"{spec.name}: {'; '.join(narrowed)} limited to {PRIVATE_SOURCE} (only 80/443 may be open "
                         "to the internet; reach admin and data ports through a bastion, IAP or VPN)")
            e.replace(spec, revalidate(spec, rules=[r.model_dump() for r in rules]))
    e.check("no-world-ingress", fixed, "no firewall opens any port but 80/443 to the internet")
