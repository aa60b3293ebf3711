"""A chunked run's peak memory does not grow with its duration (the main job runs 15 min of brain
time in chunks; only the recorded samples are kept)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import json, resource, sys
import numpy as np
import neuralmass as nm
steps = int(sys.argv[1])
sim = nm.Simulator(nm.NodeSystem(nm.HOPF, 400), dt=0.1, progress=False, chunk_steps=5_000)
res = sim.run(steps * 0.1, monitors=[nm.TemporalAverage("x", period=500.0)], key=0)
np.asarray(res["x"])
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "samples": int(np.asarray(res["x"]).shape[0])}))
"""


def _peak(steps):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", CHILD, str(steps)], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_chunked_run_memory_does_not_grow_with_duration():
    short, long = _peak(10_000), _peak(160_000)       # 1 s and 16 s of 400 nodes at dt = 0.1 ms
    assert (short["samples"], long["samples"]) == (2, 32)
    # a trajectory kept in memory would be 160k steps x 400 nodes x 2 states x 4 B = 512 MB
    assert long["rss_mb"] - short["rss_mb"] < 64, (short, long)
