"""read_hcl, the render check's reader: it reads what hcl2.loads reads, and it is never more lenient."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cloud_engine.iac.hcl as hcl
from cloud_engine.errors import InvalidInput, TerraformError
from cloud_engine.iac import escape_hcl_string
from cloud_engine.iac.hcl import Block, Raw, unescape_hcl_literal, verify_roundtrip, write_file
from cloud_engine.iac.hcl_read import EXPRESSION, read_hcl

TESTDATA = Path(__file__).parent / "testdata"
GOLDEN = sorted(TESTDATA.glob("*/expected/*.tf"))


def as_read_hcl(value: object) -> object:
    """hcl2.loads' result with each expression (printed `${...}`, or a template) replaced by EXPRESSION."""
    if isinstance(value, dict):
        return {key: as_read_hcl(child) for key, child in value.items()}
    if isinstance(value, list):
        return [as_read_hcl(child) for child in value]
    if isinstance(value, str) and not value.startswith('"'):
        return EXPRESSION
    if isinstance(value, str):
        try:
            unescape_hcl_literal(value)
        except ValueError as exc:
            return EXPRESSION if "template sequence" in str(exc) else value
    return value


def test_golden_files_cover_every_provider() -> None:
    assert {path.parent.parent.name for path in GOLDEN} == {"gcp", "aws", "azure", "sandbox"}


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_golden_files_read_as_hcl2_reads_them(path: Path) -> None:
    text = path.read_text("utf-8")
    assert read_hcl(text) == as_read_hcl(hcl2.loads(text))


def test_every_construct_the_writers_use() -> None:
    text = '''terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
}

resource "null_resource" "a-b" {
  triggers = {
    name        = "x\\"y $${z} %%{w}"
    "weird key" = "\\u0000"
    n           = -5
    f           = 1.5
    t           = true
    nothing     = null
    list        = ["a", 1, { x = "y" }, []]
  }
  depends_on = [null_resource.x]
  computed   = jsonencode({ a = "b" })
  template   = "${var.a}-b"
  sum        = 1 + 2
  dynamic "rule" {
    content {}
  }
}

in {}
'''
    assert read_hcl(text) == as_read_hcl(hcl2.loads(text))
    body = read_hcl(text)["resource"][0]['"null_resource"']['"a-b"']  # type: ignore[index]
    assert body["template"] is EXPRESSION and body["depends_on"] == [EXPRESSION]
    assert body["triggers"]["list"] == ['"a"', 1, {"x": '"y"'}, []]


@pytest.mark.parametrize("text", ["a = 1\na = 2\n", "x = {\n  k = 1\n  k = 2\n}\n", "a = 1\na {}\n"])
def test_a_name_defined_twice_is_refused(text: str) -> None:
    """hcl2.loads keeps the last of two equal keys; the check refuses them, as Terraform does."""
    with pytest.raises((ValueError, RuntimeError)):
        read_hcl(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from('$%{}"\\\n ax=#/*'), max_size=16), st.text(max_size=12))
def test_agrees_with_hcl2_loads_on_escaped_text(template_heavy: str, anything: str) -> None:
    try:
        first, second = escape_hcl_string(template_heavy), escape_hcl_string(anything)
    except InvalidInput:  # lone surrogates are refused before any HCL exists
        return
    text = (f'a = {first}\nblock "x" {second} {{\n  b = [{second}, 1, ref.x]\n'
            f'  c = {{ k = {first}, {second} = 2 }}\n  nested {{}}\n}}\n')
    assert read_hcl(text) == as_read_hcl(hcl2.loads(text))


def _verdict(written: hcl.Written) -> bool:
    try:
        verify_roundtrip("main.tf", written)
    except TerraformError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('$%{}"\\\n ax=#/*'), max_size=20),
       st.text(alphabet=st.sampled_from('$%{}"\\\n ax=#/*'), max_size=8))
def test_never_accepts_what_hcl2_loads_would_refuse(value: str, label: str) -> None:
    """With an escaper broken on purpose (plain quoting), whatever read_hcl lets through, hcl2.loads does too."""
    blocks = [Block("resource", ("null_resource", label or "l"), {
        "triggers": {"value": value, "other": "fixed"}, "tags": [value, "t"], "ref": Raw("null_resource.x.id"),
    }), Block("output", ("o",), {"value": value})]
    original = hcl.escape_hcl_string
    hcl.escape_hcl_string = lambda text: f'"{text}"'  # type: ignore[assignment]
    try:
        written = write_file(blocks)
    finally:
        hcl.escape_hcl_string = original
    ours = _verdict(written)
    hcl._roundtrip_problem.cache_clear()  # the verdict is cached by text: the reference must parse again
    hcl.read_hcl = hcl2.loads  # type: ignore[assignment]
    try:
        reference = _verdict(written)
    finally:
        hcl.read_hcl = read_hcl
        hcl._roundtrip_problem.cache_clear()
    assert not ours or reference


@pytest.mark.parametrize("value", ['a"b', 'x"\n  evil = "y', "${var.secret}", "tail\\"])
def test_a_broken_escaper_is_caught(value: str) -> None:
    """The reason the check exists: plain quoting of user text is refused, not written."""
    original = hcl.escape_hcl_string
    hcl.escape_hcl_string = lambda text: f'"{text}"'  # type: ignore[assignment]
    try:
        written = write_file([Block("resource", ("null_resource", "r"), {"triggers": {"value": value}})])
    finally:
        hcl.escape_hcl_string = original
    assert not _verdict(written)


def test_a_remembered_block_is_still_checked_against_each_literals_own_value() -> None:
    """The round trip is cached by text and literals together: same text, another intended value, refused."""
    written = write_file([Block("resource", ("null_resource", "r"), {"triggers": {"value": "a"}})])
    assert _verdict(written)
    (literal,) = [e for e in written.expectations if e.value == "a"]
    forged = hcl.Written(text=written.text, expectations=[hcl.Expectation(path=literal.path, value="b")])
    assert not _verdict(forged)
    assert not _verdict(forged)  # a refusal is refused again, not remembered as a pass
    assert _verdict(written)


def test_a_file_is_its_blocks_checked_one_by_one_and_joined_as_written() -> None:
    blocks = [Block("resource", ("null_resource", f"r{i}"), {"triggers": {"value": f'v"{i}'}}) for i in range(3)]
    assert hcl.write_files({"main.tf": blocks}) == {"main.tf": write_file(blocks).text}


@pytest.mark.parametrize("key", ["kubernetes.io/role/elb", "a b", 'q"uote', "${x}"])
def test_a_map_key_that_is_not_an_identifier_is_written_quoted_and_reads_back(key: str) -> None:
    """Tag keys such as `kubernetes.io/role/elb` are real: they are quoted, escaped, and checked like any literal."""
    text = hcl.write_files({"main.tf": [Block("resource", ("aws_subnet", "edge"), {"tags": {key: "1", "Name": "edge"}})]})
    tree = read_hcl(text["main.tf"])
    tags = tree["resource"][0]['"aws_subnet"']['"edge"']["tags"]
    assert {unescape_hcl_literal(k) if k.startswith('"') else k: unescape_hcl_literal(v) for k, v in tags.items()} == {
        key: "1", "Name": "edge"}
