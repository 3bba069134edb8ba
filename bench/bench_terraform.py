"""Benchmarks for the Terraform runner.

(a) Streaming throughput: lines/s of a 10 000-line child through the exact pipeline a
    Terraform phase uses (`LineStream`: split, strip ANSI, mask, fan out to a list sink
    and a log file). The child is a Python one-liner, so the figure is the pipeline's
    cost, not Terraform's.
(b) Bare plan: wall time of a plain `terraform plan` of a 20-`null_resource` root (init
    excluded), the baseline the orchestrator's plan of the same root is compared with.
    `runner_plan_s` adds what `TerraformRunner.plan` does on top (show -json, parsing,
    fingerprint).

(c) Orchestrator plan overhead at 200 resources: the whole `CloudOrchestrator.plan` of a
    200-bucket sandbox project (render, parse back, write, fmt, plan, read, judge, store)
    against a bare `terraform plan` of the same, already initialised root (goal <= 1.15x,
    as `bench_core` measures at 20). Best of `PLAN_200_REPEATS` each, plus the median of the
    per-attempt ratios.
(d) What the Checkov scan adds to each plan of that project (SCAN_PLANS): one run over its
    provider HCL, or "not measured: checkov missing" without `.venv-checkov`.

Run: `.venv/bin/python -m bench.bench_terraform` (or `python bench/bench_terraform.py`).
"""

from __future__ import annotations

import asyncio
import statistics
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
BIG_PROJECT = 200
PLAN_200_REPEATS = 5
MAX_CHANGES = 50  # per session (cloud_engine/store/sessions.py)
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


async def orchestrator_plan_ratio(resources: int = BIG_PROJECT, repeats: int = PLAN_200_REPEATS) -> dict[str, float]:
    """The orchestrator's plan of a `resources`-bucket sandbox project vs a bare `terraform plan` of its root.

    A session holds at most 50 changes, so the project is first built by applying sessions of
    50 buckets (real Terraform) up to `resources - 50`. Each attempt is then a new session adding
    the last 50, named anew each time (nothing is cached): its plan renders, checks and plans the
    whole `resources`-bucket project, as bench_core's 20-bucket plan does (creates only, so the
    plan is read from Terraform's stream). The bare plan runs right after in the same root,
    against the same configuration and state. The scan is off here (`scan_seconds`).
    """
    from cloud_engine.core import CloudOrchestrator, ResourceSpec
    from cloud_engine.settings import Settings
    from cloud_engine.store import Database

    guild, admin = 1, 1
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_path=str(Path(tmp) / "plan.db"),
                            terraform_runs_dir=Path(tmp) / "runs", scan_plans=False)
        db = await Database.open(settings.database_path)
        try:
            engine = CloudOrchestrator(db, settings)
            await engine.grant(guild, admin, admin, "CloudAdmin")
            await engine.set_quota(guild, admin, "storage.buckets", resources * 2)
            project = await engine.create_project(guild, admin, name="plan-200", provider="gcp", region="us-central1")
            for first in range(0, resources - MAX_CHANGES, MAX_CHANGES):
                session = await engine.start_session(project.id, admin)
                for i in range(first, min(first + MAX_CHANGES, resources)):
                    await engine.add_resource(session.id, admin, ResourceSpec(kind="bucket", name=f"b-{i}",
                                                                              storage_gb=10))
                await engine.plan(session.id, admin)
                await engine.approve(session.id, admin)
                if (await engine.apply(session.id, admin)).state.value != "APPLIED":
                    raise RuntimeError("building the benchmark project failed")
            for attempt in range(repeats):
                session = await engine.start_session(project.id, admin)
                for i in range(MAX_CHANGES):
                    await engine.add_resource(session.id, admin, ResourceSpec(kind="bucket", name=f"n{attempt}-{i}",
                                                                              storage_gb=10))
                await engine.validate(session.id, admin)
                started = time.perf_counter()
                planned = await engine.plan(session.id, admin)
                ours.append(time.perf_counter() - started)
                if not planned.plan_summary or planned.plan_summary["add"] != MAX_CHANGES:
                    raise RuntimeError(f"the plan did not add the {MAX_CHANGES} new buckets: {planned.error}")
                bare.append(await bare_plan_seconds(engine.deployer.root(project),
                                                    plugin_dir(Path(settings.terraform_runs_dir))))
                await engine.cancel(session.id, admin)
        finally:
            await db.close()
    return {f"orchestrator plan, {resources} resources (s, best)": min(ours),
            f"bare terraform plan, {resources} resources (s, best)": min(bare),
            f"plan overhead ratio, {resources} res. (goal <= 1.15)": min(ours) / min(bare),
            f"plan overhead ratio, {resources} res., median": statistics.median(
                o / b for o, b in zip(ours, bare, strict=True))}


async def scan_seconds(resources: int = BIG_PROJECT, repeats: int = 2) -> dict[str, float | str]:
    """What the Checkov scan adds to each plan of the `resources`-bucket project (its GCP HCL), best of `repeats`."""
    from cloud_engine.core import ResourceSpec
    from cloud_engine.iac.render import render
    from cloud_engine.iac.scan import find_checkov, scan_files

    label = f"checkov scan per plan, {resources} resources (s, best)"
    checkov = find_checkov()
    if checkov is None:
        return {label: "not measured: checkov missing (make checkov)"}
    files = render("gcp", [ResourceSpec(kind="bucket", name=f"b-{i}", storage_gb=10) for i in range(resources)],
                   project_name="plan-200")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = await asyncio.to_thread(scan_files, files, checkov=checkov)
        times.append(time.perf_counter() - started)
        if not result["scanned"]:
            return {label: f"not measured: {result['reason']}"}
    return {label: min(times)}


async def run() -> dict[str, float | str]:
    """All figures: streaming lines/s, bare and runner plan seconds (20 resources), the 200-resource ratio, the scan."""
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
        **await orchestrator_plan_ratio(),
        **await scan_seconds(),
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
    for key, value in figures.items():
        if str(BIG_PROJECT) in key:
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
