"""Every user-facing failure of the CLI is one line on stderr, exit 2 for bad input and 1 for failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CliRunner, one_line_error


@pytest.mark.parametrize(("variable", "value", "accepts"), [
    ("DEV_GUILD_ID", "my-server", "valid integer"),
    ("LOG_LEVEL", "nonsense", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("TERRAFORM_TARGET", "prod", "'sandbox' or 'cloud'"),
    ("METRICS_PORT", "99999", "less than or equal to 65535"),
])
def test_a_bad_setting_names_the_variable_and_what_it_accepts(cli: CliRunner, variable: str, value: str,
                                                              accepts: str) -> None:
    result = cli("db", "status", **{variable: value})
    assert result.returncode == 2
    line = one_line_error(result)
    assert variable in line and accepts in line and value in line
    assert "pydantic" not in line


def test_a_bad_setting_in_the_env_file_is_reported_too(cli: CliRunner, workdir: Path) -> None:
    env = workdir / ".env"
    env.write_text(env.read_text().replace("LOG_LEVEL=INFO", "LOG_LEVEL=loud"))
    line = one_line_error(result := cli("costs"))
    assert result.returncode == 2 and "LOG_LEVEL='loud'" in line


def test_a_secret_value_is_never_echoed(cli: CliRunner) -> None:
    result = cli("db", "status", AI_TIMEOUT_S="-1", GROQ_API_KEY="gsk_" + "x" * 30)
    line = one_line_error(result)
    assert "AI_TIMEOUT_S" in line and "gsk_" not in result.stderr


def test_log_level_option_is_checked(cli: CliRunner) -> None:
    result = cli("demo", "--log-level", "chatty")
    assert result.returncode == 2
    assert "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr
    assert "Traceback" not in result.stderr


def test_chart_into_a_missing_folder(cli: CliRunner) -> None:
    result = cli("costs", "--chart", "/no/such/dir/c.png")
    assert result.returncode == 2
    line = one_line_error(result)
    assert "/no/such/dir" in line and "does not exist" in line


def test_ingest_of_a_missing_file(cli: CliRunner) -> None:
    result = cli("ingest", "focus", "/no/such/export.csv")
    assert result.returncode == 2
    assert "/no/such/export.csv" in one_line_error(result)


@pytest.mark.parametrize("use_case", ["", "ab", "x" * 1001])
def test_advise_request_limits_are_said_plainly(cli: CliRunner, use_case: str) -> None:
    result = cli("advise", use_case)
    assert result.returncode == 2
    line = one_line_error(result)
    assert "use case must be 3 to 1000 characters" in line.lower().replace("invalid use case: ", "use case ")
    assert "errors.pydantic.dev" not in line


def test_run_without_a_token_names_it(cli: CliRunner) -> None:
    result = cli("run")
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in one_line_error(result)


def test_unknown_command_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("deploy-everything")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr


def test_a_date_range_that_ends_before_it_starts(cli: CliRunner) -> None:
    result = cli("costs", "--start", "2026-12-01", "--end", "2026-11-01")
    assert result.returncode == 2
    assert "--end 2026-11-01 is before --start 2026-12-01" in one_line_error(result)


@pytest.mark.parametrize("args", [("recommend", "--limit", "-5"), ("ingest", "synthetic", "--days", "0"),
                                  ("kb", "search", "bucket", "--k", "500"), ("costs", "--start", "2026-13-01")])
def test_out_of_range_options_are_refused_without_a_traceback(cli: CliRunner, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(("error: ", "main.py "))


def test_a_ledger_held_by_another_process(cli: CliRunner, workdir: Path) -> None:
    import subprocess
    import sys
    import time

    (workdir / "data").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               "c = duckdb.connect('data/finops.duckdb'); print('ready', flush=True); time.sleep(60)"],
                              cwd=workdir, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        result = cli("costs")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    line = one_line_error(result)
    assert "FinOps ledger (FINOPS_DB_PATH) is in use by another process" in line and str(holder.pid) in line
