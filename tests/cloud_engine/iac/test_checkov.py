"""Checkov as the judge: the realistic project, the static site and a cluster-backed load balancer, rendered
for every cloud, fail no check outside the allow-list.

One checkov run covers all three clouds (its start-up dominates). Without checkov the test
skips, saying how to install it, unless CI is set: there a missing scanner is a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_engine.iac.render import render
from cloud_engine.iac.scan import ScanResult, load_allowlist, scan
from tests.cloud_engine.iac.checkov_bin import require_checkov
from tests.cloud_engine.iac.cluster_projects import cluster_ingress_project
from tests.cloud_engine.iac.realistic import PROVIDERS, realistic_project, static_site_project

ALLOWLIST = Path(__file__).resolve().parents[3] / "checkov-allowlist.txt"
# Issue #15 names these; they must pass, so none of them may ever be allow-listed.
REQUIRED = frozenset({
    "CKV2_AWS_5", "CKV2_AWS_12", "CKV2_AWS_11", "CKV_AWS_129", "CKV_AWS_37", "CKV_AWS_38", "CKV_AWS_39",
    "CKV_AWS_58", "CKV_GCP_60", "CKV_GCP_20", "CKV_GCP_69", "CKV_GCP_26", "CKV_GCP_12", "CKV2_AZURE_57",
    "CKV_AZURE_141", "CKV_AZURE_227", "CKV_AZURE_7",
})

# What a variant's own spec asks for. The static site's bucket asks for public_access, and a
# public bucket is what these checks flag: they stay findings in the product (the plan review
# tells the reviewer the bucket is public; a suppression is theirs to make), so they are not on
# the allow-list, which the scanner treats as Cloud Engine's accepted defaults. Expected here
# for that variant only.
ASKED_FOR: dict[str, frozenset[str]] = {
    "-static-site": frozenset({
        "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6",  # S3 public access block off
        "CKV_GCP_114", "CKV_GCP_28",  # public access prevention off, allUsers may read objects
        "CKV_AZURE_190", "CKV2_AZURE_47", "CKV_AZURE_34",  # public blob access on the account and container
    }),
}


def _variant(finding_file: str) -> str:
    """The variant suffix of a finding's root folder (`aws-static-site/main.tf` → "-static-site")."""
    top = finding_file.strip("/").split("/")[0]
    return top[len(top.split("-")[0]):]


def _explained(check_id: str, finding_file: str) -> bool:
    return check_id in load_allowlist(ALLOWLIST) or check_id in ASKED_FOR.get(_variant(finding_file), frozenset())


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    checkov = require_checkov()
    root = tmp_path_factory.mktemp("checkov")
    # a second root per cloud (MySQL, a VM without public IP) judges the other engine and the NAT path; the
    # static site judges every bucket/CDN rendering (CloudFront, a backend bucket, Front Door); the cluster
    # ingress project, the allow-list entries only a cluster-backed load balancer needs
    variants = {"": realistic_project(), "-mysql": realistic_project(engine="mysql", public_vm=False),
                "-static-site": static_site_project(), "-cluster-lb": cluster_ingress_project()}
    for provider in PROVIDERS:
        for suffix, specs in variants.items():
            target = root / f"{provider}{suffix}"
            target.mkdir()
            for name, text in render(provider, specs, project_name="shop").items():
                (target / name).write_text(text, encoding="utf-8")
    outcome = scan(root, checkov=checkov)
    assert outcome.scanned, outcome.reason
    return outcome


def test_allowlist_gives_a_reason_and_never_names_a_required_check() -> None:
    allowed = load_allowlist(ALLOWLIST)
    assert allowed, "the allow-list file is empty or unreadable"
    assert not REQUIRED & allowed.keys(), f"required checks allow-listed: {sorted(REQUIRED & allowed.keys())}"
    asked = frozenset().union(*ASKED_FOR.values())
    assert not asked & allowed.keys(), f"findings a spec asks for are hidden from every plan: {sorted(asked & allowed.keys())}"
    assert all(len(reason) >= 20 for reason in allowed.values())


def test_every_cloud_passes_checkov_except_the_allowlist(result: ScanResult) -> None:
    unexpected = [f"{f.check_id} {f.resource} ({f.file}:{f.line}) {f.name}" for f in result.findings
                  if not _explained(f.check_id, f.file)]
    assert not unexpected, "checks failed that the allow-list does not explain:\n" + "\n".join(unexpected)


def test_the_checks_the_issue_names_ran_and_passed(result: ScanResult) -> None:
    assert not REQUIRED & result.failed_ids()
    assert sorted(REQUIRED - result.passed) == []


def test_every_provider_was_scanned(result: ScanResult) -> None:
    scanned_files = {f.file.split("/")[0] for f in result.findings}
    assert {"aws", "gcp", "azure"} <= scanned_files


def test_every_allowlist_entry_is_still_needed(result: ScanResult) -> None:
    """Checkov is pinned, so an entry no check fails any more is stale and must go (the list stays honest)."""
    stale = sorted(load_allowlist(ALLOWLIST).keys() - result.failed_ids())
    assert stale == []


def test_every_finding_a_spec_asks_for_still_fails_in_its_variant(result: ScanResult) -> None:
    """The public bucket's findings are real findings of that variant, so the expectation cannot go stale either."""
    for suffix, checks in ASKED_FOR.items():
        failed = {f.check_id for f in result.findings if _variant(f.file) == suffix}
        assert sorted(checks - failed) == [], suffix
