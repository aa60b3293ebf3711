"""The numbers and images of docs/explore.md's "HCP Hopf k x speed landscape" section, from a store.

Run the full map first (it resumes if interrupted), e.g.::

    nice -n 19 neuralmass sweep examples/configs/sweep_hcp_k_speed.toml --scheduler serial \
        --out /tmp/k_speed_full.zarr

then::

    python scripts/sweep_map_images.py /tmp/k_speed_full.zarr

It counts the NaN lanes and points of every feature, prints the chunk times and the best points
(the report's table), and writes the report's heat maps of ``fc_corr`` and ``fcd_ks``
(:func:`neuralmass.explore.report.write_report`, the figures ``neuralmass sweep`` writes beside
the store) to docs/images/sweep_fc_corr.png and docs/images/sweep_fcd_ks.png.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    from neuralmass.explore.report import best_points, write_report
    from neuralmass.explore.store import open_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", help="the sweep's Zarr store")
    ap.add_argument("--images", default=str(ROOT / "docs" / "images"), help="folder of the docs' images")
    args = ap.parse_args(argv)
    ds = open_sweep(args.store)
    done = np.asarray(ds["chunk_done"].values) == 1
    secs = np.asarray(ds["chunk_seconds"].values, float)
    print(f"chunks done: {int(done.sum())} / {done.size}; summed chunk time {np.nansum(secs):.0f} s; "
          f"per chunk {np.nanmin(secs):.0f}-{np.nanmax(secs):.0f} s (first {secs[0]:.0f} s)")
    # only the points of stored chunks (the others are NaN until computed)
    stored = np.repeat(done, ds.attrs["spec"]["chunk"])[:ds.attrs["spec"]["n_points"]]
    for f in ds.attrs["spec"]["features"]:
        v = np.asarray(ds[f].values, float)[stored]
        lanes = ~np.isfinite(v)
        if v.ndim > 2:                       # e.g. a spectrum per lane: NaN if any entry is
            lanes = lanes.reshape(v.shape[0], v.shape[1], -1).any(axis=-1)
        points = lanes.all(axis=1) if lanes.ndim > 1 else lanes
        print(f"{f}: {int(lanes.sum())} NaN lanes of {lanes.size}, {int(points.sum())} NaN points "
              f"(of {int(stored.sum())} stored)")
    for f, rows in best_points(ds).items():
        print(f"best {f}:")
        for r in rows:
            print("   " + ", ".join(f"{k}={r[k]:.4g}" for k in r if k not in ("point",)))
    with tempfile.TemporaryDirectory() as tmp:
        write_report(ds, tmp)
        for f in ("fc_corr", "fcd_ks"):
            shutil.copyfile(Path(tmp) / "figures" / f"{f}.png", Path(args.images) / f"sweep_{f}.png")
    print(f"wrote {args.images}/sweep_fc_corr.png and sweep_fcd_ks.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
