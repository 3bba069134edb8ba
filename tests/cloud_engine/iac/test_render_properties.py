"""Property tests: arbitrary user text that passes the model validators never escapes its string."""

from __future__ import annotations

import hcl2
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloud_engine.core.models import ResourceSpec
from cloud_engine.core.validation import TAG_VALUE_RE
from cloud_engine.errors import InvalidInput
from cloud_engine.iac import render
from cloud_engine.iac.hcl import unescape_hcl_literal

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spec_or_skip(**fields: object) -> ResourceSpec:
    try:
        return ResourceSpec(**fields)  # type: ignore[arg-type]
    except ValidationError:
        assume(False)
        raise AssertionError("unreachable") from None


def resource_body(files: dict[str, str], resource_type: str, name: str) -> dict:
    for entry in hcl2.loads(files["main.tf"])["resource"]:
        if f'"{resource_type}"' in entry and f'"{name}"' in entry[f'"{resource_type}"']:
            return entry[f'"{resource_type}"'][f'"{name}"']
    raise AssertionError(f"{resource_type}.{name} not rendered")


@SETTINGS
@given(st.text(max_size=256))
def test_gcp_descriptions_read_back_exactly(description: str) -> None:
    vm = spec_or_skip(kind="vm", name="vm1", description=description)
    fw = spec_or_skip(kind="firewall", name="fw1", description=description, rules=[{"ports": [443]}])
    files = render("gcp", [vm, fw], project_name="p1")
    wanted = vm.description  # the model strips surrounding whitespace; compare with what it kept
    if wanted:
        assert unescape_hcl_literal(resource_body(files, "google_compute_instance", "vm1")["description"]) == wanted
        assert unescape_hcl_literal(resource_body(files, "google_compute_firewall", "fw1__r0")["description"]) == wanted
    # the attribute after the description is still intact: nothing leaked out of the string
    assert resource_body(files, "google_compute_instance", "vm1")["allow_stopping_for_update"] is True


@SETTINGS
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
                       st.from_regex(TAG_VALUE_RE, fullmatch=True), max_size=5))
def test_aws_tag_values_read_back_exactly(tags: dict[str, str]) -> None:
    bucket = spec_or_skip(kind="bucket", name="bk1", tags=tags)
    files = render("aws", [bucket], project_name="p1")
    got = resource_body(files, "aws_s3_bucket", "bk1")["tags"]
    decoded = {(unescape_hcl_literal(k) if k.startswith('"') else k): unescape_hcl_literal(v) for k, v in got.items()}
    assert decoded == {**bucket.tags, "Name": "bk1", "managed_by": "cloud-engine", "project": "p1"}


@SETTINGS
@given(st.text(max_size=256), st.sampled_from(["gcp", "aws", "azure", "sandbox"]))
def test_any_description_renders_or_is_refused_cleanly(description: str, provider: str) -> None:
    try:
        specs = [
            ResourceSpec(kind="network", name="core", subnets=[{"name": "a", "cidr": "10.10.1.0/24"},
                                                               {"name": "b", "cidr": "10.10.2.0/24"}]),
            ResourceSpec(kind="vm", name="vm1", network="core", description=description),
            ResourceSpec(kind="firewall", name="fw1", network="core", description=description,
                         rules=[{"ports": [443]}]),
            ResourceSpec(kind="k8s_cluster", name="k1", network="core", description=description),
        ]
        files = render(provider, specs, project_name="p1")
    except (ValidationError, InvalidInput):
        return
    for text in files.values():
        hcl2.loads(text)


@SETTINGS
@given(st.text(max_size=256))
def test_sandbox_triggers_carry_the_description_verbatim(description: str) -> None:
    vm = spec_or_skip(kind="vm", name="vm1", description=description)
    files = render("sandbox", [vm], project_name="p1", shape="gcp")
    triggers = resource_body(files, "null_resource", "vm__vm1")["triggers"]
    assert unescape_hcl_literal(triggers["description"]) == vm.description
