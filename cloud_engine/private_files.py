"""Owner-only files and folders for everything the engine keeps on disk.

Why one module: the SQLite database, the FinOps ledger and the Terraform roots hold state,
saved plans (variable values in clear text), logs and provider output. Each must be
readable by the bot's user only, whatever umask the process was started with (022 on most
systems would leave them world-readable). Folders are created 0700 and files 0600 here;
child processes that write into them (Terraform, git) are started with `CHILD_UMASK`, so
what they create (terraform.tfstate, its backups and lock, git objects) is private too.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = [
    "CHILD_UMASK",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "create_private_file",
    "private_dir",
    "secure_tree",
    "tighten",
    "write_private_text",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# The umask for Terraform and git children: nothing they create is open to group or others.
CHILD_UMASK = 0o077
_GROUP_OTHER = 0o077


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents as 0700 folders; tighten `path` itself if it exists.

    Only folders created here, and `path`, are changed: an existing parent (a home folder,
    the checkout) is not the engine's to restrict. `mkdir(parents=True)` would create the
    parents with the umask's mode, so each missing level is made here.
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another task or thread made it meanwhile
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        tighten(folder)
    if not missing:
        tighten(path)
    return path


def create_private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist; an existing file is tightened, not truncated."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    tighten(path)
    return path


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temp file, then rename) as a 0600 file.

    The temp file is created 0600 before any byte is written, so the content is never
    readable by others, not even for a moment; readers see the old or the new file whole.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def tighten(path: Path) -> None:
    """Remove group and other permissions from one file or folder the bot's user owns.

    The owner's bits are kept (a provider plugin stays executable); symlinks and paths owned
    by someone else are left alone, and a path that vanished meanwhile is not an error.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        wanted = mode & ~_GROUP_OTHER | PRIVATE_DIR_MODE
    else:
        wanted = mode & ~_GROUP_OTHER
    if wanted != mode:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, wanted)


def secure_tree(root: Path) -> None:
    """Tighten `root` and everything under it (blocking): folders 0700, files without group/other bits.

    For trees written before files were created private, or by a tool that ignores the
    umask; symlinks are not followed.
    """
    if not root.exists():
        return
    tighten(root)
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in (*dirs, *files):
            tighten(base / name)
