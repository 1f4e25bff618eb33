"""Pure pieces of the HTTP client: wait hints, backoff and the classification tables."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from connector_kit.http import RetryPolicy, Verdict, classify_exception, classify_status
from connector_kit.http.wait_hints import quota_exhausted, rate_limit_reset_delay, retry_after_delay

NOW = datetime(2024, 5, 1, 10, 30, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("Wed, 01 May 2024 10:30:20 GMT", 20.0),
        ("Wed, 01 May 2024 10:29:00 GMT", 0.0),
        ("soon", None),
    ],
)
def test_retry_after_forms(value: str, expected: float | None) -> None:
    assert retry_after_delay({"Retry-After": value}, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:31Z", 60.0),  # Jira's documented minute-resolution form
        ("2024-05-01T10:30:30+00:00", 30.0),
        ("2024-05-01T12:30:30+02:00", 30.0),
        (str(int(NOW) + 45), 45.0),
        (str(int(NOW * 1000) + 5000), 5.0),
        ("12", 12.0),
        ("whenever", None),
    ],
)
def test_rate_limit_reset_forms(value: str, expected: float | None) -> None:
    assert rate_limit_reset_delay({"X-RateLimit-Reset": value}, now=NOW) == expected


def test_quota_exhausted_reads_remaining() -> None:
    assert quota_exhausted({"X-RateLimit-Remaining": "0"})
    assert not quota_exhausted({"X-RateLimit-Remaining": "12"})
    assert not quota_exhausted({})


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=10, jitter=False)
    assert [policy.backoff_delay(attempt=n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert policy.backoff_delay(attempt=10_000) == 10


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=10)
    delays = [policy.backoff_delay(attempt=3) for _ in range(200)]
    assert all(0 <= delay <= 4 for delay in delays)
    assert len(set(delays)) > 1


def test_retry_after_comes_before_reset_and_backoff() -> None:
    policy = RetryPolicy(base_delay_s=100, max_delay_s=100, jitter=False, max_server_wait_s=50)
    headers = {"Retry-After": "2", "X-RateLimit-Reset": str(int(NOW) + 30)}
    assert policy.delay_before_retry(attempt=1, headers=headers, status=429, now=NOW) == 2
    reset_only = {"X-RateLimit-Reset": str(int(NOW) + 30)}
    assert policy.delay_before_retry(attempt=1, headers=reset_only, status=429, now=NOW) == 30
    # A reset time on a plain 500 describes the quota window, not when to retry.
    assert policy.delay_before_retry(attempt=1, headers=reset_only, status=500, now=NOW) == 100
    long_wait = {"Retry-After": "3600"}
    assert policy.delay_before_retry(attempt=1, headers=long_wait, status=503, now=NOW) == 50


def test_retry_policy_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (408, Verdict.RETRY),
        (425, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (401, Verdict.CONFIG),
        (403, Verdict.CONFIG),
        (400, Verdict.FAIL),
        (404, Verdict.FAIL),
        (410, Verdict.FAIL),
        (501, Verdict.FAIL),
    ],
)
def test_status_table(status: int, verdict: Verdict) -> None:
    assert classify_status(status=status, reason="", body=b"").verdict is verdict


def test_google_error_reasons_override_the_status() -> None:
    def body(reason: str) -> bytes:
        return b'{"error": {"code": 403, "errors": [{"reason": "%s"}]}}' % reason.encode()

    assert classify_status(status=403, reason="", body=body("rateLimitExceeded")).verdict is (
        Verdict.RETRY
    )
    assert classify_status(status=403, reason="", body=body("quotaExceeded")).verdict is (
        Verdict.FAIL
    )
    assert classify_status(status=403, reason="", body=body("accessDenied")).verdict is (
        Verdict.CONFIG
    )


def test_exception_table() -> None:
    assert classify_exception(TimeoutError()).verdict is Verdict.RETRY
    assert classify_exception(aiohttp.ServerDisconnectedError()).verdict is Verdict.RETRY
    assert classify_exception(aiohttp.ClientPayloadError("cut")).verdict is Verdict.RETRY
    assert classify_exception(aiohttp.InvalidURL("nope")).verdict is Verdict.CONFIG
    assert classify_exception(aiohttp.ClientError("other")).verdict is Verdict.FAIL
