"""Secrets stay hidden in what a Terraform phase streams: over-long lines, multi-line values, JSON/YAML and keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cloud_engine import logging_setup
from cloud_engine.iac.masking import _MAX_LINE_BYTES, Masker
from cloud_engine.iac.sinks import FileSink, ListSink, close_sinks
from cloud_engine.iac.supervision import LineStream
from cloud_engine.logging_setup import MASK, mask_secrets, register_secrets

SECRET = "S3cr3tValue-ABCDEFGHIJ"
LONG_TAIL = 200_000  # enough output after a secret for the 256 KiB cut to happen before the newline


async def _stream(text: str, tmp_path: Path, masker: Masker | None = None) -> tuple[list[str], str]:
    """What the chat sink and the log file receive when a child prints `text` (UTF-8) in one go."""
    source = tmp_path / "printed.txt"
    source.write_bytes(text.encode())
    argv = [
        sys.executable,
        "-c",
        "import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())",
        str(source),
    ]
    chat, log = ListSink(), FileSink(tmp_path / "phase.log")
    await LineStream(argv, phase="apply", masker=masker, sinks=[chat, log]).run()
    await close_sinks([chat, log])
    return chat.lines, log.path.read_text(encoding="utf-8")


def _leaked_pieces(secret: str, text: str) -> list[str]:
    """Every 8-character piece of `secret` that shows in `text` (a recognisable fragment)."""
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text]


# -- over-long lines cut at 256 KiB ----------------------------------------------------


async def test_registered_secret_across_the_line_cut_is_masked(tmp_path: Path) -> None:
    before, after = "x" * (_MAX_LINE_BYTES - 11), "y" * LONG_TAIL
    lines, log = await _stream(f"{before}{SECRET}{after}\nnext\n", tmp_path, Masker([SECRET]))
    assert len(lines) == 3, "the over-long line is still cut in two"
    assert all(len(line.encode()) <= _MAX_LINE_BYTES for line in lines)
    assert "".join(lines[:2]) == before + MASK + after, "nothing but the secret is hidden"
    assert not _leaked_pieces(SECRET, "\n".join(lines)) and not _leaked_pieces(SECRET, log)


async def test_keyword_secret_across_the_line_cut_is_masked(tmp_path: Path) -> None:
    value = "SuperSecretPass1"
    text = "x" * (_MAX_LINE_BYTES - 20) + f' password="{value}" ' + "y" * LONG_TAIL + "\n"
    lines, log = await _stream(text, tmp_path)
    assert len(lines) == 2 and f'password="{MASK}"' in "".join(lines)
    assert not _leaked_pieces(value, "\n".join(lines)) and not _leaked_pieces(value, log)


async def test_private_key_begin_across_the_line_cut_hides_the_key(tmp_path: Path) -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----" + "K" * LONG_TAIL
    text = (
        "x" * (_MAX_LINE_BYTES - 10)
        + f"{key}\nMIIBOgBodyLineOfTheKey\n-----END RSA PRIVATE KEY-----\nafter\n"
    )
    lines, log = await _stream(text, tmp_path)
    for shown in ("\n".join(lines), log):
        assert "KKKKKKKK" not in shown and "BodyLine" not in shown
    assert lines[-1] == "after", "output after the key is shown again"


async def test_line_cut_keeps_utf8_characters_whole(tmp_path: Path) -> None:
    text = "x" * (_MAX_LINE_BYTES - 1) + "é" * 150_000
    lines, log = await _stream(text + "\n", tmp_path)
    assert len(lines) == 2 and "".join(lines) == text
    assert "\ufffd" not in log


# -- multi-line secret values -----------------------------------------------------------


async def test_each_line_of_a_multi_line_secret_is_masked(tmp_path: Path) -> None:
    value = "first-line-of-secret\n  second-line-of-secret\n}"
    lines, log = await _stream(f"{value}\nplain\n", tmp_path, Masker([value]))
    assert lines == [MASK, "  " + MASK, "}", "plain"], "short lines such as '}' are left alone"
    assert "line-of-secret" not in log


def test_registered_multi_line_secret_is_masked_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging_setup, "_extra_secrets", set())
    register_secrets(["global-secret-one\r\nglobal-secret-two"])
    assert mask_secrets("got global-secret-two here") == f"got {MASK} here"


# -- credential formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('password = "SuperSecretPass1"', f'password = "{MASK}"'),
        ('"password": "SuperSecretPass1"', f'"password": "{MASK}"'),
        ("password: 'SuperSecretPass1'", f"password: '{MASK}'"),
        ('{"client_secret":"SuperSecretPass1"}', f'{{"client_secret":"{MASK}"}}'),
        (
            '"api_key" : "SuperSecretPass1", "token": "abcdefgh12345"',
            f'"api_key" : "{MASK}", "token": "{MASK}"',
        ),
    ],
)
def test_json_and_yaml_credentials_are_masked(line: str, shown: str) -> None:
    assert Masker()(line) == shown


def test_pgp_private_key_block_is_masked() -> None:
    lines = [
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "lQOYBF0secretbodyline",
        "-----END PGP PRIVATE KEY BLOCK-----",
        "ok",
    ]
    mask = Masker().line_masker()
    assert [mask(line) for line in lines] == [MASK, MASK, MASK, "ok"]
    assert mask_secrets("\n".join(lines)) == f"{MASK}\nok"


@pytest.mark.parametrize(
    "lines",
    [
        [
            "old=-----BEGIN RSA PRIVATE KEY-----AAAA-----END RSA PRIVATE KEY----- new=-----BEGIN RSA PRIVATE KEY-----",
            "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
            "-----END RSA PRIVATE KEY-----",
        ],
        [
            "-----BEGIN RSA PRIVATE KEY-----",
            "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
            "-----END RSA PRIVATE KEY----- next=-----BEGIN EC PRIVATE KEY-----",
            "MHcCAQEEIBodySecretLine",
            "-----END EC PRIVATE KEY-----",
        ],
    ],
    ids=["two-keys-then-open", "end-then-open"],
)
def test_second_key_opened_on_a_line_hides_its_body(lines: list[str]) -> None:
    mask = Masker().line_masker()
    shown = [mask(line) for line in lines] + [mask("after")]
    assert shown[-1] == "after"
    assert all("MIIB" not in line and "BodySecret" not in line and "AAAA" not in line for line in shown)


# -- shutdown ---------------------------------------------------------------------------

TRAPS_SIGINT = (
    "import signal, sys, time\n"
    "def bye(*_):\n"
    "    sys.stdout.write('shutdown line\\nfailed: final-secret-value'); sys.stdout.flush(); sys.exit(1)\n"
    "signal.signal(signal.SIGINT, bye)\n"
    "print('first', flush=True)\n"
    "time.sleep(30)\n"
)


async def test_last_line_without_newline_reaches_sinks_when_consumer_stops_early() -> None:
    sink = ListSink()
    stream = LineStream(
        [sys.executable, "-c", TRAPS_SIGINT],
        phase="apply",
        masker=Masker(["final-secret-value"]),
        sinks=[sink],
        grace_s=5,
    )
    async with stream as lines:
        async for _ in lines:
            break
    assert sink.lines == ["first", "shutdown line", f"failed: {MASK}"]
