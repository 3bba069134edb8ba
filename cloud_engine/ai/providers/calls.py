"""One model call with a deadline, our retries, failure mapping and a usage log line.

Shared by every SDK provider so "what counts as a timeout", "what is retried" and "what is
logged" are decided once. Nothing here ever formats a key: details come from status codes
and exception class names, and pass through `mask_secrets` anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from cloud_engine.ai.providers.base import ProviderReply
from cloud_engine.ai.providers.retry import BudgetSpent, RetryableStatus, RetryPolicy, call_with_retries
from cloud_engine.errors import AdvisorError
from cloud_engine.logging_setup import mask_secrets

log = logging.getLogger("cloud_engine.ai.providers")

Classifier = Callable[[Exception], Exception]


def failure(provider: str, model: str, reason: str, detail: str) -> AdvisorError:
    """A key-free `AdvisorError` naming the model and why it failed."""
    return AdvisorError(detail=mask_secrets(f"{provider}:{model} {detail}"), reason=reason, provider=provider,
                        model=model)


async def run_call(provider: str, model: str, once: Callable[[], Awaitable[ProviderReply]], *, timeout_s: float,
                   policy: RetryPolicy, classify: Classifier) -> ProviderReply:
    """Call `once` under a per-attempt deadline with retries; log tokens and latency; map failures."""
    attempts = 0

    async def attempt(seconds_left: float) -> ProviderReply:
        nonlocal attempts
        attempts += 1
        started = time.perf_counter()
        deadline = min(timeout_s, seconds_left) if attempts > 1 else timeout_s  # retries fit the total budget
        try:
            async with asyncio.timeout(deadline):
                reply = await once()
        except TimeoutError:
            raise failure(provider, model, "timeout", f"timed out after {deadline:g}s") from None
        except (AdvisorError, RetryableStatus):
            raise
        except Exception as exc:  # SDK errors are mapped by the provider's classifier
            raise classify(exc) from None
        log.info("model call", extra={
            "ai_provider": provider, "ai_model": reply.model, "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "attempt": attempts,
        })
        return reply

    try:
        return await call_with_retries(attempt, policy)
    except BudgetSpent as spent:
        exc = spent.last
        reason = "rate_limited" if exc.status == 429 else "http_error"
        log.warning("model call failed", extra={"ai_provider": provider, "ai_model": model, "status": exc.status,
                                                 "attempts": attempts, "budget_s": policy.total_budget_s})
        raise failure(provider, model, reason, f"returned HTTP {exc.status} after {attempts} attempt(s); waiting "
                      f"{spent.wanted_s:g}s more would pass the {policy.total_budget_s:g}s budget") from None
    except RetryableStatus as exc:
        reason = "rate_limited" if exc.status == 429 else "http_error"
        log.warning("model call failed", extra={"ai_provider": provider, "ai_model": model, "status": exc.status,
                                                 "attempts": attempts})
        raise failure(provider, model, reason, f"returned HTTP {exc.status} after {attempts} attempt(s)") from None
    except AdvisorError as exc:
        log.warning("model call failed", extra={"ai_provider": provider, "ai_model": model,
                                                 "reason": getattr(exc, "reason", "error"), "attempts": attempts})
        raise


def elapsed_ms(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading."""
    return round((time.perf_counter() - started) * 1000, 1)
