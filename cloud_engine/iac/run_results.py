"""What each Terraform phase returns, and how long each may take.

Why apart: callers (the deployer, tests, the benchmark) read these results without
needing the runner's process handling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cloud_engine.iac.fingerprint import PlanFingerprint
from cloud_engine.iac.plan import PlanResult
from cloud_engine.settings import Settings

__all__ = ["ApplyOutcome", "Diagnostic", "FmtResult", "PhaseTimeouts", "PlanOutcome", "RunResult", "ValidateResult"]


@dataclass(frozen=True)
class PhaseTimeouts:
    """Wall-clock limits per phase, and the grace between SIGINT, SIGTERM and SIGKILL."""

    plan_s: float = 600.0
    apply_s: float = 1800.0
    other_s: float = 300.0  # init, validate, show, state, fmt
    cancel_grace_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PhaseTimeouts:
        return cls(
            plan_s=settings.terraform_plan_timeout_s,
            apply_s=settings.terraform_apply_timeout_s,
            other_s=settings.terraform_plan_timeout_s,
            cancel_grace_s=settings.terraform_cancel_grace_s,
        )


@dataclass(frozen=True)
class RunResult:
    """One finished Terraform command: exit code and its masked output lines."""

    returncode: int
    lines: tuple[str, ...]
    duration_s: float


@dataclass(frozen=True)
class PlanOutcome:
    """A saved plan: where it is, what it does, and what it was computed from."""

    path: Path
    result: PlanResult
    fingerprint: PlanFingerprint
    has_changes: bool  # Terraform's own answer (exit code 2), outputs included
    log: tuple[str, ...]


@dataclass(frozen=True)
class ApplyOutcome:
    plan_path: Path
    log: tuple[str, ...]
    duration_s: float


class Diagnostic(BaseModel):
    """One `terraform validate -json` diagnostic, masked."""

    severity: str
    summary: str
    detail: str = ""
    filename: str | None = None
    line: int | None = None


class ValidateResult(BaseModel):
    valid: bool
    error_count: int = 0
    warning_count: int = 0
    diagnostics: list[Diagnostic] = []

    @classmethod
    def from_json(cls, data: dict[str, Any], mask: Callable[[str], str]) -> ValidateResult:
        """From `terraform validate -json`; every diagnostic's text passes through `mask`."""
        diagnostics = []
        for diag in data.get("diagnostics") or []:
            rng = diag.get("range") or {}
            diagnostics.append(Diagnostic(
                severity=str(diag.get("severity", "error")), summary=mask(str(diag.get("summary", ""))),
                detail=mask(str(diag.get("detail", ""))), filename=rng.get("filename"),
                line=(rng.get("start") or {}).get("line")))
        return cls(valid=bool(data.get("valid")), error_count=int(data.get("error_count", 0)),
                   warning_count=int(data.get("warning_count", 0)), diagnostics=diagnostics)


@dataclass(frozen=True)
class FmtResult:
    formatted: bool
    files: tuple[str, ...]  # files `terraform fmt` would rewrite

