"""`cp .env.sample .env` and every command works; empty values mean unset; nothing but the answer is printed."""

from __future__ import annotations

from pathlib import Path

from cloud_engine.settings import Settings
from tests.cli.conftest import REPO, CliRunner


def test_the_sample_file_loads_as_the_defaults(workdir: Path) -> None:
    from_sample = Settings(_env_file=workdir / ".env")
    defaults = Settings(_env_file=None)
    assert from_sample.model_dump() == defaults.model_dump()


def test_db_migrate_then_status_with_the_copied_sample(cli: CliRunner, workdir: Path) -> None:
    status = cli("db", "status")
    assert status.returncode == 0, status.stderr
    assert "schema version: 0" in status.stdout and "run `python main.py db migrate`" in status.stdout
    migrate = cli("db", "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "up to date" in migrate.stdout.splitlines()[-1]
    assert (workdir / "data" / "cloud.db").is_file()


def test_first_command_is_quiet_and_verbose_shows_the_log(cli: CliRunner) -> None:
    quiet = cli("kb", "search", "public bucket", "--k", "2")
    assert quiet.returncode == 0, quiet.stderr
    assert "migration applied" not in quiet.stderr + quiet.stdout
    assert len(quiet.stdout.splitlines()) == 2  # the two hits and nothing else
    assert '"level": "INFO"' not in quiet.stderr
    verbose = cli("--verbose", "db", "status")
    assert verbose.returncode == 0
    fresh = cli("recommend", "--verbose")  # --verbose after the command works too
    assert fresh.returncode == 0, fresh.stderr


def test_verbose_logs_migrations_as_json_on_stderr(cli: CliRunner) -> None:
    result = cli("db", "status", "--verbose")
    assert result.returncode == 0
    result = cli("costs", "-v")
    assert '"msg": "migration applied"' in result.stderr
    assert "migration" not in result.stdout


def test_empty_ledger_says_to_ingest_first(cli: CliRunner) -> None:
    recommend = cli("recommend")
    assert recommend.returncode == 0, recommend.stderr
    assert "None" not in recommend.stdout
    assert "import some first" in recommend.stdout and "ingest" in recommend.stdout
    costs = cli("costs")
    assert costs.returncode == 0, costs.stderr
    assert "None" not in costs.stdout
    assert "python main.py ingest" in costs.stdout


def test_sample_lists_every_setting() -> None:
    sample = (REPO / ".env.sample").read_text()
    documented = {line.split("=", 1)[0] for line in sample.splitlines() if "=" in line and not line.startswith("#")}
    assert {name.upper() for name in Settings.model_fields} == documented
