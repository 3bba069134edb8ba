"""A refused advice request names the field and its limit, in plain words, with no pydantic URL."""

from __future__ import annotations

import pytest

from cloud_engine.ai.schemas import AdviceRequest
from cloud_engine.errors import InvalidInput


@pytest.mark.parametrize(("kwargs", "field", "rule"), [
    ({"use_case": ""}, "use case", "must be 3 to 1000 characters (got 0)"),
    ({"use_case": "  a \n "}, "use case", "must be 3 to 1000 characters (got 1)"),
    ({"use_case": "x" * 1001}, "use case", "must be 3 to 1000 characters (got 1001)"),
    ({"use_case": "12345"}, "use case", "must describe the use case in words"),
    ({"use_case": "web\x00app"}, "use case", "must not contain control characters"),
    ({"use_case": "web app", "model": "bogus"}, "model",
     "unknown model 'bogus'; choose auto, rules, groq:<model> or gemini:<model>"),
    ({"use_case": "web app", "budget": "huge"}, "budget", "must be low, medium or high (got 'huge')"),
    ({"use_case": "web app", "provider": "oracle"}, "provider", "must be any, gcp, aws or azure (got 'oracle')"),
    ({"use_case": "web app", "security": "max"}, "security", "must be standard, enhanced or compliance (got 'max')"),
    ({"use_case": "web app", "compliance": "ISO"}, "compliance",
     "must be none, HIPAA, GDPR, PCI-DSS or SOX (got 'ISO')"),
    ({"use_case": "web app", "region": "Mars 1!"}, "region",
     "must be a region name such as us-central1, eu-west-1 or westeurope"),
    ({"use_case": "web app", "colour": "red"}, "colour", "is not an option of an advice request"),
])
def test_each_refusal_names_the_field_and_the_limit(kwargs: dict[str, str], field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        AdviceRequest(**kwargs)
    assert caught.value.field == field
    assert caught.value.rule == rule
    assert "pydantic" not in str(caught.value) and "http" not in str(caught.value)
    assert str(caught.value) == f"Invalid {field}: {rule}"


def test_several_refusals_are_listed_together() -> None:
    with pytest.raises(InvalidInput) as caught:
        AdviceRequest(use_case="", model="bogus", budget="huge")
    text = str(caught.value)
    assert "use case must be 3 to 1000 characters" in text
    assert "unknown model 'bogus'" in text and "budget must be low, medium or high" in text
    assert "errors.pydantic.dev" not in text
