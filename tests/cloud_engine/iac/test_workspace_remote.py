"""ProjectWorkspace tags and pushes: annotated apply tags, a bare repository as the remote, masked failures."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from cloud_engine.errors import InvalidInput
from cloud_engine.iac.workspace import GitError, ProjectWorkspace, apply_tag, mask_url, remote_url


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, capture_output=True)
    return path


def refs(repo: Path) -> dict[str, str]:
    out = subprocess.run(["git", f"--git-dir={repo}", "for-each-ref", "--format=%(refname) %(objectname)"],
                         check=True, capture_output=True, text=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


@pytest.fixture
async def workspace(tmp_path: Path) -> ProjectWorkspace:
    ws = ProjectWorkspace(tmp_path / "runs" / "1")
    await ws.ensure()
    return ws


async def test_a_tag_is_annotated_shown_in_the_log_and_moves_when_tagged_again(workspace: ProjectWorkspace) -> None:
    await workspace.write_files({"main.tf": "# one\n"})
    first = await workspace.commit("session 1 by user 2: one")
    await workspace.tag(apply_tag(1), "apply of session 1\n\napproved by: user 3")
    assert await workspace.tag_message("apply-1") == "apply of session 1\n\napproved by: user 3"
    [newest, initial] = await workspace.log(5)
    assert (newest.sha, newest.tags, initial.tags) == (first, ("apply-1",), ())
    again = await workspace.commit("session 1 by user 2: one (reconciled)")
    await workspace.tag(apply_tag(1), "apply of session 1, reconciled")
    [newest, older, _] = await workspace.log(5)
    assert (newest.sha, newest.tags, older.tags) == (again, ("apply-1",), ())
    for bad in ("-f", "a b", "../x", ""):
        with pytest.raises(InvalidInput):
            await workspace.tag(bad, "x")


async def test_push_sends_main_and_every_apply_tag_even_those_a_failed_push_left(workspace: ProjectWorkspace,
                                                                                tmp_path: Path) -> None:
    await workspace.commit("session 1 by user 2: one")
    await workspace.tag("apply-1", "apply of session 1")
    with pytest.raises(GitError) as failed:
        await workspace.push(str(tmp_path / "missing" / "repo.git"))
    assert "push" in str(failed.value) and str(tmp_path / "missing" / "repo.git") in str(failed.value)

    remote = bare(tmp_path / "remote.git")
    second = await workspace.commit("session 2 by user 2: two")
    await workspace.tag("apply-2", "apply of session 2")
    await workspace.push(f"file://{remote}")
    pushed = refs(remote)
    assert pushed["refs/heads/main"] == second
    assert {"refs/tags/apply-1", "refs/tags/apply-2"} <= pushed.keys()


async def test_a_remote_that_moved_on_refuses_the_push(workspace: ProjectWorkspace, tmp_path: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    other = ProjectWorkspace(tmp_path / "elsewhere")
    await other.ensure()
    await other.write_files({"main.tf": "# theirs\n"})
    await other.commit("someone else's change")
    await other.push(str(remote))  # someone else's history on main
    await workspace.commit("session 1 by user 2: one")
    with pytest.raises(GitError):
        await workspace.push(str(remote))  # never forced over it
    assert refs(remote)["refs/heads/main"] == await other.head()


def test_remote_urls_from_the_template_and_their_credentials_masked() -> None:
    assert remote_url("git@github.com:acme/infra-{project}.git", project="web", project_id=7) == \
        "git@github.com:acme/infra-web.git"
    assert remote_url("/srv/git/{project_id}-{project}.git", project="web", project_id=7) == "/srv/git/7-web.git"
    assert remote_url("x/{project.__class__}/{project}", project="web", project_id=7) == "x/{project.__class__}/web"
    text = "fatal: unable to access 'https://ci:ghp_s3cretvalue@github.com/acme/infra-web.git/': refused"
    assert mask_url(text) == "fatal: unable to access 'https://****@github.com/acme/infra-web.git/': refused"
    assert mask_url("git@github.com:acme/x.git") == "git@github.com:acme/x.git"


async def test_a_remote_that_never_answers_is_given_up_after_the_timeout(workspace: ProjectWorkspace) -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, then say nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(GitError) as timed_out:
            await workspace.push(f"git://127.0.0.1:{port}/infra-web.git", timeout_s=1.0)
        assert f"no answer from git://127.0.0.1:{port}/infra-web.git in 1 s" in str(timed_out.value)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
