"""The HCP Hopf network's k x conduction-speed landscape, through the Python API.

Runs ``examples/configs/sweep_hcp_k_speed_quick.toml`` (8 x 8 points, 300 s of brain time per
point; pass another config with a ``[sweep]`` table as the first argument), then prints the best
points and writes the heat maps. Interrupt it and run it again: it resumes.

    python examples/sweep_hcp.py [CONFIG.toml] [--workers N] [--scheduler ADDR|serial] [--out STORE]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neuralmass.studies.sweep import load_sweep_config
from neuralmass.explore.report import best_points, write_report


def main():
    here = Path(__file__).parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("NEURALMASS_QUICK", "") not in ("", "0")   # the test suite's smoke run
    size = "smoke" if quick else "quick"
    ap.add_argument("config", nargs="?", default=str(here / "configs" / f"sweep_hcp_k_speed_{size}.toml"))
    ap.add_argument("--workers", type=int)
    ap.add_argument("--scheduler")
    ap.add_argument("--out")
    args = ap.parse_args()
    sweep, store = load_sweep_config(args.config)
    store = args.out or store
    print(f"{sweep.n_points} points x {len(sweep.seeds)} seeds, {sweep.n_chunks} chunks -> {store}")
    ds = sweep.run(store, scheduler=args.scheduler or ("serial" if quick else None), workers=args.workers)
    print(f"computed {len(sweep.last_run['computed'])} chunks ({sweep.last_run['skipped']} were stored)")
    for feature, rows in best_points(ds, top=3).items():
        print(f"best {feature}:")
        for r in rows:
            params = ", ".join(f"{n} = {r[n]:.4g}" for n in ds.attrs["spec"]["space"])
            print(f"   {params}: {r['mean']:.3f} (+- {r['std']:.3f} over seeds)")
    out = Path(str(store).removesuffix(".zarr") + "-report")
    print("report:", write_report(ds, out))


if __name__ == "__main__":
    main()
