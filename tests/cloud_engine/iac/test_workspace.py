"""ProjectWorkspace: a git-versioned Terraform root per project."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.iac.workspace import ProjectWorkspace

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


async def test_commit_without_changes_is_a_no_op(workspace: ProjectWorkspace) -> None:
    await workspace.write_files(V1)
    sha = await workspace.commit("v1")
    count = len(await workspace.log())
    assert await workspace.commit("nothing new") == sha
    assert len(await workspace.log()) == count


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
