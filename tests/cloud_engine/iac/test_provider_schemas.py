"""The generated provider HCL against the real providers' schemas (extracted from the cdktf packages).

`terraform validate` needs provider plugins that cannot be downloaded here; the compact
schemas in tests/data/provider_schemas/ (tools/extract_provider_schemas.py) carry every
argument, nested block and required flag of the types Cloud Engine writes. A type, argument
or block the provider does not know, or a required one left out, fails here instead of at
`terraform plan` on a real account.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl_read import read_hcl
from cloud_engine.iac.providers.aws import _provider as aws_provider
from cloud_engine.iac.providers.azure import _provider as azure_provider
from cloud_engine.iac.providers.gcp import _provider as gcp_provider
from cloud_engine.iac.render import render
from tests.cloud_engine.iac.realistic import PROVIDERS, realistic_project

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "provider_schemas"
TESTDATA = Path(__file__).parent / "testdata"
META = frozenset({"provider", "depends_on", "count", "for_each", "lifecycle", "__is_block__"})
PINS = {"aws": aws_provider.AWS_VERSION, "gcp": gcp_provider.GOOGLE_VERSION, "azure": azure_provider.AZURERM_VERSION}


@cache
def schema(provider: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{provider}.json").read_text("utf-8"))


def projects(provider: str) -> list[tuple[str, list[ResourceSpec]]]:
    cases = [("realistic", realistic_project()),
             ("realistic-mysql-private-vm", realistic_project(engine="mysql", public_vm=False))]
    for case in sorted(TESTDATA.glob("*/input.json")):
        doc = json.loads(case.read_text("utf-8"))
        if doc["provider"] == provider:
            cases.append((f"golden-{case.parent.name}", [ResourceSpec.model_validate(r) for r in doc["resources"]]))
    return cases


def check_body(body: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    """Problems of one block body against its schema: unknown or missing arguments and blocks, recursively."""
    problems: list[str] = []
    known = set(spec["required"]) | set(spec["optional"])
    blocks = spec.get("blocks", {})
    for key, value in body.items():
        if key in META:
            continue
        if key in blocks:
            if not (isinstance(value, list) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)):
                problems.append(f"{where}: {key} is a block, written as an argument")
                continue
            for i, nested in enumerate(value):
                problems += check_body(nested, blocks[key], f"{where}.{key}[{i}]")
        elif key not in known:
            problems.append(f"{where}: unknown argument or block {key!r}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) and v.get("__is_block__") for v in value):
            problems.append(f"{where}: {key} is an argument, written as a block")
    problems += [f"{where}: missing required argument {k!r}" for k in spec["required"] if k not in body]
    problems += [f"{where}: missing required block {k!r}" for k, b in blocks.items() if b["block_required"] and k not in body]
    return problems


def problems_of(provider: str, files: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for file_name, text in files.items():
        doc = read_hcl(text)
        for section in ("resource", "data"):
            for entry in doc.get(section, []):
                for raw_type, by_name in entry.items():
                    tf_type = raw_type.strip('"')
                    for raw_name, body in by_name.items():
                        where = f"{file_name} {section} {tf_type}.{raw_name.strip(chr(34))}"
                        if tf_type.startswith(("random_", "null_")):
                            continue  # hashicorp/random and hashicorp/null: tiny, stable schemas, not extracted
                        known = schema(provider)[section]
                        if tf_type not in known:
                            problems.append(f"{where}: unknown {section} type (re-run tools/extract_provider_schemas.py?)")
                            continue
                        problems += check_body(body, known[tf_type], where)
    return problems


@pytest.mark.parametrize("provider", PROVIDERS)
def test_generated_hcl_matches_the_provider_schema(provider: str) -> None:
    for case, specs in projects(provider):
        files = render(provider, specs, project_name="shop")
        problems = problems_of(provider, files)
        assert not problems, f"{provider} {case}:\n" + "\n".join(problems)
    opened = render(provider, realistic_project(), project_name="shop", api_access_cidrs=["203.0.113.0/24"])
    assert problems_of(provider, opened) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_checker_finds_unknown_and_missing_arguments(provider: str) -> None:
    files = render(provider, realistic_project(), project_name="shop")
    main = files["main.tf"]
    first = re.search(r'^resource "([a-z0-9_]+)" "([^"]+)" \{\n', main, flags=re.M)
    assert first is not None
    broken = main[: first.end()] + "  no_such_argument = true\n" + main[first.end():]
    assert any("unknown argument or block 'no_such_argument'" in p for p in problems_of(provider, {"main.tf": broken}))
    tf_type = first.group(1)
    required = schema(provider)["resource"][tf_type]["required"]
    if required:
        body = {"__is_block__": True}
        assert any("missing required argument" in p for p in check_body(body, schema(provider)["resource"][tf_type], "x"))
    unknown = 'resource "' + PREFIX_OF[provider] + 'no_such_type" "x" {\n}\n'
    assert any("unknown resource type" in p for p in problems_of(provider, {"main.tf": unknown}))


PREFIX_OF = {"aws": "aws_", "gcp": "google_", "azure": "azurerm_"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schemas_are_of_the_pinned_major_version(provider: str) -> None:
    """The schema JSON and the provider pin agree: `~> 5.x` takes aws 5.x, and so on."""
    pin = re.fullmatch(r"~> (\d+)\.(\d+)", PINS[provider])
    assert pin is not None, PINS[provider]
    major, minor = int(pin.group(1)), int(pin.group(2))
    version = [int(p) for p in schema(provider)["version"].split(".")[:2]]
    assert version[0] == major and version[1] >= minor


def test_extractor_reads_arguments_blocks_and_required_flags_from_a_jsii_manifest() -> None:
    from tools.extract_provider_schemas import compact_json, resource_classes, schema_of

    def prop(name: str, tf: str, type_ref: dict[str, Any], optional: bool) -> dict[str, Any]:
        link = f"{{@link https://registry.terraform.io/providers/hashicorp/aws/5.99.1/docs/resources/thing#{tf} Thing#{tf}}}"
        return {"name": name, "optional": optional, "type": type_ref, "docs": {"summary": f"Docs at Terraform Registry: {link}"}}

    types = {
        "p.thing.Thing": {"kind": "class", "docs": {"summary": "Represents a {@link https://registry.terraform.io/"
                                                               "providers/hashicorp/aws/5.99.1/docs/resources/thing aws_thing}."}},
        "p.thing.ThingConfig": {"kind": "interface", "datatype": True, "properties": [
            prop("cidrBlock", "cidr_block", {"primitive": "string"}, False),
            prop("tags", "tags", {"collection": {"kind": "map", "elementtype": {"primitive": "string"}}}, True),
            prop("rule", "rule", {"union": {"types": [{"fqn": "cdktf.IResolvable"}, {"collection": {
                "kind": "array", "elementtype": {"fqn": "p.thing.ThingRule"}}}]}}, True),
        ]},
        "p.thing.ThingRule": {"kind": "interface", "datatype": True, "properties": [
            prop("port", "port", {"primitive": "number"}, False)]},
    }
    assert resource_classes(types) == {("resource", "aws_thing"): "p.thing.Thing"}
    extracted = schema_of("p.thing.ThingConfig", types)
    assert extracted == {"required": ["cidr_block"], "optional": ["tags"],
                         "blocks": {"rule": {"required": ["port"], "optional": [], "block_required": False}}}
    doc = {"provider": "x", "version": "5.99.1", "package": "p@1", "resource": {"aws_thing": extracted}, "data": {}}
    assert json.loads(compact_json(doc)) == doc
