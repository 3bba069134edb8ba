"""Credentials the engine knows are refused in user text and masked wherever text is kept.

Refused: in tags, descriptions and session purposes, with a message naming the kind of
credential and never the value. Masked: git commit messages, audit details, and streamed
Terraform output, where JSON may write the secret with escapes.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_engine.core import CloudOrchestrator, ResourceSpec
from cloud_engine.core.validation import description, parse_tags
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.credentials import register_configured_secrets
from cloud_engine.iac.masking import Masker
from cloud_engine.iac.sinks import FileSink, ListSink, close_sinks
from cloud_engine.iac.supervision import LineStream
from cloud_engine.iac.workspace import ProjectWorkspace
from cloud_engine.logging_setup import MASK
from cloud_engine.secret_text import credential_kind, mask_secrets, register_known_secrets
from cloud_engine.settings import Settings
from cloud_engine.store import Database
from cloud_engine.store.audit import recent_audit, write_audit
from tests.conftest import GUILD, USER

# A configured secret (as AWS_SECRET_ACCESS_KEY would be), with the characters JSON escapes.
KNOWN = 'ce-test-known/Secret"Value\\42'
ACCESS_KEY_ID = "AKIAZZTESTKEY0000042"  # credential-shaped, never registered


@pytest.fixture(autouse=True)
def known_secret() -> None:
    register_known_secrets([KNOWN])


def test_a_known_secret_in_a_description_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError) as err:
        description(f"deploy with {KNOWN} please")
    assert "contains a credential" in str(err.value) and "remove it" in str(err.value)
    assert KNOWN not in str(err.value) and "Secret" not in str(err.value)


def test_an_access_key_id_shape_is_refused_and_named() -> None:
    with pytest.raises(ValueError, match=r"contains a credential \(an AWS access key id\); remove it"):
        description(f"key {ACCESS_KEY_ID}")
    assert credential_kind("an ordinary purpose: resize the web tier") is None


def test_a_secret_in_a_typed_tag_is_invalid_input_naming_the_tag_not_the_value() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_tags(f"env=dev, owner={ACCESS_KEY_ID}")
    assert err.value.field == "tags" and "'owner' contains a credential" in err.value.rule
    assert ACCESS_KEY_ID not in str(err.value)


def test_a_resource_from_user_input_refuses_a_secret_in_its_description() -> None:
    with pytest.raises(InvalidInput) as err:
        ResourceSpec.from_user({"kind": "bucket", "name": "logs", "description": f"creds {KNOWN}"})
    assert err.value.field == "description" and KNOWN not in str(err.value)


async def test_a_session_purpose_holding_a_secret_is_refused(engine: CloudOrchestrator) -> None:
    project = await engine.create_project(GUILD, USER, name="purposes", provider="gcp", region="us-central1")
    with pytest.raises(InvalidInput) as err:
        await engine.start_session(project.id, USER, purpose=f"rotate {ACCESS_KEY_ID}")
    assert "contains a credential" in str(err.value) and ACCESS_KEY_ID not in str(err.value)


@pytest.mark.parametrize("shown", [
    json.dumps(KNOWN)[1:-1],  # \" and \\ escapes
    json.dumps(KNOWN)[1:-1].replace("/", "\\/"),  # \/ as some encoders write it
    json.dumps(KNOWN)[1:-1].replace("/", "\\u002F"),
    "".join(f"\\u{ord(ch):04x}" for ch in KNOWN),  # every character escaped
])
def test_mask_secrets_hides_json_escaped_forms(shown: str) -> None:
    text = f'{{"value": "{shown}", "other": "kept"}}'
    assert mask_secrets(text) == f'{{"value": "{MASK}", "other": "kept"}}'


async def test_streamed_output_masks_a_secret_written_with_json_escapes(tmp_path: Path) -> None:
    only_here = "ce-test-stream/only\u00e9here"
    escaped = only_here.replace("/", "\\u002f").replace("\u00e9", "\\u00E9")
    source = tmp_path / "printed.txt"
    source.write_text(f'{{"sensitive": "{escaped}"}}\nplain {only_here}\n', encoding="utf-8")
    chat, log = ListSink(), FileSink(tmp_path / "apply.log")
    argv = [sys.executable, "-c", "import sys; sys.stdout.write(open(sys.argv[1], encoding='utf-8').read())",
            str(source)]
    await LineStream(argv, phase="apply", masker=Masker([only_here]), sinks=[chat, log]).run()
    await close_sinks([chat, log])
    assert chat.lines == [f'{{"sensitive": "{MASK}"}}', f"plain {MASK}"]
    assert "only" not in log.path.read_text(encoding="utf-8")


async def test_commit_messages_are_masked(tmp_path: Path) -> None:
    workspace = ProjectWorkspace(tmp_path / "runs" / "1")
    await workspace.ensure()
    await workspace.commit(f"Apply session 7: purpose {KNOWN} key {ACCESS_KEY_ID}")
    message = (await workspace.log(1))[0].message
    assert message == f"Apply session 7: purpose {MASK} key {MASK}"


async def test_audit_details_are_masked_at_any_depth(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "cloud.db")
    try:
        async with db.transaction() as conn:
            await write_audit(conn, at=datetime.now(UTC), guild_id=GUILD, actor_id=USER, action="session.fail",
                              detail={"error": f"provider said {KNOWN}", "lines": [f"id {ACCESS_KEY_ID}"],
                                      "nested": {"reason": RuntimeError(KNOWN)}, "count": 2})
        (row,) = await recent_audit(db, GUILD)
    finally:
        await db.close()
    assert row.detail == {"error": f"provider said {MASK}", "lines": [f"id {MASK}"],
                             "nested": {"reason": MASK}, "count": 2}


def test_configured_credentials_become_known_secrets() -> None:
    configured = "ce-test-configured-aws-secret-0042"
    register_configured_secrets(Settings(_env_file=None, aws_secret_access_key=configured))
    with pytest.raises(ValueError, match="configured with"):
        description(f"use {configured}")
    assert mask_secrets(f'{{"k": "{configured}"}}') == f'{{"k": "{MASK}"}}'
