"""Which due project a free worker gets, so big projects never hold every worker.

Both event logs apply the same two rules when a worker claims:

- Among due projects, the one that last got a worker longest ago (never: first) goes first,
  so a project pushed to again and again goes behind those that have waited.
- A project whose last ingest, or the one running now, took `heavy_seconds` or more is
  heavy. At most `heavy_slots(live workers)` heavy jobs run at once; a worker that finds only
  heavy projects due while those slots are taken stays free for the small ones.

Workers count as live while they claimed or renewed a lease within one lease period (each
log keeps a small table of them), so the cap follows the fleet as it scales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WORKER_TOUCH_SECONDS = 5.0
"""A worker's row is rewritten at most this often (an idle worker claims every second)."""
WORKER_FORGET_SECONDS = 86_400.0
"""Rows of workers gone this long are removed (every restart names a new worker)."""


@dataclass(frozen=True)
class Fairness:
    """When a project is heavy, and what share of the live workers may run heavy ones."""

    heavy_seconds: float = 60.0
    heavy_share: float = 0.75

    def heavy_slots(self, live_workers: int) -> int:
        """How many heavy jobs may run at once with `live_workers` workers.

        >>> [Fairness(heavy_share=0.75).heavy_slots(n) for n in (0, 1, 2, 3, 4, 8)]
        [1, 1, 1, 2, 3, 6]
        """
        return max(1, math.floor(live_workers * self.heavy_share + 1e-9))

    def heavy_allowed(self, live_workers: int, heavy_running: int) -> bool:
        """Whether one more heavy job may start now."""
        return heavy_running < self.heavy_slots(live_workers)
