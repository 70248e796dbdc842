"""Capped exponential backoff with full jitter, bounded attempts.

Why full jitter: under contention (a hot card, a throttled partition) synchronized
retries collide again; drawing the delay uniformly from ``[0, min(cap, base * 2**n)]``
spreads them out (the AWS Architecture Blog's "Exponential Backoff And Jitter"). The
random source is injected so tests can make delays deterministic or zero.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

#: Error codes of a request that was refused for capacity, not for its content.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
#: Cancellation reason codes that mean "try the same transaction again".
RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.025
    max_delay: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Full-jitter delay before retry number ``attempt`` (0-based)."""
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return self.rng.uniform(0.0, cap)

    def backoff(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))


def is_throttling(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in (
        THROTTLING_CODES
    )


def call_with_retry(policy: RetryPolicy, fn: Callable[[], T]) -> T:
    """Call ``fn``; retry throttling errors with backoff, re-raise the last one."""
    attempt = 0
    while True:
        try:
            return fn()
        except ClientError as exc:
            attempt += 1
            if not is_throttling(exc) or attempt >= policy.max_attempts:
                raise
            policy.backoff(attempt - 1)
