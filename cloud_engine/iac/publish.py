"""Publishing an apply: its commit tagged `apply-<session>`, then pushed to the project's remote if one is set.

Why apart from the deployer: like the commit, neither step may fail an apply (Terraform has
already changed the cloud), and both speak to git and the network, so each failure becomes a
warning in the run summary (and the log) whose text never holds the remote's credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cloud_engine.core.models import Project
from cloud_engine.iac.workspace import ProjectWorkspace, apply_tag, mask_url, remote_url
from cloud_engine.settings import Settings

__all__ = ["ApplyNote", "tag_and_push"]

log = logging.getLogger(__name__)
ApplyNote = Callable[[int], Awaitable[str]]  # who asked for and approved an apply (core/history.py)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def tag_and_push(settings: Settings, project: Project, workspace: ProjectWorkspace, session_id: int, sha: str,
                       commit_message: str, apply_note: ApplyNote | None) -> list[str]:
    """Tag the apply's commit and push it with its tag; the warnings to add to the run summary."""
    tag = apply_tag(session_id)
    try:
        note = await apply_note(session_id) if apply_note is not None else commit_message
        await workspace.tag(tag, f"apply of session {session_id}\n\n{note}", sha)
    except Exception as exc:
        log.warning("applied, but the tag failed", extra={"session_id": session_id, "error": mask_url(_reason(exc))})
        return [f"applied, but the commit was not tagged {tag} ({mask_url(_reason(exc))})"]
    template = settings.project_git_remote
    if template is None:
        return []
    url = remote_url(template.get_secret_value(), project=project.name, project_id=project.id)
    try:
        await workspace.push(url, timeout_s=settings.project_git_push_timeout_s)
    except Exception as exc:
        reason = mask_url(_reason(exc))
        log.warning("applied, but the push failed", extra={"session_id": session_id, "error": reason})
        return [f"applied and committed, but the push to {mask_url(url)} failed ({reason}); "
                f"the commit and tag {tag} stay in the project's root, and the next apply's push brings them"]
    return []
