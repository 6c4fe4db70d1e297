"""When to retry a model request and how long to wait first: 429 and 5xx, exponential backoff
with full jitter, ``Retry-After`` honoured up to a bound. Pure: no clock, no sleeping."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries: ``attempts`` requests at most (the first one included); before
    retry ``n`` (1-based) it waits a random time in ``[0, base_delay * 2**(n-1)]`` capped at
    ``max_delay``, or what ``Retry-After`` asks, capped at ``max_retry_after``."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0


def is_retryable(status: int) -> bool:
    """429 (rate limited) and every 5xx are worth another try; other statuses are final."""
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None
    when absent or unreadable. A date in the past means no wait."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(
    policy: RetryPolicy,
    retry: int,
    retry_after: str | None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``retry`` (1-based)."""
    asked = retry_after_seconds(retry_after)
    if asked is not None:
        return min(asked, policy.max_retry_after)
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (retry - 1))
    return (rng or random).uniform(0.0, ceiling)
