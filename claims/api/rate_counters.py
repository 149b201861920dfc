"""The in-process rate-limit counters (`claims-memory://`): fixed windows, expired ones swept inline.

The `limits` library's own `memory://` storage starts a timer thread on a hit whenever the previous timer has
ended (every 10 ms), so under steady load nearly every request started a thread (bench figure 1 on
PostgreSQL, three runs each: 5.80 ms of worker CPU per filing with it, 5.47 without, 218 vs 232 filings/s). These
counters keep the same fixed-window semantics (the strategy flask-limiter is configured with reads only
incr, get and get_expiry) and drop windows that have ended at most once a second, during a hit, so memory
stays bounded by the callers of the last minute, with no thread. Redis (settings.redis_url) replaces them
when several processes must share a count.
"""
from __future__ import annotations

import threading
import time
from typing import ClassVar

from limits.storage import Storage


class InProcessCounters(Storage):
    """Fixed-window counters for one process: key -> [count, window end]."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["claims-memory"]  # limits registers the class under it
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        self._windows: dict[str, list] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        """Nothing here raises a storage error of its own."""
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count a hit in the key's current window (a new one when none is open) and return the window's count."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return window[0]

    def get(self, key: str) -> int:
        """The count of the key's open window (0 when none is open)."""
        window = self._windows.get(key)
        return window[0] if window is not None and window[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When the key's open window ends (now when none is open, as limits' memory storage answers)."""
        now = time.time()
        window = self._windows.get(key)
        return window[1] if window is not None and window[1] > now else now

    def check(self) -> bool:
        """Always reachable: it is this process's memory."""
        return True

    def reset(self) -> int:
        """Forget every window; how many there were."""
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
            return count

    def clear(self, key: str) -> None:
        """Forget one key's window."""
        with self._lock:
            self._windows.pop(key, None)

    def _sweep(self, now: float) -> None:
        # Called with the lock held: windows that have ended count nothing, and a caller who went away
        # must not keep its key in memory.
        for key in [key for key, window in self._windows.items() if window[1] <= now]:
            del self._windows[key]
        self._next_sweep = now + self.SWEEP_SECONDS
