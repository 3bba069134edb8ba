"""Run the benchmarks and print their figures: `python -m bench [name ...]`.

Each module exposes `run()` (sync or async) returning a dict of figures; they run one after
another so they do not compete for the machine's two cores.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import time

MODULES = ("bench_core", "bench_terraform", "bench_streaming", "bench_retrieval", "bench_advisor", "bench_finops")


def main(argv: list[str]) -> int:
    wanted = [m if m.startswith("bench_") else f"bench_{m}" for m in argv] or list(MODULES)
    failures = 0
    for name in wanted:
        print(f"\n## {name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.run()
            if inspect.isawaitable(result):
                result = asyncio.run(result)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failures += 1
            print(f"   FAILED: {type(exc).__name__}: {exc}")
            continue
        for key, value in (result or {}).items():
            shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
            print(f"   {key:<48} {shown}")
        print(f"   ({time.perf_counter() - started:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
