"""Benchmarks for the Terraform runner.

(a) Streaming throughput: lines/s of a 10 000-line child through the exact pipeline a
    Terraform phase uses (`LineStream`: split, strip ANSI, mask, fan out to a list sink
    and a log file). The child is a Python one-liner, so the figure is the pipeline's
    cost, not Terraform's.
(b) Bare plan: wall time of a plain `terraform plan` of a 20-`null_resource` root (init
    excluded), the baseline the orchestrator's plan of the same root is compared with.
    `runner_plan_s` adds what `TerraformRunner.plan` does on top (show -json, parsing,
    fingerprint).

Run: `.venv/bin/python -m bench.bench_terraform` (or `python bench/bench_terraform.py`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cloud_engine.iac.binary import find_terraform, plugin_dir
from cloud_engine.iac.masking import Masker
from cloud_engine.iac.runner import TerraformRunner
from cloud_engine.iac.sinks import FileSink, ListSink, close_sinks
from cloud_engine.iac.supervision import LineStream

STREAM_LINES = 10_000
PLAN_RESOURCES = 20
_PRINTER = (
    "import sys\n"
    "out = sys.stdout\n"
    "for i in range(int(sys.argv[1])):\n"
    "    out.write(f'null_resource.r{i}: Creating... \\x1b[1m[id={i:019d}]\\x1b[0m\\n')\n"
)


def write_null_root(root: Path, count: int = PLAN_RESOURCES) -> Path:
    """A Terraform root with `count` null_resources, each with a few triggers."""
    root.mkdir(parents=True, exist_ok=True)
    blocks = [
        f'resource "null_resource" "r{i}" {{\n  triggers = {{\n    index = "{i}"\n    size  = "small"\n  }}\n}}\n'
        for i in range(count)
    ]
    (root / "main.tf").write_text("\n".join(blocks), encoding="utf-8")
    return root


async def stream_lines_per_second(lines: int = STREAM_LINES) -> float:
    """Lines/s through LineStream with masking, a list sink and a file sink."""
    with tempfile.TemporaryDirectory() as tmp:
        collected = ListSink()
        log = FileSink(Path(tmp) / "bench.log")
        stream = LineStream(
            [sys.executable, "-c", _PRINTER, str(lines)],
            phase="bench",
            masker=Masker(["bench-secret-value"]),
            sinks=[collected, log],
        )
        started = time.perf_counter()
        await stream.run()
        await close_sinks([collected, log])
        elapsed = time.perf_counter() - started
    if len(collected.lines) != lines:
        raise RuntimeError(f"expected {lines} lines, streamed {len(collected.lines)}")
    return lines / elapsed


async def _ensure_init(root: Path, plugins: Path) -> None:
    if (root / ".terraform").is_dir():
        return
    runner = TerraformRunner(root, binary=find_terraform(), plugin_dir=plugins)
    await runner.init()


async def bare_plan_seconds(root: Path, plugins: Path | None = None) -> float:
    """Wall time of one plain `terraform plan -input=false -no-color -out=…` in `root`.

    Initialises the root first (not timed) if needed, using the sandbox plugin dir.
    """
    plugins = plugins or plugin_dir(Path(tempfile.gettempdir()) / "cloud-engine-bench-cache")
    await _ensure_init(root, plugins)
    binary = find_terraform()
    env = TerraformRunner(root, binary=binary).env
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        binary.path, "plan", "-input=false", "-no-color", f"-out={root / 'bare.bin'}",
        cwd=root, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    code = await proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"terraform plan exited with {code} in {root}")
    return elapsed


async def runner_plan_seconds(root: Path, plugins: Path) -> float:
    """Wall time of `TerraformRunner.plan` (plan + show -json + parse + fingerprint)."""
    await _ensure_init(root, plugins)
    runner = TerraformRunner(root, binary=find_terraform(), plugin_dir=plugins, sinks=[ListSink()])
    started = time.perf_counter()
    await runner.plan("runner.bin")
    return time.perf_counter() - started


async def run() -> dict[str, float]:
    """All figures: streaming lines/s, bare plan seconds and runner plan seconds (20 resources)."""
    with tempfile.TemporaryDirectory() as tmp:
        plugins = plugin_dir(Path(tmp) / "cache")
        root = write_null_root(Path(tmp) / "root")
        await _ensure_init(root, plugins)
        bare = min([await bare_plan_seconds(root, plugins) for _ in range(3)])
        runner = min([await runner_plan_seconds(root, plugins) for _ in range(3)])
    lines_per_s = max([await stream_lines_per_second() for _ in range(3)])
    return {
        "stream_lines_per_s": lines_per_s,
        "bare_plan_s_20_null": bare,
        "runner_plan_s_20_null": runner,
    }


def main() -> None:
    figures = asyncio.run(run())
    print(
        f"streaming pipeline: {figures['stream_lines_per_s']:,.0f} lines/s ({STREAM_LINES} lines, best of 3)"
    )
    print(
        f"bare terraform plan, {PLAN_RESOURCES} null_resources: {figures['bare_plan_s_20_null']:.3f} s (best of 3)"
    )
    print(f"TerraformRunner.plan, same root: {figures['runner_plan_s_20_null']:.3f} s (best of 3)")


if __name__ == "__main__":
    main()
