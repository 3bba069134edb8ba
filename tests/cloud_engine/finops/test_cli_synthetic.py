"""`python main.py synthetic --out DIR`: files a user can inspect or validate, nothing imported."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from cloud_engine.cli import main
from tests.cloud_engine.finops.test_cli import env  # noqa: F401 - the CLI's temporary stores

MANDATORY_12 = ("BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
                "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
                "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
                "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
ID_SHAPES = {
    "AWS": re.compile(r"^arn:aws:(ec2:us-east-1:\d{12}:(instance/i-0|volume/vol-0|snapshot/snap-0|elastic-ip/eipalloc-0)"
                      r"[0-9a-f]{16}|elasticloadbalancing:|s3:::|rds:|athena:)"),
    "Microsoft": re.compile(r"^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft\.(Compute/"
                            r"(virtualMachines|disks|snapshots)|Network/(publicIPAddresses|loadBalancers)|Storage/"
                            r"storageAccounts|Sql/servers/[^/]+/databases|Synapse/workspaces)/[^/]+$"),
    "Google Cloud": re.compile(r"^//(compute|storage|cloudsql|bigquery)\.googleapis\.com/projects/[^/]+/"),
}


def test_synthetic_writes_a_focus_12_export_and_metrics_without_importing(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    out = env / "export"
    assert main(["synthetic", "--out", str(out), "--days", "3", "--seed", "9", "--end", "2026-11-18", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert (written["focus"], written["metrics"]) == (str(out / "focus.csv"), str(out / "metrics.csv"))
    with (out / "focus.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert written["focus_rows"] == len(rows) == 3 * 57 and written["focus_version"] == "1.2"
    assert set(MANDATORY_12) <= set(rows[0])
    assert {r["ProviderName"] for r in rows[:57]} == {"AWS", "Microsoft", "Google Cloud"}  # every provider per day
    for row in rows:
        assert ID_SHAPES[row["ProviderName"]].match(row["ResourceId"]), row["ResourceId"]
        assert row["PricingQuantity"] == "24.0" and row["ChargeClass"] == ""
    vms = {r["ResourceName"]: r["ResourceId"] for r in rows if r["ResourceType"] in ("Instance", "Virtual Machine",
                                                                                  "Compute Instance")}
    assert vms["gcp-web-1"].startswith("//compute.googleapis.com/projects/analytics-prod-4821/zones/us-central1-a/"
                                       "instances/")
    assert "/providers/Microsoft.Compute/virtualMachines/azure-web-1" in vms["azure-web-1"]
    assert main(["costs", "--json"]) == 0  # nothing was imported
    assert json.loads(capsys.readouterr().out)["summary"]["groups"] == []


def test_same_seed_same_bytes_and_another_seed_differs(env: Path) -> None:  # noqa: F811
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert main(["synthetic", "--out", str(env / name), "--days", "2", "--seed", seed, "--end", "2026-11-18"]) == 0
    a, b, c = ((env / n / "focus.csv").read_bytes() for n in "abc")
    assert a == b and a != c
