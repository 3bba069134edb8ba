"""Project history in git: every apply tagged, pushed to a project's remote, and read back as typed entries.

Real git, the real Terraform binary on the sandbox target, and a bare repository in tmp_path as the
team's remote (or a path that does not exist, or an https URL with a token nobody answers).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.history import HistoryEntry, ProjectLog
from cloud_engine.core.models import State
from cloud_engine.errors import InvalidInput, NotFound, PermissionDenied
from cloud_engine.store.database import Database
from tests.cloud_engine.core.test_state_truth import run_child
from tests.conftest import ADMIN, GUILD, OTHER, USER, VIEWER


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
                               "GIT_CONFIG_GLOBAL": "/dev/null"}).stdout.strip()


async def _engine(db: Database, settings, clock, remote: str | None) -> CloudOrchestrator:
    settings = settings.model_copy(update={"project_git_remote": SecretStr(remote) if remote else None})
    engine = CloudOrchestrator(db, settings, clock=clock)
    for user, role in ((ADMIN, "CloudAdmin"), (USER, "CloudUser"), (OTHER, "CloudUser"), (VIEWER, "CloudViewer")):
        await engine.grant(GUILD, ADMIN, user, role)
    return engine


async def _apply(engine: CloudOrchestrator, project_id: int, vm: str, *, author: int = USER, approver: int = OTHER):
    session = await engine.start_session(project_id, author, purpose=f"add {vm}")
    await engine.add_resource(session.id, author, ResourceSpec(kind="vm", name=vm, machine_type="e2-small"))
    await engine.plan(session.id, author)
    await engine.approve(session.id, approver)
    return await engine.apply(session.id, author)


async def _sha(engine: CloudOrchestrator, session_id: int) -> str:
    row = await engine.db.fetchone("SELECT commit_sha FROM deployment_history WHERE session_id = ?", (session_id,))
    assert row is not None and row["commit_sha"]
    return str(row["commit_sha"])


async def test_each_apply_is_a_tagged_commit_pushed_to_the_projects_remote(db, settings, clock, tmp_path) -> None:
    remotes = tmp_path / "remotes"
    remotes.mkdir()
    _git("init", "-q", "--bare", str(remotes / "infra-web.git"))
    engine = await _engine(db, settings, clock, f"file://{remotes}/infra-{{project}}.git")
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")

    first = await _apply(engine, project.id, "api-1")
    second = await _apply(engine, project.id, "api-2")
    assert (first.state, second.state) == (State.APPLIED, State.APPLIED)
    assert first.error is None and second.error is None  # no warning: tagged and pushed
    first_sha, second_sha = await _sha(engine, first.id), await _sha(engine, second.id)

    bare = str(remotes / "infra-web.git")
    assert _git("--git-dir", bare, "rev-parse", "refs/heads/main") == second_sha
    assert _git("--git-dir", bare, "rev-parse", f"apply-{first.id}^{{commit}}") == first_sha
    assert _git("--git-dir", bare, "rev-parse", f"apply-{second.id}^{{commit}}") == second_sha
    annotation = _git("--git-dir", bare, "tag", "-l", "--format=%(contents)", f"apply-{second.id}")
    assert annotation.splitlines()[0] == f"apply of session {second.id}"
    assert f"session: {second.id}" in annotation and f"author: user {USER}" in annotation
    assert f"approved by: user {OTHER}" in annotation and "purpose: add api-2" in annotation

    found = await engine.git_log(GUILD, VIEWER, "web")
    assert isinstance(found, ProjectLog) and all(isinstance(e, HistoryEntry) for e in found.entries)
    assert found.remote == f"file://{remotes}/infra-web.git"
    newest, older, initial = found.entries
    assert (newest.sha, newest.session_id, newest.author_id, newest.tags) == (
        second_sha, second.id, USER, (f"apply-{second.id}",))
    assert newest.short_sha == second_sha[:7] and newest.summary == "1 to add, 0 to update in place, 0 to replace, 0 to destroy (add api-2)"
    assert (older.session_id, older.tags) == (first.id, (f"apply-{first.id}",))
    assert (initial.session_id, initial.author_id, initial.summary) == (None, None, "Initialise project workspace")
    assert newest.date >= older.date >= initial.date
    assert [e.sha for e in (await engine.git_log(GUILD, VIEWER, "web", limit=1)).entries] == [second_sha]


async def test_a_failed_push_is_a_warning_never_a_failed_apply(db, settings, clock, tmp_path) -> None:
    engine = await _engine(db, settings, clock, f"{tmp_path}/no-such-dir/{{project}}.git")
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    done = await _apply(engine, project.id, "api-1")
    assert done.state == State.APPLIED
    assert done.error is not None
    assert f"applied and committed, but the push to {tmp_path}/no-such-dir/web.git failed" in done.error
    assert f"the commit and tag apply-{done.id} stay in the project's root" in done.error
    assert [r["name"] for r in await engine.db.fetchall("SELECT name FROM project_resources")] == ["api-1"]
    root = Path(settings.terraform_runs_dir) / str(project.id)
    assert _git("--git-dir", str(root / ".git"), "rev-parse", f"apply-{done.id}^{{commit}}") == await _sha(engine, done.id)
    audit = await engine.db.fetchone("SELECT detail FROM audit_log WHERE action = 'session.apply_succeeded'"
                                     " OR (target_id = ? AND to_state = 'APPLIED')", (str(done.id),))
    assert audit is not None and "push to" in audit["detail"]


async def test_a_remote_s_credentials_never_reach_the_warning_or_the_history(db, settings, clock) -> None:
    # Port 9 (discard) on loopback: nothing listens, the push is refused at once.
    engine = await _engine(db, settings, clock, "https://ci-bot:s3cretT0kenValue@127.0.0.1:9/acme/infra-{project}.git")
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    done = await _apply(engine, project.id, "api-1")
    assert done.state == State.APPLIED and done.error is not None
    assert "push to https://****@127.0.0.1:9/acme/infra-web.git failed" in done.error
    assert "s3cretT0kenValue" not in done.error and "ci-bot" not in done.error
    rows = await engine.db.fetchall("SELECT detail FROM audit_log")
    assert not any("s3cretT0kenValue" in (r["detail"] or "") for r in rows)
    assert (await engine.git_log(GUILD, USER, "web")).remote == "https://****@127.0.0.1:9/acme/infra-web.git"


async def test_history_needs_a_viewer_and_a_project_of_this_server(engine: CloudOrchestrator) -> None:
    await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    with pytest.raises(PermissionDenied):
        await engine.git_log(GUILD, 424242, "web")
    with pytest.raises(NotFound):
        await engine.git_log(GUILD, VIEWER, "nope")
    await engine.grant(GUILD + 1, ADMIN, VIEWER, "CloudViewer")  # a viewer of another server
    with pytest.raises(NotFound):
        await engine.git_log(GUILD + 1, VIEWER, "web")
    found = await engine.git_log(GUILD, VIEWER, "web")
    [initial] = found.entries
    assert (found.remote, initial.summary, initial.session_id) == (None, "Initialise project workspace", None)


async def test_budget_alert_thresholds_are_added_by_admins_and_audited(engine: CloudOrchestrator, clock) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1",
                                          budget_monthly=100)
    added = await engine.set_budget_alert(GUILD, ADMIN, "web", 120)
    assert (added.added, added.thresholds) == (True, [50, 80, 100, 120])
    assert (await engine.get_project(project.id)).alert_thresholds == [50, 80, 100, 120]
    again = await engine.set_budget_alert(GUILD, ADMIN, "web", 80)
    assert (again.added, again.thresholds) == (False, [50, 80, 100, 120])
    rows = await engine.db.fetchall("SELECT actor_id, target_id, detail FROM audit_log WHERE action = 'budget_alert.set'"
                                    " ORDER BY id")
    assert [(r["actor_id"], r["target_id"]) for r in rows] == [(ADMIN, str(project.id))] * 2
    assert '"added": true' in rows[0]["detail"] and '"thresholds": [50, 80, 100, 120]' in rows[0]["detail"]
    with pytest.raises(PermissionDenied):
        await engine.set_budget_alert(GUILD, USER, "web", 90)
    for bad in (0, 1001, True):
        with pytest.raises(InvalidInput):
            await engine.set_budget_alert(GUILD, ADMIN, "web", bad)
    with pytest.raises(NotFound):
        await engine.set_budget_alert(GUILD, ADMIN, "nope", 90)
    assert (await engine.get_project(project.id)).alert_thresholds == [50, 80, 100, 120]


async def test_a_new_threshold_is_recorded_when_a_validation_crosses_it(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1",
                                          budget_monthly=100)
    await engine.set_budget_alert(GUILD, ADMIN, "web", 1)
    await engine.set_budget_alert(GUILD, ADMIN, "web", 1000)
    session = await engine.start_session(project.id, ADMIN)
    await engine.add_resource(session.id, ADMIN, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    validated = await engine.validate(session.id, ADMIN)
    assert validated.ok and 1 <= validated.project_monthly_after < 50  # a small VM: over 1 % of $100, under 50 %
    assert [a.threshold_pct for a in await engine.budget_alerts(project.id)] == [1]


async def test_an_apply_cut_off_by_a_restart_is_tagged_and_pushed_when_it_is_settled(db, settings, clock,
                                                                                   tmp_path) -> None:
    engine = await _engine(db, settings, clock, None)
    project = await engine.create_project(GUILD, ADMIN, name="web", provider="gcp", region="us-central1")
    session = await engine.start_session(project.id, USER, purpose="add api-1")
    await engine.add_resource(session.id, USER, ResourceSpec(kind="vm", name="api-1", machine_type="e2-small"))
    await engine.plan(session.id, USER)
    await engine.approve(session.id, OTHER)
    child = run_child(settings, session.id, "apply", "after_terraform_apply")  # killed before its commit
    assert child.returncode == -9, child.stderr[-2000:]

    remote = tmp_path / "infra-web.git"
    _git("init", "-q", "--bare", str(remote))
    restarted = await _engine(db, settings, clock, f"{tmp_path}/infra-{{project}}.git")
    [settled] = await restarted.recover_interrupted()
    assert settled.state == State.APPLIED and "push" not in (settled.error or "")
    sha = await _sha(restarted, session.id)
    assert _git("--git-dir", str(remote), "rev-parse", "refs/heads/main") == sha
    assert _git("--git-dir", str(remote), "rev-parse", f"apply-{session.id}^{{commit}}") == sha
    annotation = _git("--git-dir", str(remote), "tag", "-l", "--format=%(contents)", f"apply-{session.id}")
    assert f"author: user {USER}" in annotation and f"approved by: user {OTHER}" in annotation
