"""One project's Terraform root as a small git repository (`terraform_runs/<project_id>/`).

Why git: every applied configuration becomes a commit, so the project has an audit trail
of what was deployed and a rollback source: `files_at(sha)` returns an older
configuration, the engine writes it back and plans, and that plan goes through approval
like any other. Session artefacts (plan files, logs) live under `.runs/` inside the root
but are git-ignored, as are Terraform's state and provider cache.

Git runs with a clean environment and explicit `--git-dir`/`--work-tree`, so neither the
host's global config nor an enclosing repository (the root sits inside the bot's own
checkout) can change what it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cloud_engine.errors import EngineError, InvalidInput, NotFound
from cloud_engine.private_files import CHILD_UMASK, private_dir, secure_tree, write_private_text
from cloud_engine.secret_text import mask_secrets

__all__ = ["GIT_IGNORE", "MANAGED_SUFFIXES", "CommitInfo", "GitError", "ProjectWorkspace", "apply_tag", "mask_url",
           "remote_url"]

# `.hcl` holds the real provider configuration kept beside a sandbox mirror (Terraform ignores it).
MANAGED_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".hcl")
RUNS_DIR = ".runs"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
GIT_IGNORE = f"""\
# Managed by Cloud Engine: only the configuration is versioned.
.terraform/
*.tfstate
*.tfstate.*
.terraform.tfstate.lock.info
*.tfplan
*.bin
*.fingerprint.json
*.log
crash.log
.*.tmp
/{RUNS_DIR}/
"""
_AUTHOR = ("Cloud Engine", "cloud-engine@localhost")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_REVISION = re.compile(r"^[0-9a-fA-F]{4,64}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_FIELD, _RECORD = "\x1f", "\x1e"
# Userinfo in a URL (`https://user:token@host/...`): what a remote's credentials look like in text.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


class GitError(EngineError):
    """A git command failed unexpectedly (not a user mistake)."""

    template = "git {command} failed: {detail}"


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    date: datetime
    message: str
    tags: tuple[str, ...] = ()


def apply_tag(session_id: int | str) -> str:
    """The tag every apply's commit gets: `apply-<session id>`."""
    return f"apply-{session_id}"


def remote_url(template: str, *, project: str, project_id: int) -> str:
    """A project's remote from the `PROJECT_GIT_REMOTE` template (`{project}`, `{project_id}`).

    Plain replacement, not `str.format`: a template is configuration, and format fields
    could reach attributes of the values.
    """
    return template.replace("{project_id}", str(project_id)).replace("{project}", project)


def mask_url(text: str) -> str:
    """`text` with the credentials of every URL in it (`user:token@`) and every known secret masked."""
    return mask_secrets(_URL_USERINFO.sub(lambda m: f"{m['scheme']}****@", text))


class ProjectWorkspace:
    """The git-versioned Terraform root of one project."""

    def __init__(self, root: Path, *, author: tuple[str, str] = _AUTHOR) -> None:
        self.root = Path(root).resolve()  # git runs with cwd=root; relative --git-dir would double up
        self._author = author

    # -- setup ------------------------------------------------------------------------

    async def ensure(self) -> None:
        """Create the root, the repository (branch main), .gitignore and a first commit.

        Idempotent per step, not just "a repository exists": a process killed after `git
        init` left a repository with no .gitignore and no commit, and the first apply's
        `git add -A` then versioned the state, the saved plan (variables in clear text) and
        the logs. So each run checks every step: .gitignore is rewritten when missing or not
        ours, and the first commit is made while HEAD does not resolve. A complete
        repository costs a few file reads in one worker thread, no git process: this runs
        before every plan.
        """
        if await asyncio.to_thread(self._complete):
            return
        if not await asyncio.to_thread((self.root / ".git" / "HEAD").exists):
            await self._git("init", "-q", "--initial-branch=main", str(self.root), repository=False)
        await asyncio.to_thread(self._ensure_gitignore)
        if await self._has_head():
            return
        name, email = self._author
        await self._git("config", "user.name", name)
        await self._git("config", "user.email", email)
        await self._git("config", "commit.gpgsign", "false")
        # With no commit yet, anything staged was staged by an interrupted run (possibly a
        # `git add -A` before .gitignore existed); ignored paths already in the index would
        # stay tracked, so the first commit starts from an empty index.
        await self._git("read-tree", "--empty")
        await self._git("add", "--", ".gitignore")
        await self._git("commit", "-q", "--no-verify", "-m", "Initialise project workspace")

    def _complete(self) -> bool:
        """Whether the repository is fully set up, from its files (blocking; False when unsure).

        The .gitignore is repaired on the way. HEAD counts as resolving when its branch has
        a loose or packed ref; anything else goes the slow way, through `git rev-parse`.
        """
        private_dir(self.root)
        git = self.root / ".git"
        try:
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return False
        self._ensure_gitignore()
        if not head.startswith("ref: "):
            return bool(_SHA.fullmatch(head))
        ref = head.removeprefix("ref: ")
        try:
            if _SHA.fullmatch((git / ref).read_text(encoding="utf-8").strip()):
                return True
        except OSError:
            pass
        try:
            packed = (git / "packed-refs").read_text(encoding="utf-8")
        except OSError:
            return False
        return any(line.endswith(" " + ref) and _SHA.fullmatch(line.split(" ", 1)[0])
                   for line in packed.splitlines())

    def _ensure_gitignore(self) -> None:
        path = self.root / ".gitignore"
        try:
            if path.read_text(encoding="utf-8") == GIT_IGNORE:
                return
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        write_private_text(path, GIT_IGNORE)

    async def _has_head(self) -> bool:
        try:
            await self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        except GitError:
            return False
        return True

    def run_dir(self, session_id: str) -> Path:
        """The git-ignored folder for one session's plan files and logs (created)."""
        if not _SESSION_ID.match(session_id):
            raise InvalidInput(field="session id", rule="letters, digits, '-' and '_' only")
        return private_dir(self.root / RUNS_DIR / session_id)

    # -- configuration files ----------------------------------------------------------

    async def write_files(self, files: dict[str, str], *, keep_suffixes: tuple[str, ...] = ()) -> list[str]:
        """Make the root's managed files exactly `files`; return the names that changed.

        Each file is written atomically (temp file + rename); managed files not in `files`
        are removed, except those ending in `keep_suffixes` (e.g. the shown `.hcl` copies,
        which Terraform never reads, kept until they are rewritten after a plan). Other
        files (.gitignore, lock file, state) are never touched.
        """
        for name in files:
            _check_file_name(name)
        return await asyncio.to_thread(self._write_files_sync, dict(files), keep_suffixes)

    def _write_files_sync(self, files: dict[str, str], keep_suffixes: tuple[str, ...]) -> list[str]:
        changed: list[str] = []
        for path in sorted(self._managed_paths()):
            if path.name not in files and not (keep_suffixes and path.name.endswith(keep_suffixes)):
                path.unlink()
                changed.append(path.name)
        for name, text in sorted(files.items()):
            path = self.root / name
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            write_private_text(path, text)
            changed.append(name)
        return sorted(changed)

    async def read_files(self) -> dict[str, str]:
        """The managed files currently in the root."""

        def read() -> dict[str, str]:
            return {p.name: p.read_text(encoding="utf-8") for p in sorted(self._managed_paths())}

        return await asyncio.to_thread(read)

    def _managed_paths(self) -> list[Path]:
        # Dotfiles are Terraform's or git's own (.terraform.lock.hcl, .gitignore), never ours.
        return [p for p in self.root.iterdir()
                if p.is_file() and p.name.endswith(MANAGED_SUFFIXES) and not p.name.startswith(".")]

    # -- history ----------------------------------------------------------------------

    async def commit(self, message: str) -> str:
        """Commit every non-ignored change and return the new commit's sha.

        Always a new commit, empty if nothing changed: each successful apply is one commit
        whose message names its session, user and summary, so an apply that left the
        configuration as it was (e.g. one that only re-created drifted resources) is still
        in the history, and its history row points at its own commit, not an older one.

        The message is masked (it names a purpose and errors users typed), and the root is
        then made private again: Terraform writes some files with fixed modes (its lock file
        is always 0644) and older roots predate private files.
        """
        if not message.strip():
            raise InvalidInput(field="commit message", rule="must not be empty")
        await self._git("add", "-A", "--", ".")
        await self._git("commit", "-q", "--no-verify", "--allow-empty", "-m", mask_secrets(message))
        await asyncio.to_thread(secure_tree, self.root)
        return await self.head()

    async def head(self) -> str:
        return (await self._git("rev-parse", "--verify", "HEAD^{commit}")).strip()

    async def log(self, n: int = 10) -> list[CommitInfo]:
        """The last `n` commits, newest first."""
        if n < 1:
            return []
        out = await self._git("log", f"-n{n}", "--decorate-refs=refs/tags/", "--decorate=full",
                              f"--format=%H{_FIELD}%cI{_FIELD}%D{_FIELD}%B{_RECORD}")
        commits = []
        for record in out.split(_RECORD):
            record = record.strip("\n")
            if not record:
                continue
            sha, date, refs, message = record.split(_FIELD, 3)
            tags = tuple(sorted(r.strip().removeprefix("tag: ").removeprefix("refs/tags/")
                                for r in refs.split(",") if r.strip()))
            commits.append(CommitInfo(sha=sha, date=datetime.fromisoformat(date), message=message.strip(), tags=tags))
        return commits

    async def tag(self, name: str, message: str, sha: str | None = None) -> None:
        """Tag `sha` (HEAD by default) with an annotated tag; an existing tag of that name moves to it.

        Why move: an apply interrupted after its commit is reconciled and committed again;
        its tag then names the commit that says what the cloud holds.
        """
        if not _TAG.match(name):
            raise InvalidInput(field="tag", rule="letters, digits, '.', '-' and '_' only")
        if not message.strip():
            raise InvalidInput(field="tag message", rule="must not be empty")
        target = await self._resolve_commit(sha) if sha else await self.head()
        await self._git("tag", "-a", "-f", "-m", mask_secrets(message), name, target)

    async def tag_message(self, name: str) -> str:
        """The annotation of tag `name`."""
        if not _TAG.match(name):
            raise InvalidInput(field="tag", rule="letters, digits, '.', '-' and '_' only")
        return (await self._git("tag", "-l", "--format=%(contents)", name)).strip()

    async def push(self, url: str, *, timeout_s: float = 60.0) -> None:
        """Push branch main and every `apply-*` tag to `url`; GitError (its text masked) when it fails.

        The branch is pushed as is (a remote that moved on refuses it, nothing is forced);
        the tags are forced, since one may have moved (see `tag`), and all of them go, so a
        push that failed once is made good by the next. No prompt is ever shown: a remote
        that wants a password it was not given fails at once.
        """
        try:
            await asyncio.wait_for(
                self._git("-c", "protocol.ext.allow=never", "push", "--quiet", "--", url,
                          "refs/heads/main:refs/heads/main", f"+refs/tags/{apply_tag('*')}:refs/tags/{apply_tag('*')}",
                          shown=mask_url(url)),
                timeout_s)
        except TimeoutError:
            raise GitError(command="push", detail=f"no answer from {mask_url(url)} in {timeout_s:g} s") from None

    async def files_at(self, sha: str) -> dict[str, str]:
        """The managed files of an older commit (for rollback: write them back, then plan)."""
        commit = await self._resolve_commit(sha)
        listing = await self._git("ls-tree", "-z", "--name-only", commit)
        names = [n for n in listing.split("\0") if n.endswith(MANAGED_SUFFIXES)]
        contents = await asyncio.gather(*(self._git("show", f"{commit}:{name}") for name in names))
        return dict(zip(names, contents, strict=True))

    async def _resolve_commit(self, sha: str) -> str:
        if not _REVISION.match(sha):
            raise InvalidInput(field="commit", rule="a hexadecimal commit id")
        try:
            return (await self._git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}")).strip()
        except GitError:
            raise NotFound(what="commit", key=sha) from None

    # -- git plumbing -----------------------------------------------------------------

    async def _git(self, *args: str, repository: bool = True, shown: str | None = None) -> str:
        """Run git against this repository only, with no user or system config.

        `shown` names a remote in errors instead of whatever git printed about it (git
        repeats a URL, credentials and all, in its messages); every error is masked.
        """
        command = ["git"]
        if repository:
            command += [f"--git-dir={self.root / '.git'}", f"--work-tree={self.root}"]
        name, email = self._author
        command += ["-c", f"user.name={name}", "-c", f"user.email={email}", "-c", "commit.gpgsign=false"]
        command += ["-c", "core.hooksPath=/dev/null", "-c", "core.quotePath=false", *args]
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=self.root,
            env=_git_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            umask=CHILD_UMASK,  # objects, index and refs are the bot user's only
        )
        try:
            out, err = await proc.communicate()
        except asyncio.CancelledError:  # a timed-out push: never leave git running
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            detail = mask_url(err.decode("utf-8", errors="replace").strip() or f"exit code {proc.returncode}")
            verb = next((a for a in args if not a.startswith("-") and "=" not in a), args[0] if args else "git")
            raise GitError(command=verb, detail=f"{shown}: {detail}" if shown else detail)
        return out.decode("utf-8", errors="replace")


def _git_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in ("SSH_AUTH_SOCK",) if name in os.environ}  # a push's ssh agent
    return env | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_OPTIONAL_LOCKS": "0",
        # ssh never asks a question nobody can answer: a push without a usable key fails at once.
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    }


def _check_file_name(name: str) -> None:
    if not _FILE_NAME.match(name) or not name.endswith(MANAGED_SUFFIXES):
        raise InvalidInput(
            field=f"file name {name!r}",
            rule=f"a plain file name in the root ending in one of {', '.join(MANAGED_SUFFIXES)}",
        )

