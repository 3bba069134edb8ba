"""PNG chart of daily cost by service (stacked bars), rendered off the event loop.

Matplotlib's pyplot keeps global state and is not thread-safe, so this uses the
object-oriented Figure API with the Agg canvas directly: no pyplot, no GUI backend.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cloud_engine.finops.models import DailyServiceCosts

TOP_SERVICES = 8


def render_daily_cost_chart_sync(summary: DailyServiceCosts) -> bytes:
    """Stacked daily bars of the top services (the rest as 'other'); PNG bytes."""
    fig = Figure(figsize=(10, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    totals = sorted(summary.series.items(), key=lambda kv: -sum(kv[1]))
    top, rest = totals[:TOP_SERVICES], totals[TOP_SERVICES:]
    if rest:
        top.append(("other", tuple(sum(v) for v in zip(*(s for _, s in rest), strict=True))))
    bottom = [0.0] * len(summary.days)
    days: Any = summary.days  # matplotlib's date units convert these; its stubs accept only numbers
    for name, values in top:
        ax.bar(days, values, bottom=bottom, label=name, width=0.85)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("Daily cost by service")
    ax.set_ylabel(f"Effective cost ({summary.currency or 'USD'})")
    if not summary.days:
        ax.text(0.5, 0.5, "no cost data", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize="small", loc="upper left", ncols=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


async def render_daily_cost_chart(summary: DailyServiceCosts) -> bytes:
    """Render in a worker thread so the bot stays responsive."""
    return await asyncio.to_thread(render_daily_cost_chart_sync, summary)


__all__ = ["render_daily_cost_chart", "render_daily_cost_chart_sync"]
