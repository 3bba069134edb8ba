"""cloud_engine/iac/scan.py with stand-in checkov executables: findings parsed, failures reported as "not scanned"."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cloud_engine.iac.scan import CHECKOV_ENV, find_checkov, load_allowlist, scan

REPORT = [{
    "check_type": "terraform",
    "results": {
        "passed_checks": [{"check_id": "CKV_AWS_37"}],
        "failed_checks": [
            {"check_id": "CKV_AWS_88", "check_name": "EC2 instance should not have public IP.", "severity": "HIGH",
             "resource": "aws_instance.web-1", "file_path": "/aws/main.tf", "file_line_range": [40, 60],
             "guideline": "https://docs.example/ckv_aws_88"},
            {"check_id": "CKV_AWS_18", "check_name": "S3 access logging", "severity": None,
             "resource": "aws_s3_bucket.assets", "file_path": "/aws/main.tf", "file_line_range": [3, 9],
             "guideline": None},
        ],
    },
    "summary": {"checkov_version": "3.3.30"},
}]


def fake_checkov(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "checkov"
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_findings_are_typed_and_sorted_by_place(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    result = scan(tmp_path, checkov=fake_checkov(tmp_path, f'cat "{report}"; exit 1'))
    assert result.scanned and result.version == "3.3.30"
    assert [(f.check_id, f.file, f.line) for f in result.findings] == [("CKV_AWS_18", "aws/main.tf", 3),
                                                                       ("CKV_AWS_88", "aws/main.tf", 40)]
    web = result.findings[1]
    assert web.severity == "HIGH" and web.resource == "aws_instance.web-1"
    assert web.guideline == "https://docs.example/ckv_aws_88"
    assert result.passed == {"CKV_AWS_37"} and result.failed_ids() == {"CKV_AWS_18", "CKV_AWS_88"}


def test_checkov_gets_the_root_offline_and_as_json(tmp_path: Path) -> None:
    args = tmp_path / "args"
    result = scan(tmp_path, checkov=fake_checkov(tmp_path, f'echo "$@" > "{args}"; echo "[]"'))
    assert result.scanned and result.findings == ()
    words = args.read_text("utf-8").split()
    assert words[words.index("-d") + 1] == str(tmp_path)
    assert "--skip-download" in words and words[words.index("-o") + 1] == "json"


@pytest.mark.parametrize(("body", "reason"), [
    ('echo "boom" >&2; exit 2', "exited with 2: boom"),
    ("echo 'not json'; exit 0", "not JSON"),
])
def test_a_failing_checkov_means_not_scanned(tmp_path: Path, body: str, reason: str) -> None:
    result = scan(tmp_path, checkov=fake_checkov(tmp_path, body))
    assert not result.scanned and reason in result.reason and result.findings == ()


def test_a_slow_checkov_means_not_scanned(tmp_path: Path) -> None:
    result = scan(tmp_path, checkov=fake_checkov(tmp_path, "sleep 5"), timeout_s=0.2)
    assert not result.scanned and "did not finish" in result.reason


def test_a_missing_checkov_means_not_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHECKOV_ENV, str(tmp_path / "nowhere"))
    assert find_checkov() is None
    result = scan(tmp_path)
    assert not result.scanned and "not installed" in result.reason


def test_find_checkov_takes_the_environment_first(tmp_path: Path) -> None:
    binary = fake_checkov(tmp_path, "exit 0")
    assert find_checkov({CHECKOV_ENV: str(binary)}) == binary


def test_allowlist_needs_a_reason_and_no_repeats(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("# comment\n\nCKV_AWS_88: the VM asked for a public IP\n", encoding="utf-8")
    assert load_allowlist(good) == {"CKV_AWS_88": "the VM asked for a public IP"}
    for text in ("CKV_AWS_88\n", "CKV_AWS_88:   \n", "CKV_AWS_88: a\nCKV_AWS_88: b\n", "not a check: x\n"):
        bad = tmp_path / "bad.txt"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError):
            load_allowlist(bad)
