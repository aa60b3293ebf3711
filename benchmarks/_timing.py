"""Timing shared by the benchmarks (standard library only, so peer environments can import it)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Timing:
    first: float | None    # the warm-up call (compilation included), None without warm-up
    median: float
    min: float
    output: Any            # the last call's return value


def time_calls(fn: Callable[[], Any], repeats: int, warmup: bool = True) -> Timing:
    """Median and minimum wall time of ``repeats`` calls of ``fn`` after an optional warm-up call.

    ``fn`` must block until its work is done (e.g. end with ``jax.block_until_ready``).
    """
    first = None
    if warmup:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
    times, out = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return Timing(first, statistics.median(times), min(times), out)
