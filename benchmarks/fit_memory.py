"""Peak memory of one reverse-mode gradient through a 15-minute, 80-region BOLD run.

The HCP Hopf network of ``examples/configs/fit_hcp_regional.toml`` (delays, online BOLD at TR
0.72 s, 924 s simulated) is differentiated with respect to k, a per region and every connection
weight (6401 parameters) through 1 - r(FC), at dt = 5 ms (184 800 steps) and at the fit config's
72 ms, with gradient checkpointing as the Fitter chooses it (``remat='auto'``: about sqrt(steps)
segments above 20 000 steps) and without. Each case runs in a fresh process; the table gives its
peak resident memory (``ru_maxrss``) and the time of the compiled gradient (second call).

Run: ``python benchmarks/fit_memory.py [--dt 5 72] [--no-plain]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np, jax, jax.numpy as jnp
from neuralmass.fit import Fitter
from neuralmass.forward.bold import BOLDMonitor
from neuralmass.studies.build import build_study
from neuralmass.studies.fitting import fit_loss, load_fit_config
dt, remat = float(sys.argv[1]), sys.argv[2]
cfg, spec = load_fit_config(sys.argv[3], {"simulation": {"dt": f"{dt} ms"}})
study = build_study(cfg)
fitter = Fitter(study.network, loss_fn=fit_loss(study.n_regions, None, {"fc": 1.0}), backend="grad",
                space={"k": {"bounds": (1e-3, 1e-2)}, "a": {"per": "region", "bounds": (-7e-5, 3e-5)},
                       "conn.w": {"per": "connection", "bounds": (0.0, 3.0)}},
                dt=study.dt, duration=study.duration, transient=study.transient,
                monitors=[BOLDMonitor(study.variable, name="bold", **study.bold_options())],
                restarts=1, remat=("auto" if remat == "auto" else None), progress=False)
tgt = {"fc": jnp.asarray(study.targets.fc_group, jnp.float32), "fcd": jnp.zeros(1)}
vg = fitter._grad_fn(tgt)
Z = jnp.asarray(fitter.space.box_to_z(fitter.space.init_box()[None]), jnp.float32)
key = jax.random.PRNGKey(0)
L, G = vg(Z, tgt, key); jax.block_until_ready(G)
t = time.perf_counter(); L, G = vg(Z, tgt, key); jax.block_until_ready(G); t = time.perf_counter() - t
print(json.dumps({"dt": dt, "remat": fitter.remat, "steps": fitter.run_fn.n_steps,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "grad_s": t,
                  "finite": bool(np.all(np.isfinite(np.asarray(G))))}))
"""


def main(argv=None):
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dt", nargs="+", type=float, default=[5.0, 72.0])
    ap.add_argument("--no-plain", action="store_true", help="skip the runs without checkpointing")
    args = ap.parse_args(argv)
    config = str(Path(__file__).resolve().parents[1] / "examples" / "configs" / "fit_hcp_regional.toml")
    rows = []
    for dt in args.dt:
        for remat in (["auto"] if args.no_plain else ["auto", "none"]):
            out = subprocess.run([sys.executable, "-c", CHILD, str(dt), remat, config], capture_output=True, text=True)
            line = [x for x in out.stdout.splitlines() if x.startswith("{")]
            if out.returncode or not line:
                rows.append({"dt": dt, "remat": remat, "error": (out.stderr.strip().splitlines() or ["?"])[-1]})
            else:
                rows.append(json.loads(line[-1]))
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"\n{'dt (ms)':>8} {'steps':>7} {'remat segments':>15} {'peak RSS (MB)':>14} {'gradient (s)':>13}")
    for r in rows:
        if "error" in r:
            print(f"{r['dt']:>8g} {'':>7} {r['remat']:>15} failed: {r['error']}")
            continue
        print(f"{r['dt']:>8g} {r['steps']:>7} {str(r['remat'] or 'none'):>15} {r['peak_mb']:>14.0f} {r['grad_s']:>13.1f}")


if __name__ == "__main__":
    main()
