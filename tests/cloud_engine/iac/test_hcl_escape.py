"""escape_hcl_string: every special sequence, its inverse, and agreement with python-hcl2 and Terraform."""

from __future__ import annotations

import asyncio
import base64
import json

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_engine.errors import InvalidInput
from cloud_engine.iac import escape_hcl_string
from cloud_engine.iac.binary import find_terraform
from cloud_engine.iac.hcl import unescape_hcl_literal


def read_back(literal: str) -> str:
    """What python-hcl2 sees for `a = <literal>`, decoded; a trailing attribute proves nothing leaked."""
    parsed = hcl2.loads(f"a = {literal}\nb = \"end\"\n")
    assert parsed["b"] == '"end"'
    return unescape_hcl_literal(parsed["a"])


@pytest.mark.parametrize(("text", "literal"), [
    ("plain", '"plain"'),
    ("back\\slash", '"back\\\\slash"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("line\nbreak", '"line\\nbreak"'),
    ("cr\rhere", '"cr\\rhere"'),
    ("tab\there", '"tab\\there"'),
    ("${var.secret}", '"$${var.secret}"'),
    ("%{ if true }x%{ endif }", '"%%{ if true }x%%{ endif }"'),
    ("$${x}", '"$$${x}"'),
    ("cost $5 and 50%", '"cost $5 and 50%"'),
    ("open ${ without close", '"open \\u0024{ without close"'),
    ("bell\x07", '"bell\\u0007"'),
    ("nul\x00", '"nul\\u0000"'),
    ("del\x7f", '"del\\u007F"'),
    ("rtl\u202eoverride", '"rtl\\u202Eoverride"'),
    ("tag\U000e0001", '"tag\\U000E0001"'),
    ("café 😀", '"café 😀"'),
])
def test_escape_each_special_sequence(text: str, literal: str) -> None:
    assert escape_hcl_string(text) == literal
    assert read_back(literal) == text


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidInput):
        escape_hcl_string("bad\ud800")


def test_decoder_refuses_interpolation_and_bad_escapes() -> None:
    for bad in ['"${x}"', '"%{ if x }"', '"\\q"', '"\\u12"', 'unquoted', '"a"b"']:
        with pytest.raises(ValueError):
            unescape_hcl_literal(bad)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_round_trips_or_is_refused(text: str) -> None:
    try:
        literal = escape_hcl_string(text)
    except InvalidInput:
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
        return
    assert literal.startswith('"') and literal.endswith('"')
    assert "\n" not in literal and "\r" not in literal
    assert read_back(literal) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('$%{}"\\\n ax'), max_size=16))
def test_template_heavy_text_round_trips(text: str) -> None:
    assert read_back(escape_hcl_string(text)) == text


TRICKY = ["${x}", "$${x}", "$$${x}", "%{x}", "%%{x}", "a${b", "$", "${", "}${", 'q"\\', "x\ny\tz\r",
          "\x00\x01\x1f\x7f", "\u202e\u2028", "😀\U000e0001", "${a}${b", "%{ for x in y }"]


async def test_terraform_itself_reads_our_literals_back() -> None:
    """Ground truth: Terraform's own parser decodes every tricky literal to the original text."""
    expression = "base64encode(jsonencode([" + ", ".join(escape_hcl_string(t) for t in TRICKY) + "]))\n"
    proc = await asyncio.create_subprocess_exec(
        find_terraform().path, "console",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"},
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(expression.encode()), 60)
    assert proc.returncode == 0, stderr.decode()
    # base64 keeps the console's own string quoting out of the comparison
    assert json.loads(base64.b64decode(stdout.decode().strip().strip('"'))) == TRICKY
