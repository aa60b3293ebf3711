"""Start-up of a new process with and without the persistent compilation cache.

Each row is a fresh Python process that imports neuralmass, builds the main job's network (80 HCP
regions, delayed Hopf nodes, online BOLD at the HCP TR, dt = 5 ms) and runs 60 s of it once: the
first call pays compilation. Rows:

* ``off``: no cache (every process compiles);
* ``cold``: cache on, empty folder (compiles and stores);
* ``warm``: cache on, a second process (loads the stored executables).

Run: ``python benchmarks/compilation_cache.py [--repeats 3]`` (prints a table; medians).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import time, json
t0 = time.perf_counter()
import brainunit as u
import neuralmass as nm
from neuralmass.compilation_cache import enable_compilation_cache
enable_compilation_cache()
t_import = time.perf_counter() - t0
hcp = nm.datasets.load_dataset("hcp")
node = nm.HopfStep(80, a=-0.02 / u.second, omega=0.314 / u.second,
                   noise_x=nm.WhiteNoise(80, sigma=6.3e-4), noise_y=nm.WhiteNoise(80, sigma=6.3e-4))
net = nm.Network(node, conn=hcp.normalized("max"), speed=10 * u.mm / u.ms, coupling="diffusive", k=0.004)
sim = nm.Simulator(net, dt=5 * u.ms, progress=False)
t1 = time.perf_counter()
res = sim.run(60 * u.second, monitors=[nm.BOLDMonitor("x", tr=720 * u.ms)], key=0)
import numpy as np
np.asarray(res["bold"])
t_first = time.perf_counter() - t1
print(json.dumps({"import_s": t_import, "first_run_s": t_first, "total_s": time.perf_counter() - t0}))
"""


def child(cache: str | None) -> dict:
    env = dict(os.environ)
    env.pop("NEURALMASS_COMPILATION_CACHE", None)
    if cache:
        env["NEURALMASS_COMPILATION_CACHE"] = cache
    src = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    d = json.loads(out.stdout.strip().splitlines()[-1])
    d["process_s"] = wall
    return d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    rows = {"off": [], "cold": [], "warm": []}
    for _ in range(a.repeats):
        rows["off"].append(child(None))
        with tempfile.TemporaryDirectory() as cache:
            rows["cold"].append(child(cache))
            rows["warm"].append(child(cache))
    print(f"{'cache':<6}{'import (s)':>12}{'first run (s)':>15}{'whole process (s)':>19}")
    for name, rs in rows.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("import_s", "first_run_s", "process_s")}
        print(f"{name:<6}{med['import_s']:>12.2f}{med['first_run_s']:>15.2f}{med['process_s']:>19.2f}")
    print(f"(medians of {a.repeats} processes each; 80 regions, 60 s at dt = 5 ms with online BOLD)")


if __name__ == "__main__":
    main()
