"""Engine settings, read once from the environment and `.env`.

One pydantic-settings class keeps every tunable in one typed place, so a missing or
malformed variable fails fast with its name instead of surfacing later as a KeyError.
Secrets are `SecretStr` so they never appear in reprs or logs. An empty value (`KEY=` as
`.env.sample` ships it) means unset, so a copied sample file behaves like no file at all.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud_engine.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """All engine and bot settings; every field maps to the upper-case env var of its name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    # Discord (required only for `main.py run`)
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    # Connecting to Discord: attempts before `run` gives up, and the first wait (doubled each time)
    discord_connect_attempts: int = Field(default=6, ge=1, le=100)
    discord_connect_backoff_s: float = Field(default=2, gt=0, le=300)

    # Storage and paths
    database_path: str = "data/cloud.db"
    terraform_runs_dir: Path = REPO_ROOT / "terraform_runs"
    knowledge_dir: Path = REPO_ROOT / "knowledge"
    finops_db_path: str = "data/finops.duckdb"

    # Terraform
    terraform_bin: str | None = None
    terraform_target: Literal["sandbox", "cloud"] = "sandbox"
    terraform_plan_timeout_s: float = Field(default=600, gt=0)
    terraform_apply_timeout_s: float = Field(default=1800, gt=0)
    terraform_cancel_grace_s: float = Field(default=10, gt=0)

    # Sessions and limits
    session_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    expiry_sweep_seconds: int = Field(default=60, ge=1)
    user_actions_per_minute: int = Field(default=3, ge=1)
    approver_must_differ_default: bool = False

    # Logging
    log_level: str = "INFO"

    # Operations: Prometheus /metrics and /healthz on METRICS_HOST:METRICS_PORT (off when unset),
    # and how long `run` lets a running apply finish after SIGTERM before interrupting it
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    shutdown_grace_s: float = Field(default=120, ge=0)

    # Security scan of every plan's provider HCL with Checkov (make checkov); CHECKOV_BIN overrides the
    # repository's .venv-checkov/bin/checkov. A missing scanner never stops a plan: the plan says so.
    scan_plans: bool = True
    checkov_bin: str | None = None

    # Drift: hours between scheduled checks of every project's applied configuration (0 = only /cloud-drift)
    drift_check_interval_hours: float = Field(default=24, ge=0, le=24 * 30)

    # Project history (/cloud-history): an optional git remote per project, a URL template with
    # {project} and {project_id}; each apply's commit and its tag are pushed there (a failed
    # push is a warning on the apply, never a failure). Credentials in it are never shown.
    project_git_remote: SecretStr | None = None  # SecretStr: an https URL may carry a token
    project_git_push_timeout_s: float = Field(default=60, gt=0, le=600)

    # Notifications (/cloud-notify): how often queued events are delivered, attempts before a
    # delivery becomes a dead letter, the first retry wait (doubled each time), the webhook
    # timeout, and whether webhooks may point at private/loopback addresses or use http
    notify_interval_s: float = Field(default=5, gt=0, le=3600)
    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    notify_backoff_s: float = Field(default=30, ge=0, le=86_400)
    webhook_timeout_s: float = Field(default=10, gt=0, le=120)
    webhook_allow_private: bool = False

    # AI providers (optional; the rules engine answers when none is set)
    groq_api_key: SecretStr | None = None
    groq_models: str = "llama-3.3-70b-versatile"
    gemini_api_key: SecretStr | None = None
    gemini_models: str = "gemini-2.5-flash,gemini-2.5-pro"
    ai_timeout_s: float = Field(default=30, gt=0)
    ai_cache_ttl_hours: int = Field(default=24, ge=0)

    # Cloud credentials (optional; FinOps connectors and cloud targets use them)
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_region: str = "us-east-1"
    azure_tenant_id: str | None = None
    azure_client_id: str | None = None
    azure_client_secret: SecretStr | None = None
    azure_subscription_id: str | None = None
    # The admin SSH public key of Azure VMs on a cloud target (their password login is off)
    azure_admin_ssh_public_key: str | None = None
    google_application_credentials: Path | None = None
    gcp_project_id: str | None = None

    # FinOps
    finops_max_upload_mb: int = Field(default=50, ge=1)
    # Rows one FOCUS or metrics file may hold: the upload limit counts compressed bytes, and a
    # small Parquet or .csv.gz can hold millions of rows
    finops_max_rows: int = Field(default=5_000_000, ge=1)
    finops_noisy_suppress_days: int = Field(default=14, ge=1)
    # Scheduled connector syncs (docs/finops.md): hours between syncs of each provider whose settings
    # are set (0 = off), the one server they import into (unset: DEV_GUILD_ID; one set of cloud
    # credentials is one organisation's bill, never every server's), the days each sync fetches, and
    # the GCP BigQuery billing export file (JSONL or CSV) the GCP sync reads
    finops_sync_interval_hours: float = Field(default=24, ge=0, le=24 * 30)
    finops_sync_guild_id: int | None = None
    finops_sync_days: int = Field(default=30, ge=1, le=365)
    finops_gcp_billing_export: Path | None = None
    # Resource-level cost exports the clouds write to storage (docs/finops.md, "Cost exports"): when
    # set, `ingest aws|azure` and the schedule read them instead of Cost Explorer / the query API.
    # AWS Data Exports (FOCUS 1.2 or CUR 2.0): s3://bucket/prefix/export-name
    aws_data_export_s3_uri: str | None = None
    # Azure Cost Management exports: https://account.blob.core.windows.net/container/folder/export-name,
    # read with the service principal above, or with this connection string (SAS or account key)
    azure_export_blob_uri: str | None = None
    azure_storage_connection_string: SecretStr | None = None

    @field_validator("project_git_remote")
    @classmethod
    def _one_remote_per_project(cls, value: SecretStr | None) -> SecretStr | None:
        """A template without {project} or {project_id} would push every project over one repository."""
        if value is not None and "{project}" not in value.get_secret_value() \
                and "{project_id}" not in value.get_secret_value():
            raise ValueError("must contain {project} or {project_id}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        """Refuse a level `logging` does not know here, with the accepted names, not at first log call."""
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @cached_property
    def database_file(self) -> str:
        """The SQLite path, with its parent folder created (':memory:' passes through)."""
        if self.database_path != ":memory:":
            Path(self.database_path).parent.mkdir(parents=True, exist_ok=True)
        return self.database_path

    def require(self, name: str) -> str:
        """Return a required secret or setting, failing with the variable's name if unset."""
        value = getattr(self, name)
        if value is None or value == "":
            raise ConfigurationError(variable=name.upper())
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)

    def secret_values(self) -> list[str]:
        """Every secret value currently set, so output maskers can hide them."""
        out = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                out.append(value.get_secret_value())
        return out


class SettingsInvalid(Exception):
    """Settings that failed validation, as one line per variable (name, value given, what it accepts)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's multi-line report into `SettingsInvalid`.

    Why: a newcomer's first mistake is a typo in `.env`; they need the variable's name and
    what it accepts on one line, not a traceback with a pydantic documentation URL.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsInvalid([_describe(error) for error in exc.errors()]) from None


def _describe(error: object) -> str:
    """`LOG_LEVEL='nonsense': must be one of DEBUG, ...` from one pydantic error entry."""
    data = dict(error)  # type: ignore[call-overload]
    name = ".".join(str(part) for part in data.get("loc", ())).upper() or "settings"
    message = str(data.get("msg", "invalid value")).removeprefix("Value error, ")
    given = data.get("input")
    secret = any(word in name for word in ("KEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIALS"))
    shown = f"={given!r}" if isinstance(given, str | int | float) and not secret else ""
    return f"{name}{shown}: {message}"
