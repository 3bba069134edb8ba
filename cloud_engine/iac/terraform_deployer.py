"""TerraformDeployer: renders a project's desired resources into its root and runs Terraform.

One Terraform root per project (`terraform_runs/<project_id>/`, a git repository): a
session's plan is the whole project's desired configuration against its state, so later
sessions can change or destroy what earlier ones created. Each successful apply is one
commit. The in-process workdir lock keeps two Terraform processes out of one root; the
durable project lock (held by the orchestrator from plan to apply) keeps two sessions
from interleaving plan and apply.

Sandbox target: the real provider HCL is rendered, formatted and kept in the root as
`<provider>.<file>.hcl` (Terraform ignores that suffix, git versions it), and the root's
`*.tf` is the null-provider mirror that Terraform really inits, plans and applies offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cloud_engine.core.deployer import ApplyArtifact, DriftArtifact, PlanArtifact, ReconcileArtifact
from cloud_engine.core.locks import WorkdirLocks
from cloud_engine.core.models import Project, ResourceSpec
from cloud_engine.iac.background import in_background_thread
from cloud_engine.iac.binary import aplugin_dir
from cloud_engine.iac.credentials import provider_env
from cloud_engine.iac.fingerprint import PlanFingerprint
from cloud_engine.iac.fmt import terraform_fmt
from cloud_engine.iac.orphans import stop_orphans
from cloud_engine.iac.plan import PlanResult
from cloud_engine.iac.plumbing import network_plumbing
from cloud_engine.iac.publish import tag_and_push
from cloud_engine.iac.reconcile import Expectation, expectations_from_plan, fold_statuses, state_instances
from cloud_engine.iac.render import render, resource_keys
from cloud_engine.iac.runner import TerraformRunner
from cloud_engine.iac.sandbox import logical_changes, mirror_instances
from cloud_engine.iac.scan import scan_plan
from cloud_engine.iac.sinks import FileSink, OutputSink
from cloud_engine.iac.workspace import CommitInfo, ProjectWorkspace
from cloud_engine.private_files import private_dir, secure_tree, write_private_text
from cloud_engine.settings import Settings

log = logging.getLogger(__name__)
PLAN_FILE = "plan.bin"


@dataclass(frozen=True)
class _Formatted:
    """What `terraform fmt` made of one render: the planned files, every managed file, the shown HCL."""

    planned: dict[str, str]
    managed: dict[str, str]  # planned files, plus the sandbox's `<provider>.<file>.hcl` copies
    shown: dict[str, str]  # provider HCL under its own names (main.tf, ...)


class TerraformDeployer:
    """Implements the core's `Deployer` protocol with a real terraform/tofu binary."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.locks = WorkdirLocks()
        self._runners: dict[int, TerraformRunner] = {}
        # Who asked for and approved an apply, for its tag's annotation (the engine wires it: core/history.py).
        self.apply_note: Callable[[int], Awaitable[str]] | None = None

    def root(self, project: Project) -> Path:
        return (Path(self.settings.terraform_runs_dir) / str(project.id)).resolve()

    def workspace(self, project: Project) -> ProjectWorkspace:
        return ProjectWorkspace(self.root(project))

    def _render_planned(self, project: Project, desired: Sequence[ResourceSpec],
                        allow_world_admin: frozenset[str]) -> dict[str, str]:
        """The files Terraform plans: the provider HCL, or the null mirror for the sandbox (blocking)."""
        if project.target == "cloud":
            return render(project.catalog_provider, desired, backend=project.backend, project_name=project.name,
                          region=project.region, allow_world_admin=allow_world_admin)
        return render("sandbox", desired, shape=project.catalog_provider, project_name=project.name,
                      region=project.region, allow_world_admin=allow_world_admin)

    async def _formatted(self, project: Project, desired: Sequence[ResourceSpec], planned: dict[str, str],
                         allow_world_admin: frozenset[str]) -> _Formatted:
        """`terraform fmt` of the planned files, plus the provider HCL shown to users.

        For the sandbox the provider HCL is rendered here too: it is shown and versioned
        beside the mirror (`<provider>.<file>.hcl`) but never planned.
        """
        if project.target == "cloud":
            formatted = await terraform_fmt(planned, terraform_bin=self.settings.terraform_bin, background=True)
            return _Formatted(planned=formatted, managed=formatted, shown=formatted)
        shape = project.catalog_provider
        raw = await in_background_thread(render, shape, desired, backend=project.backend, project_name=project.name,
                                         region=project.region, allow_world_admin=allow_world_admin)
        aliases = {name: f"{shape}.{name.removesuffix('.tf')}.hcl" for name in raw}
        formatted = await terraform_fmt({**planned, **{aliases[name]: text for name, text in raw.items()}},
                                        terraform_bin=self.settings.terraform_bin, background=True)
        return _Formatted(planned={name: formatted[name] for name in planned}, managed=formatted,
                          shown={name: formatted[alias] for name, alias in aliases.items()})

    async def _runner(self, project: Project, run_dir: Path, phase: str) -> TerraformRunner:
        sandbox = project.target == "sandbox"
        return TerraformRunner.from_settings(
            self.root(project), self.settings,
            plugin_dir=await aplugin_dir(Path(self.settings.terraform_runs_dir)) if sandbox else None,
            env=None if sandbox else provider_env(self.settings, project.catalog_provider),
            sinks=[FileSink(run_dir / f"{phase}.log")])

    async def plan(self, project: Project, desired: Sequence[ResourceSpec], *, session_id: int,
                   sinks: Sequence[OutputSink] = (), allow_world_admin: frozenset[str] = frozenset()) -> PlanArtifact:
        """Write the project's desired configuration, init, and plan to a saved plan file.

        Why the pipeline: `terraform fmt` (and, for the sandbox, rendering the provider HCL
        that is shown but not planned) run beside the plan instead of before it. They start
        only once `terraform plan` is running: started earlier, the render held the GIL
        while the runner hashed the configuration and read the state, which delayed the
        plan itself. The writer emits fmt's canonical layout (a golden test holds it to
        that), so fmt normally changes nothing; if it ever does, the formatted files are
        written and planned again, so what is committed is always what was planned. The
        sandbox mirror holds no sensitive values, so its plan is read from Terraform's JSON
        stream and the plan file is only read back when something is edited in place or replaced.
        """
        async with self.locks.for_project(project.id):
            workspace = self.workspace(project)
            await workspace.ensure()
            planned = await asyncio.to_thread(self._render_planned, project, desired, allow_world_admin)
            run_dir = workspace.run_dir(str(session_id))
            runner = await self._runner(project, run_dir, "plan")
            self._runners[session_id] = runner
            read_back: Literal["always", "when_needed"] = "when_needed" if project.target == "sandbox" else "always"
            formatting: asyncio.Task[_Formatted] | None = None

            def start_formatting() -> None:
                nonlocal formatting
                if formatting is None:
                    formatting = asyncio.create_task(self._formatted(project, desired, planned, allow_world_admin))

            try:
                # Terraform reads every *.tf: stale ones go now; the shown .hcl copies are rewritten after.
                await workspace.write_files(planned, keep_suffixes=(".hcl",))
                await self._init_if_needed(workspace, runner, planned, sinks)
                outcome = await runner.plan(run_dir / PLAN_FILE, sinks=sinks, read_back=read_back,
                                            on_spawn=start_formatting)
                start_formatting()  # already running unless the plan never spawned
                assert formatting is not None
                formatted = await formatting
                await workspace.write_files(formatted.managed)
                if formatted.planned != planned:
                    log.warning("terraform fmt changed generated files; planning the formatted files again",
                                extra={"project_id": project.id, "files": sorted(
                                    n for n in planned if formatted.planned[n] != planned[n])})
                    outcome = await runner.plan(run_dir / PLAN_FILE, sinks=sinks, read_back=read_back)
            finally:
                if formatting is not None and not formatting.done():
                    formatting.cancel()
                    await asyncio.gather(formatting, return_exceptions=True)
                self._runners.pop(session_id, None)
                await _close(runner)
        # Outside the root's lock: the scan reads the shown HCL only, and takes seconds.
        scanned = await scan_plan(self.settings, formatted.shown)
        plumbing = await asyncio.to_thread(network_plumbing, project.catalog_provider, desired,
                                           project_name=project.name, region=project.region)
        return PlanArtifact(result=outcome.result, fingerprint=outcome.fingerprint.model_dump_json(),
                            logical=self.impact(project, outcome.result, desired), files=formatted.shown,
                            target=project.target, log_path=str(run_dir / "plan.log"), scan=scanned,
                            plumbing=[asdict(item) for item in plumbing])

    async def _init_if_needed(self, workspace: ProjectWorkspace, runner: TerraformRunner, files: dict[str, str],
                              sinks: Sequence[OutputSink]) -> None:
        """`terraform init` only when providers or backend changed: it costs as much as a small plan.

        The stamp hashes everything init depends on (the `terraform {}` and backend blocks live
        in versions.tf/backend.tf for cloud roots; a sandbox root pins the null provider).
        """
        key_files = {n: t for n, t in files.items() if n in ("versions.tf", "backend.tf")} or {"sandbox": "null 2.1.2"}
        stamp = hashlib.sha256(json.dumps([key_files, str(runner.plugin_dir), runner.binary.path],
                                          sort_keys=True).encode()).hexdigest()
        stamp_file = workspace.root / ".runs" / "init.stamp"

        def current() -> str | None:
            ready = (workspace.root / ".terraform").is_dir() and (workspace.root / ".terraform.lock.hcl").is_file()
            return stamp_file.read_text("utf-8") if ready and stamp_file.is_file() else None

        if await asyncio.to_thread(current) == stamp:
            return
        await runner.init(sinks=sinks)
        await asyncio.to_thread(write_private_text, stamp_file, stamp)

    @staticmethod
    def impact(project: Project, result: PlanResult,
               desired: Sequence[ResourceSpec] = ()) -> list[dict[str, object]]:
        """Per user resource: create / update in place / replace / delete, and what forces a replacement.

        A real provider's changes are per Terraform address; each also names the user
        resource whose renderer wrote it (`resource`: "kind/name"), so the engine can tell a
        change the session asked for from one it did not (addresses of resources no longer
        desired are found by their name's first part).
        """
        if project.target == "sandbox":
            return [c.model_dump() for c in logical_changes(result) if c.action != "no-op"]
        keys = resource_keys(project.catalog_provider, desired, project_name=project.name, region=project.region)
        return [{"kind": c.type, "name": c.name, "address": c.address, "action": c.action,
                 "forced_by": c.replace_paths, "changed": c.changed_attributes,
                 "resource": "/".join(keys[c.address]) if c.address in keys else None}
                for c in result.changes if c.action not in ("no-op", "read")]

    async def apply(self, project: Project, *, session_id: int, fingerprint: str, commit_message: str,
                    sinks: Sequence[OutputSink] = ()) -> ApplyArtifact:
        """Apply exactly the saved plan (refused as stale if anything changed), then commit the root."""
        expected = PlanFingerprint.model_validate_json(fingerprint) if fingerprint else None
        async with self.locks.for_project(project.id):
            workspace = self.workspace(project)
            run_dir = workspace.run_dir(str(session_id))
            runner = await self._runner(project, run_dir, "apply")
            self._runners[session_id] = runner
            try:
                if project.target != "sandbox":  # this runner's masker learns the plan's sensitive values
                    await runner.check_fresh(run_dir / PLAN_FILE, expected)  # stale or missing: refused unread
                    await runner.show_plan(run_dir / PLAN_FILE)
                try:
                    await runner.apply(run_dir / PLAN_FILE, expected=expected, sinks=sinks)
                finally:
                    self._runners.pop(session_id, None)  # applied or not, a cancel has nothing left to stop
                state_json, commit_sha, warnings = await self._after_apply(runner, workspace, commit_message)
                if commit_sha is not None:
                    warnings += await tag_and_push(self.settings, project, workspace, session_id, commit_sha, commit_message,
                                                   self.apply_note)
            finally:
                await _close(runner)
        return ApplyArtifact(commit_sha=commit_sha, state_json=state_json, warnings=warnings,
                             log_path=str(run_dir / "apply.log"))

    @staticmethod
    async def _after_apply(runner: TerraformRunner, workspace: ProjectWorkspace,
                           commit_message: str) -> tuple[str | None, str | None, list[str]]:
        """Snapshot the state and commit the root; a failure here is a warning, the apply stands.

        Why not fail: Terraform has already changed the cloud. Failing the session would drop
        the applied resources from the engine's records, and the next plan would destroy them.
        """
        warnings: list[str] = []
        state_json = commit_sha = None
        try:
            state_json = json.dumps(await runner.state_pull(), sort_keys=True)
        except Exception as exc:
            log.warning("applied, but the state snapshot failed", exc_info=exc)
            warnings.append(f"applied, but the state snapshot was not stored ({_reason(exc)})")
        try:
            commit_sha = await workspace.commit(commit_message)
        except Exception as exc:
            log.warning("applied, but the commit failed", exc_info=exc)
            warnings.append(f"applied, but the configuration was not committed ({_reason(exc)}); "
                            "the next successful apply commits it")
        return state_json, commit_sha, warnings

    async def reconcile(self, project: Project, before: Sequence[ResourceSpec], after: Sequence[ResourceSpec], *,
                        changed: Sequence[tuple[str, str]], session_id: int,
                        commit_message: str) -> ReconcileArtifact:
        """After an apply that did not end cleanly: which of the session's changes exist now.

        `before` is the configuration the engine recorded, `after` the one the session
        planned. The state is read through Terraform (any backend). The sandbox mirror's
        expectations are its triggers, known exactly from both configurations; a real
        provider's come from the saved plan (kept until an apply succeeds), or, when that
        is gone, from which addresses exist at all. Anything made is committed, so the
        root's history says what the cloud holds.
        """
        async with self.locks.for_project(project.id):
            workspace = self.workspace(project)
            await workspace.ensure()
            run_dir = workspace.run_dir(str(session_id))
            runner = await self._runner(project, run_dir, "reconcile")
            try:
                state = await runner.state_pull()
                expected = await self._expectations(project, before, after, runner, run_dir)
                statuses = fold_statuses(expected, state_instances(state), changed)
                warnings: list[str] = []
                commit_sha = None
                if any(status != "not_made" for status in statuses.values()):
                    try:
                        commit_sha = await workspace.commit(commit_message)
                    except Exception as exc:
                        log.warning("reconciled, but the commit failed", exc_info=exc)
                        warnings.append(f"the configuration was not committed ({_reason(exc)})")
                    if commit_sha is not None:  # an apply's commit, made from the state: tagged and pushed like one
                        warnings += await tag_and_push(self.settings, project, workspace, session_id, commit_sha,
                                                        commit_message, self.apply_note)
            finally:
                await _close(runner)
        return ReconcileArtifact(statuses={f"{k}/{n}": s for (k, n), s in statuses.items()}, commit_sha=commit_sha,
                                 state_json=json.dumps(state, sort_keys=True) if state else None, warnings=warnings)

    async def _expectations(self, project: Project, before: Sequence[ResourceSpec], after: Sequence[ResourceSpec],
                            runner: TerraformRunner, run_dir: Path) -> dict[str, Expectation]:
        if project.target == "sandbox":
            shape = project.catalog_provider
            old = mirror_instances(before, region=project.region, shape=shape)
            new = mirror_instances(after, region=project.region, shape=shape)
            return {address: Expectation(key=(new.get(address) or old[address])[0],
                                         before={"triggers": old[address][1]} if address in old else None,
                                         after={"triggers": new[address][1]} if address in new else None)
                    for address in old.keys() | new.keys()}
        provider = project.catalog_provider
        old_keys = resource_keys(provider, before, project_name=project.name, region=project.region)
        new_keys = resource_keys(provider, after, project_name=project.name, region=project.region)
        plan_path = run_dir / PLAN_FILE
        if await asyncio.to_thread(plan_path.is_file):
            return expectations_from_plan(await runner.show_plan(plan_path), {**old_keys, **new_keys})
        # Without the saved plan only presence is known: creations and deletions are told
        # apart, an update in place counts as made.
        return {address: Expectation(key=new_keys.get(address) or old_keys[address],
                                     before={} if address in old_keys else None,
                                     after={} if address in new_keys else None)
                for address in old_keys.keys() | new_keys.keys()}

    async def check_drift(self, project: Project, applied: Sequence[ResourceSpec], *,
                          still_free: Callable[[], Awaitable[bool]]) -> DriftArtifact | None:
        """Plan the project's applied configuration against its state: any change is drift.

        The root is rewritten with the applied configuration first (a plan that was never
        applied may have left its files). `still_free` is asked once this process holds
        the root: a session holding the project's lock has planned files here that its
        apply will check, so the root is left alone and None returned.
        """
        async with self.locks.for_project(project.id):
            if not await still_free():
                return None
            workspace = self.workspace(project)
            await workspace.ensure()
            planned = await asyncio.to_thread(self._render_planned, project, applied, frozenset(
                s.name for s in applied if s.kind == "firewall"))  # applied once, so allowed then
            run_dir = workspace.run_dir("drift")
            runner = await self._runner(project, run_dir, "drift")
            try:
                await workspace.write_files(planned, keep_suffixes=(".hcl",))
                await self._init_if_needed(workspace, runner, planned, ())
                outcome = await runner.plan(run_dir / PLAN_FILE, read_back="always")
            finally:
                await _close(runner)
        return DriftArtifact(result=outcome.result, logical=self.impact(project, outcome.result, applied))

    async def saved_plan(self, project: Project, session_id: int) -> PlanResult:
        """Re-read a session's saved plan file (kept until it is applied), e.g. for a review before approval."""
        async with self.locks.for_project(project.id):
            workspace = self.workspace(project)
            run_dir = workspace.run_dir(str(session_id))
            runner = await self._runner(project, run_dir, "show")
            try:
                return await runner.show_plan(run_dir / PLAN_FILE)
            finally:
                await _close(runner)

    async def cancel(self, session_id: int) -> bool:
        """Interrupt the session's run; False when it runs nothing.

        The running Terraform phase gets SIGINT, then SIGTERM, then SIGKILL; a cancel that
        lands between phases (checks, a fresh read of the plan) stops the next one instead.
        """
        runner = self._runners.get(session_id)
        if runner is None:
            return False
        runner.cancel()
        return True

    async def secure_files(self) -> None:
        """At start-up: the runs directory 0700 and everything in it private (trees from older versions)."""
        runs = Path(self.settings.terraform_runs_dir)
        await asyncio.to_thread(private_dir, runs)
        await asyncio.to_thread(secure_tree, runs)

    async def stop_orphans(self, project_ids: set[int] | None = None) -> set[int]:
        """Stop Terraform processes a dead bot left running (all, or those of `project_ids`); their projects.

        Restart recovery calls this before it frees any lock (see orphans.py for why), and a
        cancel of an apply nobody runs any more before it reads that project's state.
        """
        only = {str(p) for p in project_ids} if project_ids is not None else None
        stopped = await stop_orphans(Path(self.settings.terraform_runs_dir),
                                     grace_s=self.settings.terraform_cancel_grace_s, only=only)
        return {int(o.project_dir) for o in stopped if o.project_dir.isdigit()}

    async def history(self, project: Project, n: int = 10) -> list[CommitInfo]:
        workspace = self.workspace(project)
        await workspace.ensure()
        return await workspace.log(n)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def _close(runner: TerraformRunner) -> None:
    for sink in runner.sinks:
        closer = getattr(sink, "close", None)
        if closer is not None:
            await closer()
