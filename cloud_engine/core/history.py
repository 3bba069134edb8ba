"""A project's history as its Terraform root's git log, and the notes every apply's tag carries.

Why git: the root (`terraform_runs/<project_id>/`) is a git repository where every apply is
one commit, tagged `apply-<session>` and, when `PROJECT_GIT_REMOTE` is set, pushed where the
team keeps its repositories (iac/terraform_deployer.py). `/cloud-history` reads that log, not
the database, so what it shows is what the repository holds. Each commit's message names its
session ("session N by user U: summary"); the session's author comes from its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cloud_engine.core.approvals import plan_approvals
from cloud_engine.core.models import Session
from cloud_engine.store.sessions import authors_of, find_session

if TYPE_CHECKING:
    from cloud_engine.core.workflow import DeploymentWorkflow

__all__ = ["HistoryEntry", "ProjectHistory", "ProjectLog"]

MAX_ENTRIES = 25
_APPLY_MESSAGE = re.compile(r"^session (?P<session>\d+) by user (?P<user>\d+): (?P<summary>.*)$", re.DOTALL)


@dataclass(frozen=True)
class HistoryEntry:
    """One commit of a project's root, newest first in a `ProjectLog`."""

    sha: str
    date: datetime
    summary: str
    session_id: int | None = None  # None: a commit no session made (the root's first commit)
    author_id: int | None = None  # the session's user
    tags: tuple[str, ...] = ()

    @property
    def short_sha(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class ProjectLog:
    project: str
    project_id: int
    entries: list[HistoryEntry]
    remote: str | None  # the project's remote, credentials masked; None without PROJECT_GIT_REMOTE


class ProjectHistory:
    """Reads a project's git log for viewers, and writes the annotation of each apply's tag."""

    def __init__(self, engine: DeploymentWorkflow) -> None:
        self.engine = engine

    def attach(self, deployer: object) -> None:
        """Give a deployer that tags applies (TerraformDeployer.apply_note) this service's notes."""
        if getattr(deployer, "apply_note", False) is None:
            setattr(deployer, "apply_note", self.apply_note)  # noqa: B010 (a Deployer port without the hook)

    async def log(self, guild_id: int, user_id: int, project: str, *, limit: int = 10) -> ProjectLog:
        """The project's last `limit` commits (1 to 25), newest first, for anyone who may view."""
        limit = max(1, min(int(limit), MAX_ENTRIES))
        await self.engine.access.require(guild_id, user_id, "view")
        found = await self.engine.projects.find_project(guild_id, project)
        history = getattr(self.engine.deployer, "history", None)
        commits = await history(found, limit) if history is not None else []
        parsed = [(c, _APPLY_MESSAGE.match(c.message)) for c in commits]
        ids = sorted({int(m["session"]) for _, m in parsed if m})
        authors = await authors_of(self.engine.db, found.id, ids) if ids else {}
        entries = []
        for commit, match in parsed:
            if match is None:
                entries.append(HistoryEntry(sha=commit.sha, date=commit.date, summary=_first_line(commit.message),
                                            tags=tuple(getattr(commit, "tags", ()))))
                continue
            session_id = int(match["session"])
            entries.append(HistoryEntry(sha=commit.sha, date=commit.date, summary=_first_line(match["summary"]),
                                        session_id=session_id, author_id=authors.get(session_id, int(match["user"])),
                                        tags=tuple(getattr(commit, "tags", ()))))
        return ProjectLog(project=found.name, project_id=found.id, entries=entries, remote=self._remote(found.name, found.id))

    def _remote(self, name: str, project_id: int) -> str | None:
        template = self.engine.settings.project_git_remote
        if template is None:
            return None
        from cloud_engine.iac.workspace import mask_url, remote_url

        return mask_url(remote_url(template.get_secret_value(), project=name, project_id=project_id))

    async def apply_note(self, session_id: int) -> str:
        """What an apply's tag says: the session, its author, purpose and every approver of its plan."""
        session = await find_session(self.engine.db, session_id)
        if session is None:
            return f"session: {session_id}"
        approvers = await self._approvers(session)
        lines = [f"session: {session.id}", f"author: user {session.user_id}",
                 "approved by: " + (", ".join(f"user {a}" for a in approvers) or "nobody recorded"),
                 f"purpose: {session.purpose}"]
        return "\n".join(lines)

    async def _approvers(self, session: Session) -> list[int]:
        approvers: list[int] = []
        if session.plan_fingerprint:
            for approval in await plan_approvals(self.engine.db, session.id, session.plan_fingerprint):
                if approval.approver_id not in approvers:
                    approvers.append(approval.approver_id)
        if session.approved_by is not None and session.approved_by not in approvers:
            approvers.append(session.approved_by)
        return approvers


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
