#!/usr/bin/env python3
"""Extract the Terraform schemas of the resource types Cloud Engine generates from the cdktf provider packages.

Why: `terraform validate` needs provider plugins that cannot be downloaded in CI, but the npm
packages `@cdktf/provider-{aws,google,azurerm}` are generated from the real providers and
carry, in their jsii manifest (`.jsii`), every resource's arguments, nested blocks and
required flags. This script keeps only the types Cloud Engine renders and writes one small
versioned JSON per provider to tests/data/provider_schemas/, which the schema tests read.

Usage (network only for npm; nothing else is downloaded):

    mkdir -p /tmp/cdktf && cd /tmp/cdktf && npm init -y >/dev/null
    npm install --ignore-scripts --legacy-peer-deps @cdktf/provider-aws@19.65.1 \\
        @cdktf/provider-google@16.12.1 @cdktf/provider-azurerm@14.23.1
    .venv/bin/python tools/extract_provider_schemas.py /tmp/cdktf/node_modules

The types come from rendering the golden inputs and the realistic project of the tests for
every provider, so a new resource type is picked up by running the script again.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cloud_engine.core.models import ResourceSpec  # noqa: E402
from cloud_engine.iac.hcl_read import read_hcl  # noqa: E402
from cloud_engine.iac.render import render  # noqa: E402

OUT = REPO / "tests" / "data" / "provider_schemas"
PACKAGES = {"aws": "provider-aws", "gcp": "provider-google", "azure": "provider-azurerm"}
PREFIX = {"aws": "aws_", "gcp": "google_", "azure": "azurerm_"}
ANCHOR = re.compile(r"#([a-z0-9_]+) [A-Za-z0-9]+#[A-Za-z0-9_]+\}")


def rendered_types(provider: str) -> dict[str, set[str]]:
    """{"resource": types, "data": types} the renderer writes for the test projects."""
    from tests.cloud_engine.iac.cluster_projects import cluster_ingress_project
    from tests.cloud_engine.iac.realistic import realistic_project, static_site_project

    projects = [realistic_project(), realistic_project(engine="mysql", public_vm=False), cluster_ingress_project(),
                static_site_project()]
    testdata = REPO / "tests" / "cloud_engine" / "iac" / "testdata"
    for case in sorted(testdata.glob("*/input.json")):
        doc = json.loads(case.read_text("utf-8"))
        if doc["provider"] == provider:
            projects.append([ResourceSpec.model_validate(r) for r in doc["resources"]])
    found: dict[str, set[str]] = {"resource": set(), "data": set()}
    for specs in projects:
        for text in render(provider, specs, project_name="shop").values():
            doc = read_hcl(text)
            for section in ("resource", "data"):
                for entry in doc.get(section, []):
                    found[section].update(t.strip('"') for t in entry)
    return {k: {t for t in v if t.startswith(PREFIX[provider])} for k, v in found.items()}


REPRESENTS = re.compile(r"Represents a \{@link https://\S+/docs/(resources|data-sources)/\S+ ([a-z0-9_]+)\}")


def resource_classes(types: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource|data, Terraform type) → fqn of the cdktf class (its docs say which type it represents)."""
    out: dict[tuple[str, str], str] = {}
    for fqn, info in types.items():
        if info.get("kind") != "class":
            continue
        match = REPRESENTS.search(info.get("docs", {}).get("summary", ""))
        if match:
            out[("resource" if match.group(1) == "resources" else "data", match.group(2))] = fqn
    return out


def struct_of(type_ref: dict[str, Any], types: dict[str, Any]) -> tuple[str | None, bool]:
    """The struct fqn a property holds (a nested block) and whether it is a list, or (None, _) for a value."""
    if "union" in type_ref:
        for option in type_ref["union"]["types"]:
            fqn, many = struct_of(option, types)
            if fqn:
                return fqn, many
        return None, False
    if "collection" in type_ref:
        fqn, _ = struct_of(type_ref["collection"]["elementtype"], types)
        return fqn, True
    fqn = type_ref.get("fqn")
    if fqn and types.get(fqn, {}).get("datatype"):
        return fqn, False
    return None, False


def tf_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    # jsii splits a doc at "@tag"-like text, so the registry link can sit in a custom tag too
    texts = [docs.get("remarks", ""), docs.get("summary", ""), *map(str, docs.get("custom", {}).values())]
    match = ANCHOR.search(" ".join(texts))
    if not match:
        raise ValueError(f"no Terraform name in the docs of {prop['name']}")
    return match.group(1)


def schema_of(fqn: str, types: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """{"required": [...], "optional": [...], "blocks": {name: {..., "block_required": bool}}} of one struct."""
    struct = types[fqn]
    required: list[str] = []
    optional: list[str] = []
    blocks: dict[str, Any] = {}
    for prop in struct.get("properties", []):
        name = tf_name(prop)
        nested, _many = struct_of(prop["type"], types)
        if nested and depth < 8:
            blocks[name] = {**schema_of(nested, types, depth + 1), "block_required": not prop.get("optional", False)}
        else:
            (optional if prop.get("optional", False) else required).append(name)
    out: dict[str, Any] = {"required": sorted(required), "optional": sorted(optional)}
    if blocks:
        out["blocks"] = dict(sorted(blocks.items()))
    return out


def extract(provider: str, node_modules: Path) -> dict[str, Any]:
    package_dir = node_modules / "@cdktf" / PACKAGES[provider]
    package = json.loads((package_dir / "package.json").read_text("utf-8"))
    manifest = json.loads((package_dir / ".jsii").read_text("utf-8"))
    types = manifest["types"]
    wanted = rendered_types(provider)
    out: dict[str, Any] = {
        "provider": package["cdktf"]["provider"]["name"],
        "version": package["cdktf"]["provider"]["version"],
        "package": f"{package['name']}@{package['version']}",
        "resource": {},
        "data": {},
    }
    classes = resource_classes(types)
    for section, names in wanted.items():
        for tf_type in sorted(names):
            fqn = classes.get((section, tf_type), "") + "Config"
            if fqn not in types:
                raise SystemExit(f"{section} {tf_type} is not in {package['name']} (renamed or removed?)")
            out[section][tf_type] = schema_of(fqn, types)
    return out


def compact_json(schema: dict[str, Any]) -> str:
    """The schema with one line per type: small, and a provider upgrade diffs per type."""
    lines = ["{"]
    head = [f"  {json.dumps(k)}: {json.dumps(schema[k])}," for k in ("provider", "version", "package")]
    lines += head
    for i, section in enumerate(("resource", "data")):
        lines.append(f"  {json.dumps(section)}: {{")
        entries = list(schema[section].items())
        lines += [f"    {json.dumps(t)}: {json.dumps(body, separators=(',', ':'))}{',' if j < len(entries) - 1 else ''}"
                  for j, (t, body) in enumerate(entries)]
        lines.append("  }," if i == 0 else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("node_modules", type=Path, help="node_modules holding @cdktf/provider-{aws,google,azurerm}")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for provider in PACKAGES:
        schema = extract(provider, args.node_modules)
        path = args.out / f"{provider}.json"
        path.write_text(compact_json(schema), encoding="utf-8")
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {schema['provider']} "
              f"{schema['version']}, {len(schema['resource'])} resources, {len(schema['data'])} data sources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
