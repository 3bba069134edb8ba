"""Checkov over a generated Terraform root: typed findings, or a plain "not scanned".

Why a module of its own: the scanner is heavy and optional (its own virtualenv,
`.venv-checkov`, created by `make`), so it runs as a subprocess and a missing or failing
checkov never fails a plan; the result says plainly that the root was not scanned and why.
One invocation per root: checkov's start-up dominates its run time.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud_engine.settings import Settings

__all__ = ["CHECKOV_ENV", "DEFAULT_CHECKOV", "Finding", "ScanResult", "find_checkov", "load_allowlist", "scan",
           "scan_files", "scan_plan"]

CHECKOV_ENV = "CHECKOV_BIN"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource."""

    check_id: str
    name: str
    severity: str | None
    resource: str
    file: str
    line: int
    guideline: str | None


@dataclass(frozen=True)
class ScanResult:
    """`scanned` is False when checkov was missing or failed; `reason` then says why."""

    scanned: bool
    findings: tuple[Finding, ...] = ()
    passed: frozenset[str] = field(default_factory=frozenset)
    reason: str = ""
    version: str = ""

    def failed_ids(self) -> frozenset[str]:
        return frozenset(f.check_id for f in self.findings)


def find_checkov(env: Mapping[str, str] | None = None) -> Path | None:
    """`$CHECKOV_BIN`, else the repository's `.venv-checkov/bin/checkov`, if it is an executable file."""
    env = os.environ if env is None else env
    candidate = Path(env[CHECKOV_ENV]) if env.get(CHECKOV_ENV) else DEFAULT_CHECKOV
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def load_allowlist(path: Path) -> dict[str, str]:
    """`CHECK_ID: reason` lines (blank lines and `#` comments ignored) → {check id: reason}.

    Raises ValueError on a line without a reason or a check listed twice, so the file
    cannot silently allow something without saying why.
    """
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        check_id, sep, reason = text.partition(":")
        check_id, reason = check_id.strip(), reason.strip()
        if not sep or not check_id.startswith("CKV") or not reason:
            raise ValueError(f"{path.name}:{number}: expected 'CHECK_ID: reason', got {text!r}")
        if check_id in out:
            raise ValueError(f"{path.name}:{number}: {check_id} is listed twice")
        out[check_id] = reason
    return out


def _reports(payload: Any) -> list[dict[str, Any]]:
    reports = payload if isinstance(payload, list) else [payload]
    return [r for r in reports if isinstance(r, dict) and isinstance(r.get("results"), dict)]


def parse_report(payload: Any) -> tuple[tuple[Finding, ...], frozenset[str]]:
    """Checkov's `-o json` document → (failed checks as findings, ids of passed checks)."""
    findings: list[Finding] = []
    passed: set[str] = set()
    for report in _reports(payload):
        results = report["results"]
        passed.update(str(c.get("check_id")) for c in results.get("passed_checks", ()))
        for check in results.get("failed_checks", ()):
            lines = check.get("file_line_range") or [0, 0]
            file_path = str(check.get("file_path", "")).lstrip("/")
            findings.append(Finding(
                check_id=str(check.get("check_id")),
                name=str(check.get("check_name", "")),
                severity=check.get("severity"),
                resource=str(check.get("resource", "")),
                file=file_path,
                line=int(lines[0]),
                guideline=check.get("guideline"),
            ))
    findings.sort(key=lambda f: (f.file, f.line, f.check_id))
    return tuple(findings), frozenset(passed)


def scan(root: Path, *, checkov: Path | None = None, extra_args: Sequence[str] = (),
         timeout_s: float = DEFAULT_TIMEOUT_S) -> ScanResult:
    """Run checkov once over the Terraform files under `root` (blocking; run it in a worker thread).

    Offline: `--skip-download` keeps checkov from calling Prisma Cloud. Exit status 1 means
    "checks failed" and is a normal result; anything unreadable is "not scanned".
    """
    binary = checkov or find_checkov()
    if binary is None:
        return ScanResult(scanned=False, reason=f"checkov is not installed (make checkov, or set {CHECKOV_ENV})")
    cmd = [str(binary), "-d", str(root), "--framework", "terraform", "--skip-download", "--compact",
           "-o", "json", *extra_args]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLORS": "1"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)
    except subprocess.TimeoutExpired:
        return ScanResult(scanned=False, reason=f"checkov did not finish within {timeout_s:g} s")
    except OSError as exc:
        return ScanResult(scanned=False, reason=f"checkov could not start: {exc}")
    if proc.returncode not in (0, 1):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return ScanResult(scanned=False, reason=f"checkov exited with {proc.returncode}: {tail[0][:200]}")
    try:
        payload = json.loads(proc.stdout) if proc.stdout.strip() else []
    except json.JSONDecodeError:
        return ScanResult(scanned=False, reason="checkov's report was not JSON")
    findings, passed = parse_report(payload)
    version = ""
    for report in _reports(payload):
        version = str(report.get("summary", {}).get("checkov_version", "")) or version
    return ScanResult(scanned=True, findings=findings, passed=passed, version=version)


ALLOWLIST = REPO_ROOT / "checkov-allowlist.txt"
PLAN_SCAN_TIMEOUT_S = 120.0


def scan_files(files: Mapping[str, str], *, checkov: Path | None = None,
               allowlist: Mapping[str, str] | None = None, timeout_s: float = PLAN_SCAN_TIMEOUT_S) -> dict[str, Any]:
    """Scan one plan's provider HCL (file name → text) and summarise it for the plan and the lobby (blocking).

    Checks the repository's allow-list accepts (each with its documented reason) are counted,
    not listed: they are Cloud Engine's own defaults, the same for every plan. What remains is
    what this project's resources change, every finding of it: the engine judges them all
    (core/scanner_policy.py: suppressions, scanner policies, new since the last apply) and
    keeps only the first few in the plan's summary. JSON-able.
    """
    accepted = dict(allowlist) if allowlist is not None else (load_allowlist(ALLOWLIST) if ALLOWLIST.is_file() else {})
    with tempfile.TemporaryDirectory(prefix="ce-scan-") as tmp:
        for name, text in files.items():
            (Path(tmp) / (name if name.endswith(".tf") else f"{name}.tf")).write_text(text, "utf-8")
        result = scan(Path(tmp), checkov=checkov, timeout_s=timeout_s)
    if not result.scanned:
        return {"scanned": False, "reason": result.reason}
    open_findings = [f for f in result.findings if f.check_id not in accepted]
    return {"scanned": True, "version": result.version, "passed": len(result.passed),
            "accepted": sum(1 for f in result.findings if f.check_id in accepted),
            "failed": len(open_findings),
            "findings": [{"check_id": f.check_id, "name": f.name, "severity": f.severity, "resource": f.resource,
                          "file": f.file, "line": f.line, "guideline": f.guideline}
                         for f in open_findings]}


async def scan_plan(settings: Settings, files: Mapping[str, str]) -> dict[str, Any] | None:
    """Checkov over a plan's provider HCL (SCAN_PLANS), in a worker thread; a missing or failing scanner is said."""
    if not settings.scan_plans:
        return None
    checkov = Path(settings.checkov_bin) if settings.checkov_bin else None
    if checkov is not None and not checkov.is_file():
        return {"scanned": False, "reason": f"CHECKOV_BIN {checkov} is not a file"}
    return await asyncio.to_thread(scan_files, files, checkov=checkov)
