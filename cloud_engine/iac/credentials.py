"""Provider credentials for a cloud target's Terraform runs, from the bot's settings.

Why explicit: every Terraform child starts from a minimal environment (binary.terraform_env)
so the Discord token and AI keys never reach it. A cloud target's provider still needs to
authenticate, so exactly the variables its provider reads are added here, per project
provider; the runner masks every value whose name marks it secret.
"""

from __future__ import annotations

from cloud_engine.secret_text import register_known_secrets
from cloud_engine.settings import Settings

__all__ = ["provider_env", "register_configured_secrets"]


def register_configured_secrets(settings: Settings) -> None:
    """Make every secret the bot is configured with known to `secret_text`, once at start-up.

    From then on user text holding one is refused (tags, descriptions, purposes), and it is
    masked, JSON-escaped forms included, in audit details, commit messages and session errors.
    """
    register_known_secrets(settings.secret_values())


def provider_env(settings: Settings, provider: str) -> dict[str, str]:
    """The environment Terraform's `provider` (gcp, aws, azure) authenticates with; only what is set.

    AWS and Azure read their standard variables (AWS_*, ARM_*); Google reads the service
    account key file and the project (the generated `project_id` variable falls back to
    GOOGLE_PROJECT). An Azure VM's admin SSH key reaches the generated variable as TF_VAR_.
    """
    secret = {name: value.get_secret_value() if value is not None else None for name, value in (
        ("aws_access_key_id", settings.aws_access_key_id), ("aws_secret_access_key", settings.aws_secret_access_key),
        ("azure_client_secret", settings.azure_client_secret))}
    candidates: dict[str, str | None]
    if provider == "aws":
        candidates = {"AWS_ACCESS_KEY_ID": secret["aws_access_key_id"],
                      "AWS_SECRET_ACCESS_KEY": secret["aws_secret_access_key"],
                      "AWS_REGION": settings.aws_region, "AWS_DEFAULT_REGION": settings.aws_region}
    elif provider == "azure":
        candidates = {"ARM_TENANT_ID": settings.azure_tenant_id, "ARM_CLIENT_ID": settings.azure_client_id,
                      "ARM_CLIENT_SECRET": secret["azure_client_secret"],
                      "ARM_SUBSCRIPTION_ID": settings.azure_subscription_id,
                      "TF_VAR_admin_ssh_public_key": settings.azure_admin_ssh_public_key}
    elif provider == "gcp":
        key_file = settings.google_application_credentials
        candidates = {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file) if key_file else None,
                      "GOOGLE_PROJECT": settings.gcp_project_id}
    else:
        candidates = {}
    return {name: value for name, value in candidates.items() if value}
