"""ProjectWorkspace: a git-versioned Terraform root per project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.iac.workspace import GIT_IGNORE, ProjectWorkspace

V1 = {"main.tf": 'resource "null_resource" "a" {}\n', "vars.tf": 'variable "x" {}\n'}
V2 = {"main.tf": 'resource "null_resource" "b" {}\n', "outputs.tf": 'output "o" { value = 1 }\n'}


@pytest.fixture
async def workspace(tmp_path: Path) -> ProjectWorkspace:
    ws = ProjectWorkspace(tmp_path / "terraform_runs" / "proj-1")
    await ws.ensure()
    return ws


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={root / '.git'}", f"--work-tree={root}", *args],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


async def test_ensure_creates_repo_on_main_with_gitignore(workspace: ProjectWorkspace) -> None:
    root = workspace.root
    assert (root / ".git").is_dir()
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(root, "config", "--local", "user.email").strip()
    ignore = (root / ".gitignore").read_text()
    for pattern in (".terraform/", "*.tfstate", "*.tfstate.*", "*.bin", "*.log", "/.runs/"):
        assert pattern in ignore.splitlines()
    head = await workspace.head()
    await workspace.ensure()  # idempotent
    assert await workspace.head() == head
    assert len(await workspace.log()) == 1


async def test_write_commit_log_and_files_at(workspace: ProjectWorkspace) -> None:
    assert await workspace.write_files(V1) == ["main.tf", "vars.tf"]
    first = await workspace.commit("deploy v1")
    assert await workspace.write_files(V1) == [], "rewriting identical content changes nothing"

    changed = await workspace.write_files(V2)
    assert changed == ["main.tf", "outputs.tf", "vars.tf"]
    assert not (workspace.root / "vars.tf").exists(), "managed files no longer present are removed"
    second = await workspace.commit("deploy v2\n\nadds an output")
    assert second != first

    log = await workspace.log(n=10)
    assert [c.sha for c in log[:2]] == [second, first]
    assert log[0].message == "deploy v2\n\nadds an output"
    assert log[1].message == "deploy v1"
    assert log[0].date.tzinfo is not None
    assert len(await workspace.log(n=1)) == 1

    assert await workspace.files_at(first) == V1
    assert await workspace.files_at(first[:10]) == V1  # abbreviated ids work too
    assert await workspace.files_at(second) == V2
    assert await workspace.read_files() == V2

    # Rollback: write an older commit's files back; the new commit restores them.
    await workspace.write_files(await workspace.files_at(first))
    rollback = await workspace.commit(f"rollback to {first[:8]}")
    assert await workspace.files_at(rollback) == V1


async def test_an_apply_that_changes_nothing_still_gets_its_own_commit(workspace: ProjectWorkspace) -> None:
    """Each successful apply is one commit naming its session, even with the configuration unchanged."""
    await workspace.write_files(V1)
    first = await workspace.commit("session 1 by user 100: 2 to add")
    assert await workspace.write_files(V1) == []
    second = await workspace.commit("session 2 by user 200: 0 to add")
    assert second != first
    log = await workspace.log()
    assert [(c.sha, c.message) for c in log[:2]] == [(second, "session 2 by user 200: 0 to add"),
                                                     (first, "session 1 by user 100: 2 to add")]
    assert await workspace.files_at(second) == await workspace.files_at(first) == V1


async def test_terraform_artefacts_and_run_dirs_are_ignored(workspace: ProjectWorkspace) -> None:
    await workspace.write_files(V1)
    root = workspace.root
    run = workspace.run_dir("sess-42")
    assert run == root / ".runs" / "sess-42" and run.is_dir()
    (run / "plan.bin").write_bytes(b"plan")
    (run / "apply.log").write_text("log")
    (root / "terraform.tfstate").write_text("{}")
    (root / "terraform.tfstate.backup").write_text("{}")
    (root / ".terraform").mkdir()
    (root / ".terraform" / "x").write_text("cache")
    sha = await workspace.commit("v1")
    tracked = git(root, "ls-tree", "-r", "--name-only", sha).split()
    assert sorted(tracked) == [".gitignore", "main.tf", "vars.tf"]


async def test_git_ignores_enclosing_repo_and_global_config(tmp_path: Path, monkeypatch) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    run("git", "init", "-q", str(outer))
    monkeypatch.setenv("GIT_DIR", str(outer / ".git"))  # must not leak into our git calls
    monkeypatch.setenv("GIT_AUTHOR_NAME", "someone-else")
    ws = ProjectWorkspace(outer / "terraform_runs" / "p")
    await ws.ensure()
    await ws.write_files(V1)
    await ws.commit("v1")
    monkeypatch.delenv("GIT_DIR")
    assert (ws.root / ".git").is_dir()
    assert run("git", "-C", str(outer), "log", check=False).returncode != 0, "outer untouched"
    author = git(ws.root, "log", "-1", "--format=%an").strip()
    assert author == "Cloud Engine"


async def test_bad_input_is_rejected(workspace: ProjectWorkspace) -> None:
    for name in ("../escape.tf", "sub/dir.tf", "notes.txt", ".hidden.tf"):
        with pytest.raises(InvalidInput):
            await workspace.write_files({name: ""})
    with pytest.raises(InvalidInput):
        workspace.run_dir("../other")
    with pytest.raises(InvalidInput):
        await workspace.files_at("HEAD~1; rm -rf /")
    with pytest.raises(NotFound):
        await workspace.files_at("0" * 40)
    with pytest.raises(InvalidInput):
        await workspace.commit("  ")


async def test_a_partial_write_removes_stale_terraform_files_but_keeps_the_shown_hcl(
        workspace: ProjectWorkspace) -> None:
    await workspace.ensure()
    await workspace.write_files({"main.tf": "# v1\n", "backend.tf": "# old backend\n", "gcp.main.hcl": "# shown\n"})
    changed = await workspace.write_files({"main.tf": "# v2\n"}, keep_suffixes=(".hcl",))
    assert changed == ["backend.tf", "main.tf"], "Terraform must not plan a backend the project no longer has"
    assert await workspace.read_files() == {"main.tf": "# v2\n", "gcp.main.hcl": "# shown\n"}


def _leave_secrets_behind(root: Path) -> None:
    """What the first apply of a project leaves in its root besides the configuration."""
    (root / "terraform.tfstate").write_text('{"serial": 1}')
    (root / ".runs" / "7").mkdir(parents=True)
    (root / ".runs" / "7" / "plan.bin").write_bytes(b"db_password=hunter2")
    (root / ".runs" / "7" / "apply.log").write_text("log")


async def test_ensure_completes_a_repository_interrupted_after_git_init(tmp_path: Path) -> None:
    """A restart after `git init` must not let the first apply version the state, plan file and logs."""
    root = tmp_path / "terraform_runs" / "proj-1"
    root.mkdir(parents=True)
    run("git", "init", "-q", "--initial-branch=main", str(root))  # the process died right here
    ws = ProjectWorkspace(root)
    await ws.ensure()
    assert (root / ".gitignore").read_text() == GIT_IGNORE
    assert [c.message for c in await ws.log()] == ["Initialise project workspace"]

    await ws.write_files(V1)
    _leave_secrets_behind(root)
    sha = await ws.commit("session 7 by user 1: apply")
    assert sorted(git(root, "ls-tree", "-r", "--name-only", sha).split()) == [".gitignore", "main.tf", "vars.tf"]


async def test_ensure_drops_what_an_interrupted_run_staged_before_the_first_commit(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    run("git", "init", "-q", "--initial-branch=main", str(root))
    _leave_secrets_behind(root)
    git(root, "add", "-A")  # staged with no .gitignore, then the process died
    ws = ProjectWorkspace(root)
    await ws.ensure()
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == [".gitignore"]
    await ws.write_files(V1)
    sha = await ws.commit("v1")
    assert sorted(git(root, "ls-tree", "-r", "--name-only", sha).split()) == [".gitignore", "main.tf", "vars.tf"]


async def test_ensure_restores_a_missing_or_altered_gitignore(workspace: ProjectWorkspace) -> None:
    root = workspace.root
    head = await workspace.head()
    (root / ".gitignore").write_text("# truncated by a crash\n")
    await workspace.ensure()
    assert (root / ".gitignore").read_text() == GIT_IGNORE
    (root / ".gitignore").unlink()
    await workspace.ensure()
    assert (root / ".gitignore").read_text() == GIT_IGNORE
    assert await workspace.head() == head, "a complete repository gets no new commit"
    _leave_secrets_behind(root)
    sha = await workspace.commit("v1")
    assert git(root, "ls-tree", "-r", "--name-only", sha).split() == [".gitignore"]
