"""Design evaluation: labelled use cases with the parts each design must and must not contain.

Why: "about half of thirty ordinary requests get a design that misses a part the request
names" was found by hand; this turns it into figures the tests and `make bench` check.
Each line of `tests/data/design_eval.jsonl` is {"use_case", "options"?, "must": [...],
"must_not": [...]}; parts are resource kinds ("vm", "bucket", ...), "compute" (a VM or a
cluster), "database" / "database:<engine>", "ha-database", "public-ip", "world-open" (any port
open to the internet), "not-offered:<word>" (a risk naming a part Cloud Engine does not offer)
and "unrecognised". Every answer is also held to: no port but 80/443 open to the world, no
claim that traffic arrives through a load balancer, and citations that cover their claims.
Citation support is the share of citations whose entry covers the claim's subject.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_engine.ai.answer import _risk_subjects
from cloud_engine.ai.design.citations import covers, subject_of
from cloud_engine.ai.knowledge import KnowledgeIndex
from cloud_engine.ai.schemas import AdviceAnswer, AdviceRequest

_PROBE_PORTS = (22, 80, 443, 1433, 3306, 3389, 5432, 6379, 8080, 9200, 11211, 27017)


@dataclass(frozen=True)
class DesignCase:
    use_case: str
    options: dict[str, str]
    must: tuple[str, ...]
    must_not: tuple[str, ...]


@dataclass
class DesignReport:
    n: int = 0
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    citations: int = 0
    supported: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.n if self.n else 0.0

    @property
    def citation_support(self) -> float:
        return self.supported / self.citations if self.citations else 0.0

    def summary(self) -> str:
        return (f"designs {self.n}, all parts right {self.pass_rate:.3f}, citation support {self.citation_support:.3f} "
                f"({self.citations} citations)")


def load_cases(path: str | Path) -> list[DesignCase]:
    cases = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            raw: dict[str, Any] = json.loads(line)
            cases.append(DesignCase(raw["use_case"], dict(raw.get("options", {})), tuple(raw.get("must", ())),
                                    tuple(raw.get("must_not", ()))))
    return cases


def parts_of(answer: AdviceAnswer) -> set[str]:
    """The parts an answer's design contains, in the eval's vocabulary."""
    parts: set[str] = set()
    for r in answer.resources:
        spec = r.spec
        parts.add(spec.kind)
        if spec.kind in ("vm", "k8s_cluster"):
            parts.add("compute")
        if spec.kind == "database":
            parts.add(f"database:{spec.engine}")
            if spec.high_availability:
                parts.add("ha-database")
        if spec.public_ip:
            parts.add("public-ip")
        if spec.kind == "firewall" and any(rule.opens_world() for rule in spec.rules or []):
            parts.add("world-open")
    for risk in answer.risks:
        if risk.text.startswith("Not offered by Cloud Engine:"):
            parts.update(f"not-offered:{w.strip(',;.:/()')}" for w in risk.text.split())
            parts.update(f"not-offered:{w.strip(',;.:()')}" for t in risk.text.split() for w in t.split("/"))
        if risk.text.startswith("No workload part was recognised"):
            parts.add("unrecognised")
    return parts


def violations(answer: AdviceAnswer) -> list[str]:
    """Rules every answer must keep, whatever the case."""
    out = []
    for r in answer.resources:
        for rule in r.spec.rules or []:
            if rule.opens_world():
                bad = [p for p in _PROBE_PORTS if p not in (80, 443) and rule.covers_port(p)]
                if bad or rule.protocol not in ("tcp",):
                    out.append(f"{r.spec.name} opens {bad or rule.protocol} to the world")
        if "through the load balancer" in r.rationale.lower() and not any(
                o.spec.kind == "load_balancer" for o in answer.resources):
            out.append(f"{r.spec.name} claims a load balancer the design does not have")
    return out


async def _support(index: KnowledgeIndex, answer: AdviceAnswer, report: DesignReport) -> None:
    claims = [(r.citations, [subject_of(r.spec)]) for r in answer.resources]
    claims += [(risk.citations, _risk_subjects(risk.text, answer.request.compliance)) for risk in answer.risks]
    for ids, subjects in claims:
        for entry_id in ids:
            entry = await index.get(entry_id)
            report.citations += 1
            if entry is not None and any(covers(entry, s) for s in subjects):
                report.supported += 1


async def evaluate(advisor: Any, index: KnowledgeIndex, path: str | Path, *, model: str = "rules") -> DesignReport:
    """Answer every case with `advisor` and check its parts, the global rules and citation support."""
    report = DesignReport()
    for case in load_cases(path):
        answer = await advisor.advise(AdviceRequest(use_case=case.use_case, model=model, **case.options))
        parts = parts_of(answer)
        problems = [f"missing {p}" for p in case.must if p not in parts]
        problems += [f"has {p}" for p in case.must_not if p in parts or (p == "database" and any(
            x.startswith("database") for x in parts))]
        problems += violations(answer)
        report.n += 1
        if problems:
            report.failures.append(f"{case.use_case}: {'; '.join(problems)}")
        else:
            report.passed += 1
        await _support(index, answer, report)
    return report
