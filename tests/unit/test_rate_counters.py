"""The in-process rate-limit counters: fixed windows that end, and a sweep that forgets them."""
from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.strategies import FixedWindowRateLimiter

from claims.api.rate_counters import InProcessCounters


class Clock:
    """time.time() as the counters see it, moved by hand."""

    def __init__(self, monkeypatch, now: float = 1_000_000.0):
        self.now = now
        monkeypatch.setattr("claims.api.rate_counters.time.time", lambda: self.now)


def test_a_window_counts_its_hits_then_a_new_one_opens_when_it_ends(monkeypatch):
    clock, counters = Clock(monkeypatch), InProcessCounters()
    limiter, five = FixedWindowRateLimiter(counters), RateLimitItemPerMinute(5)
    assert [limiter.hit(five, "api_key:a") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.hit(five, "api_key:b")  # another caller, another window
    stats = limiter.get_window_stats(five, "api_key:a")
    assert stats.remaining == 0 and stats.reset_time == clock.now + 60
    clock.now += 59.9
    assert not limiter.hit(five, "api_key:a")
    clock.now += 0.1  # the minute is over: the window ended, its count with it
    assert counters.get(five.key_for("api_key:a")) == 0 and counters.get_expiry("x") == clock.now
    assert limiter.hit(five, "api_key:a") and counters.get(five.key_for("api_key:a")) == 1


def test_windows_that_ended_are_forgotten_by_the_next_hit_after_a_second(monkeypatch):
    clock, counters = Clock(monkeypatch), InProcessCounters()
    for n in range(1000):  # a scan from a thousand addresses
        counters.incr(f"address:{n}", 60)
    clock.now += 61
    counters.incr("api_key:a", 60)
    assert list(counters._windows) == ["api_key:a"]
    assert counters.reset() == 1 and counters.get("api_key:a") == 0

