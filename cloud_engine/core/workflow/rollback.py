"""Rollback: a normal session back to an earlier applied configuration.

Why apart: it composes the other rooms (permissions first, then a session with the changes) and
adds nothing to the state machine.
"""

from __future__ import annotations

import re

from cloud_engine.core.models import ResourceSpec, Session
from cloud_engine.core.workflow._base import WorkflowBase
from cloud_engine.errors import InvalidInput, NotFound
from cloud_engine.store import projects, sessions

_COMMIT_PREFIX = re.compile(r"[0-9a-f]{7,40}")


class Rollback(WorkflowBase):
    """Rollback: a normal session back to an earlier applied configuration."""

    async def rollback(self, project_id: int, user_id: int, commit_sha: str) -> Session:
        """Open a session that returns the project to the configuration applied at `commit_sha`.

        It is a normal session: it is validated, planned, approved and applied like any other.
        """
        project = await self.get_project(project_id)  # NotFound for an unknown project
        # Who may roll back is decided before anything about the project's history is looked up,
        # so an outsider learns neither its commits nor where it stands.
        await self._require(project.guild_id, user_id, "deploy")
        prefix = commit_sha.strip().lower()
        if not _COMMIT_PREFIX.fullmatch(prefix):
            raise InvalidInput(field="commit", rule="7 to 40 hexadecimal characters of an applied commit")
        applied = await projects.applied_commit(self.db, project_id, prefix)
        if applied is None or applied.commit_sha is None:
            raise NotFound(what="applied commit", key=prefix)
        commit = applied.commit_sha
        target = {(s["kind"], s["name"]): ResourceSpec(**s) for s in applied.summary.get("resources", [])}
        current = {(r.kind, r.name): r.spec for r in await self.project_resources(project_id)}
        changed = [spec for key, spec in target.items() if current.get(key) != spec]
        removed = sorted(current.keys() - target.keys())
        # Refused before any session exists: a half-built rollback would plan as a partial one.
        if not changed and not removed:
            raise InvalidInput(field="commit", rule=f"project {project.name} is already at {commit[:12]}")
        if removed:
            await self._require(project.guild_id, user_id, "destroy")
        session = await self.start_session(project_id, user_id, purpose=f"rollback to {commit[:12]}")
        try:
            await sessions.set_target_commit(self.db, session.id, commit)
            for spec in changed:
                await self.add_resource(session.id, user_id, spec)
            for kind, name in removed:
                await self.remove_resource(session.id, user_id, kind, name)
        except BaseException:
            await self.cancel(session.id, user_id, reason="the rollback could not be prepared")
            raise
        return await self.get_session(session.id)

