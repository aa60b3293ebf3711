"""Timing shared by the benchmarks (standard library only, so peer environments can import it)."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
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


def network_workload(workload: str, repeats: int, src: str | None = None, env: dict | None = None):
    """``(first call, median steady call)`` in seconds of ``benchmarks/network.py WORKLOAD`` run in a
    fresh process (``src``: the source tree to import neuralmass from; ``env``: extra variables)."""
    here = Path(__file__).parent
    e = {**os.environ, **(env or {})}
    src = str(Path(src).resolve()) if src else str(here.parent / "src")
    e["PYTHONPATH"] = os.pathsep.join([src, e.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, str(here / "network.py"), workload, "--repeats", str(repeats)],
                         capture_output=True, text=True, env=e, check=True).stdout
    m = re.search(rf"{workload}: first call ([\d.]+) s, median of \d+ ([\d.]+) s", out)
    return float(m.group(1)), float(m.group(2))
