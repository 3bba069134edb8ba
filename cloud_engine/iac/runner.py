"""Drive Terraform in one project root: init, validate, plan, show, apply, state, fmt.

Why this shape: every phase is one child process whose output must be streamed live to
chat and a log file, masked before it leaves the runner, and stoppable (cancel, timeout)
without leaving Terraform's plugins behind; `supervision.LineStream` does that for any
argv, this module adds the Terraform verbs and their exit-code conventions. The
stale-plan guard lives in fingerprint.py, the phases' results in run_results.py.

Callers serialise phases per project (core/locks.py); a runner does not lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from cloud_engine.errors import ConfigurationError, StalePlan, TerraformError
from cloud_engine.iac.binary import TerraformBinary, find_terraform, terraform_env
from cloud_engine.iac.fingerprint import (
    PlanFingerprint,
    config_digest,
    file_sha256,
    fingerprint_path,
    read_local_state,
)
from cloud_engine.iac.masking import Masker
from cloud_engine.iac.plan import PlanResult
from cloud_engine.iac.plan_parser import parse_plan_json, sensitive_values
from cloud_engine.iac.plan_stream import PlanStreamReader
from cloud_engine.iac.run_results import (
    ApplyOutcome,
    FmtResult,
    PhaseTimeouts,
    PlanOutcome,
    RunResult,
    ValidateResult,
)
from cloud_engine.iac.sinks import OutputSink
from cloud_engine.iac.supervision import LineStream
from cloud_engine.private_files import secure_tree, tighten, write_private_text
from cloud_engine.settings import Settings

__all__ = ["TerraformRunner"]

# Caller-supplied variables whose values are masked in every streamed line.
_SECRET_ENV_NAME = re.compile(r"(?i)secret|token|password|passwd|credential|private|access_key|api_key")
_ERROR_DETAIL_LINES = 20


class TerraformRunner:
    """Runs Terraform phases in `workdir`, streaming masked output to sinks.

    A binary path that is not executable fails here with ConfigurationError naming
    TERRAFORM_BIN, not at the first phase.

    `sinks` given here receive every phase's output (e.g. the run's FileSink log); sinks
    passed to a method receive that phase only (e.g. the Discord thread streamer).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        binary: TerraformBinary,
        plugin_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        timeouts: PhaseTimeouts | None = None,
        sinks: Sequence[OutputSink] = (),
    ) -> None:
        if not os.access(binary.path, os.X_OK):
            raise ConfigurationError(variable="TERRAFORM_BIN")
        self.workdir = Path(workdir)
        self.binary = binary
        self.plugin_dir = plugin_dir
        self.timeouts = timeouts or PhaseTimeouts()
        self.sinks = list(sinks)
        self.masker = Masker(secrets)
        caller_env = dict(env or {})
        self.masker.add(v for k, v in caller_env.items() if _SECRET_ENV_NAME.search(k))
        self.env = terraform_env() | caller_env
        self._streams: set[LineStream] = set()
        self.cancelled = False  # set by cancel(): no further phase starts

    @classmethod
    def from_settings(
        cls,
        workdir: Path,
        settings: Settings,
        *,
        plugin_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        sinks: Sequence[OutputSink] = (),
    ) -> TerraformRunner:
        """A runner using TERRAFORM_BIN, the configured timeouts and every configured secret."""
        return cls(
            workdir,
            binary=find_terraform(settings.terraform_bin),
            plugin_dir=plugin_dir,
            env=env,
            secrets=[*settings.secret_values(), *secrets],
            timeouts=PhaseTimeouts.from_settings(settings),
            sinks=sinks,
        )

    # -- streaming core ---------------------------------------------------------------

    def stream(
        self,
        phase: str,
        args: Sequence[str],
        *,
        sinks: Sequence[OutputSink] = (),
        timeout_s: float | None = None,
        stdout_path: Path | None = None,
        transform: Callable[[str], Sequence[str]] | None = None,
        on_spawn: Callable[[], None] | None = None,
    ) -> LineStream:
        """`terraform <args>` as an async iterable of masked lines, also fed to the sinks.

        Use `async with runner.stream(...) as lines: async for line in lines:` so the child
        is reaped even if the loop stops early. `cancel()` stops it, and any phase after it.
        """
        if self.cancelled:  # a cancel that came between phases: the next one never starts
            raise TerraformError(phase=phase, detail="cancelled")
        self._streams = {s for s in self._streams if s.returncode is None}
        line_stream = LineStream(
            [self.binary.path, *args],
            phase=phase,
            cwd=self.workdir,
            env=self.env,
            timeout_s=timeout_s if timeout_s is not None else self.timeouts.other_s,
            grace_s=self.timeouts.cancel_grace_s,
            masker=self.masker,
            sinks=[*self.sinks, *sinks],
            stdout_path=stdout_path,
            transform=transform,
            on_spawn=on_spawn,
        )
        self._streams.add(line_stream)
        return line_stream

    async def run(
        self,
        phase: str,
        args: Sequence[str],
        *,
        sinks: Sequence[OutputSink] = (),
        ok_codes: Iterable[int] = (0,),
        timeout_s: float | None = None,
        stdout_path: Path | None = None,
        transform: Callable[[str], Sequence[str]] | None = None,
        on_spawn: Callable[[], None] | None = None,
    ) -> RunResult:
        """Run one command to completion; a non-accepted exit code raises TerraformError."""
        line_stream = self.stream(phase, args, sinks=sinks, timeout_s=timeout_s, stdout_path=stdout_path,
                                  transform=transform, on_spawn=on_spawn)
        try:
            code = await line_stream.run()
        finally:
            self._streams.discard(line_stream)
        lines = tuple(line_stream.lines or ())
        if code not in set(ok_codes):
            raise TerraformError(phase=phase, detail=_error_detail(lines, code))
        return RunResult(returncode=code, lines=lines, duration_s=line_stream.duration_s)

    def cancel(self) -> bool:
        """Stop the running phase: SIGINT now, SIGTERM and SIGKILL after the grace period each.

        The phase then raises TerraformError(detail="cancelled") in its own task, after the
        process group is gone. Later phases of this runner are refused the same way, so a
        cancel that lands between two phases (no child running) still stops the run.
        Returns False if nothing was running at the time.
        """
        self.cancelled = True
        return any([s.cancel() for s in list(self._streams)])

    @property
    def current_pid(self) -> int | None:
        """The process (and process-group) id of the running phase, if any."""
        running = [s.pid for s in self._streams if s.running]
        return running[0] if running else None

    # -- phases -----------------------------------------------------------------------

    async def init(self, *, sinks: Sequence[OutputSink] = ()) -> RunResult:
        """`terraform init`; with a plugin dir it installs providers from there, never the network."""
        args = ["init", "-input=false", "-no-color"]
        if self.plugin_dir is not None:
            args.append(f"-plugin-dir={self.plugin_dir}")
        result = await self.run("init", args, sinks=sinks)
        await asyncio.to_thread(self._tighten_init_files)
        return result

    def _tighten_init_files(self) -> None:
        """Make what init wrote private: Terraform writes its lock file 0644 whatever the umask."""
        tighten(self.workdir / ".terraform.lock.hcl")
        secure_tree(self.workdir / ".terraform")

    async def validate(self, *, sinks: Sequence[OutputSink] = ()) -> ValidateResult:
        """`terraform validate -json` (needs init); diagnostics are masked."""
        data = await self._json_command(
            "validate", ["validate", "-json", "-no-color"], sinks=sinks, ok_codes=(0, 1)
        )
        return ValidateResult.from_json(data, self.masker)

    async def plan(
        self,
        out: str | Path = "plan.bin",
        *,
        destroy: bool = False,
        sinks: Sequence[OutputSink] = (),
        read_back: Literal["always", "when_needed"] = "always",
        on_spawn: Callable[[], None] | None = None,
    ) -> PlanOutcome:
        """Plan into a saved plan file, parse it, and record its fingerprint next to it.

        The plan runs with `-json` and is read as it streams (plan_stream.py). With
        `read_back="always"` the saved plan is then read with `show -json` (attribute
        values, and sensitive values for the masker). `"when_needed"` skips that second
        process when the stream alone describes the plan (it only creates or deletes); use
        it only for configurations that hold no sensitive values, such as the sandbox
        mirror, whose every attribute is configuration the engine wrote itself.
        `on_spawn` is called once `terraform plan` is running (see LineStream).
        """
        path = self._resolve(out)
        config_sha, (serial, lineage) = await asyncio.gather(
            config_digest(self.workdir), self._state_identity()
        )
        args = ["plan", "-input=false", "-no-color", "-json", "-detailed-exitcode", f"-out={path}"]
        if destroy:
            args.append("-destroy")
        reader = PlanStreamReader()
        result = await self.run("plan", args, sinks=sinks, ok_codes=(0, 2), timeout_s=self.timeouts.plan_s,
                                transform=reader, on_spawn=on_spawn)
        detail = read_back == "always" or reader.needs_detail
        plan_result = await self.show_plan(path) if detail else reader.result()
        fingerprint = PlanFingerprint(
            config_sha256=config_sha,
            state_serial=serial,
            state_lineage=lineage,
            plan_sha256=await file_sha256(path),
        )
        await asyncio.to_thread(write_private_text, fingerprint_path(path), fingerprint.model_dump_json())
        return PlanOutcome(
            path=path,
            result=plan_result,
            fingerprint=fingerprint,
            has_changes=result.returncode == 2,
            log=result.lines,
        )

    async def show_plan(self, path: str | Path) -> PlanResult:
        """Parse a saved plan; its sensitive values are added to this runner's masker."""
        data = await self._json_command("show", ["show", "-json", "-no-color", str(self._resolve(path))])
        self.masker.add(sensitive_values(data))
        try:
            return parse_plan_json(data)
        except ValueError as exc:
            raise TerraformError(phase="show", detail=str(exc)) from None

    async def apply(
        self,
        plan_path: str | Path,
        *,
        expected: PlanFingerprint | None = None,
        sinks: Sequence[OutputSink] = (),
    ) -> ApplyOutcome:
        """Apply exactly this saved plan, refusing with StalePlan if anything changed since.

        `expected` is the fingerprint the engine stored at approval time; without it the
        one written next to the plan file is used. On success the plan file (which holds
        variable values in clear text) and its fingerprint are deleted.
        """
        path = self._resolve(plan_path)
        await self.check_fresh(path, expected)
        result = await self.run(
            "apply",
            ["apply", "-input=false", "-no-color", str(path)],
            sinks=sinks,
            timeout_s=self.timeouts.apply_s,
        )
        for leftover in (path, fingerprint_path(path)):
            leftover.unlink(missing_ok=True)
        return ApplyOutcome(plan_path=path, log=result.lines, duration_s=result.duration_s)

    async def check_fresh(self, plan_path: str | Path, expected: PlanFingerprint | None = None) -> None:
        """Raise StalePlan unless the plan file, the .tf files and the state are as planned."""
        path = self._resolve(plan_path)
        if not path.is_file():
            raise StalePlan(reason=f"plan file {path.name} is missing")
        if expected is None:
            try:
                raw = await asyncio.to_thread(fingerprint_path(path).read_text, encoding="utf-8")
                expected = PlanFingerprint.model_validate_json(raw)
            except (OSError, ValueError):
                raise StalePlan(reason=f"no fingerprint recorded for {path.name}") from None
        config_sha, plan_sha, (serial, lineage) = await asyncio.gather(
            config_digest(self.workdir), file_sha256(path), self._state_identity()
        )
        current = PlanFingerprint(
            config_sha256=config_sha, state_serial=serial, state_lineage=lineage, plan_sha256=plan_sha
        )
        if reason := expected.stale_reason(current):
            raise StalePlan(reason=reason)

    async def state_pull(self) -> dict[str, Any]:
        """The current state document (`terraform state pull`); {} when there is none yet."""
        return await self._json_command("state", ["state", "pull"], allow_empty=True)

    async def fmt_check(self, *, sinks: Sequence[OutputSink] = ()) -> FmtResult:
        """`terraform fmt -check`: which files in the root are not canonically formatted."""
        result = await self.run(
            "fmt", ["fmt", "-check", "-list=true", "-no-color"], sinks=sinks, ok_codes=(0, 3)
        )
        files = tuple(line.strip() for line in result.lines if line.strip())
        return FmtResult(formatted=result.returncode == 0, files=files)

    # -- helpers ----------------------------------------------------------------------

    def _resolve(self, path: str | Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else self.workdir / path

    async def _json_command(
        self,
        phase: str,
        args: Sequence[str],
        *,
        sinks: Sequence[OutputSink] = (),
        ok_codes: Iterable[int] = (0,),
        allow_empty: bool = False,
    ) -> dict[str, Any]:
        """Run a command whose stdout is JSON; stdout goes to a private temp file, never to sinks.

        The JSON of a plan or state holds sensitive values in clear text, so it goes to a
        0600 file outside the project's git tree, is parsed here and deleted; only stderr
        is streamed.
        """
        fd, name = tempfile.mkstemp(prefix=f"cloud-engine-{phase}-", suffix=".json")
        os.close(fd)
        tmp = Path(name)
        try:
            await self.run(phase, args, sinks=sinks, ok_codes=ok_codes, stdout_path=tmp)
            raw = await asyncio.to_thread(tmp.read_bytes)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if allow_empty and not raw.strip():
            return {}
        try:
            data = await asyncio.to_thread(json.loads, raw)
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise TerraformError(phase=phase, detail=f"unreadable JSON output ({why})") from None
        if not isinstance(data, dict):
            raise TerraformError(phase=phase, detail="JSON output is not an object")
        return data

    async def _state_identity(self) -> tuple[int | None, str | None]:
        """(serial, lineage) of the current state.

        A local state file is read directly (instant); with a configured backend
        (`.terraform/terraform.tfstate` exists) the state is pulled through Terraform.
        """
        if (self.workdir / ".terraform" / "terraform.tfstate").exists():
            state = await self.state_pull()
        else:
            state = await asyncio.to_thread(read_local_state, self.workdir)
        serial = state.get("serial")
        lineage = state.get("lineage")
        return (int(serial) if serial is not None else None, str(lineage) if lineage is not None else None)


def _error_detail(lines: Sequence[str], code: int) -> str:
    """The useful part of a failed command's output: from the first 'Error:' on, else the tail."""
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("Error:")), None)
    chosen = lines[start:] if start is not None else lines[-_ERROR_DETAIL_LINES:]
    text = "\n".join(line for line in chosen[:_ERROR_DETAIL_LINES] if line.strip())
    return f"exit code {code}: {text}" if text else f"exit code {code}"
