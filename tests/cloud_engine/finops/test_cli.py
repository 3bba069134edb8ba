"""The ingest, costs and recommend commands, end to end on temporary stores."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_engine.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cloud.db"))
    monkeypatch.setenv("FINOPS_DB_PATH", str(tmp_path / "finops.duckdb"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_cloud_engine", False)]:
        root.removeHandler(handler)  # main() logs to the captured stderr, which pytest closes


def test_cli_end_to_end(env: Path, capsys: pytest.CaptureFixture[str], synthetic_files: tuple[Path, Path]) -> None:
    focus, metrics = synthetic_files
    assert main(["ingest", "focus", str(focus), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows_added"] == report["rows_read"] > 0
    assert main(["ingest", "focus", str(focus)]) == 0
    assert "added 0, restated 0" in capsys.readouterr().out
    assert main(["ingest", "metrics", str(metrics)]) == 0
    capsys.readouterr()

    assert main(["costs", "--by", "provider", "--json"]) == 0
    costs = json.loads(capsys.readouterr().out)
    assert {g["key"] for g in costs["summary"]["groups"]} == {"aws", "gcp", "azure"}
    assert costs["anomalies"]["items"][0]["service"] == "BigQuery"
    assert main(["costs", "--chart", str(env / "c.png")]) == 0
    assert (env / "c.png").read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()

    assert main(["recommend", "--json", "--limit", "4"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert len(recs["items"]) == 4
    assert main(["recommend", "--review"]) == 0
    out = capsys.readouterr().out
    assert "total savings" in out and "Advisor review:" in out


def test_cli_replace_window_removes_what_the_reissued_export_dropped(env: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    header = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ResourceId,RegionId," \
             "ProviderName,BillingCurrency\n"
    charge = "{cost},{cost},2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,Amazon EC2,{resource},us-east-1,AWS,USD\n"
    (env / "nov.csv").write_text(header + charge.format(cost=10, resource="i-1") + charge.format(cost=5, resource="i-2"))
    (env / "nov-reissued.csv").write_text(header + charge.format(cost=10, resource="i-1"))
    assert main(["ingest", "focus", str(env / "nov.csv"), "--guild", "5"]) == 0
    assert main(["ingest", "focus", str(env / "nov-reissued.csv"), "--guild", "5"]) == 0
    assert "removed" not in capsys.readouterr().out  # without the flag a dropped charge stays
    assert main(["ingest", "focus", str(env / "nov-reissued.csv"), "--guild", "5", "--replace-window"]) == 0
    out = capsys.readouterr().out
    assert "unchanged 1, removed 1 stored charges the file no longer lists" in out
    assert main(["ingest", "focus", str(env / "nov-reissued.csv"), "--guild", "5", "--replace-window", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_removed"] == 0
    assert main(["costs", "--guild", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total_billed_cost"] == 10
    with pytest.raises(SystemExit):
        main(["ingest", "metrics", str(env / "nov.csv"), "--replace-window"])  # FOCUS exports only
    assert "unrecognized arguments: --replace-window" in capsys.readouterr().err


def test_cli_synthetic_and_errors(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "synthetic", "--days", "10", "--out", str(env / "syn"), "--end", "2026-11-18"]) == 0
    out = capsys.readouterr().out
    assert "costs: synthetic_focus.csv" in out and "metrics: synthetic_metrics.csv" in out
    (env / "bad.csv").write_text("a,b\n1,2\n")
    assert main(["ingest", "focus", str(env / "bad.csv")]) == 2
    assert "missing required column" in capsys.readouterr().err


def test_cli_guild_option_and_dev_guild_default(env: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch,
                                                synthetic_files: tuple[Path, Path]) -> None:
    focus, _ = synthetic_files
    monkeypatch.delenv("DEV_GUILD_ID", raising=False)
    assert main(["ingest", "focus", str(focus), "--guild", "77", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["guild_id"] == 77 and report["rows_added"] > 0
    assert main(["costs", "--json"]) == 0  # no --guild, no DEV_GUILD_ID: scope 0, which holds nothing
    assert json.loads(capsys.readouterr().out)["summary"]["groups"] == []
    assert main(["costs", "--guild", "77", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total_billed_cost"] > 0
    monkeypatch.setenv("DEV_GUILD_ID", "77")  # the development server is the default scope
    assert main(["ingest", "focus", str(focus)]) == 0
    out = capsys.readouterr().out
    assert "into guild 77" in out and "added 0, restated 0, unchanged" in out
    assert main(["recommend", "--limit", "1"]) == 0
    assert "recommendations for guild 77" in capsys.readouterr().out
