"""Heat maps of a sweep's features and a report naming the best points.

Each feature is averaged over the noise seeds that gave a finite value (lanes that diverged are
NaN in the store). A grid over two or more parameters gives a heat map over the first two
(averaged over the other parameters) that covers the whole grid: cells without any finite lane
are grey, not dropped; other designs give a scatter of the points coloured by the feature; one
parameter gives a curve with the seed-to-seed spread.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np

from .features import FEATURES

__all__ = ["best_points", "plot_feature", "write_report"]

log = logging.getLogger("neuralmass")


def _table(ds, feature):
    """DataFrame with one row per point: parameter columns, mean and std over seeds."""
    import pandas as pd

    names = list(ds.attrs["spec"]["space"])
    v = np.asarray(ds[feature].values, dtype=float)
    cols = {n: np.asarray(ds[n].values) for n in names}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # points whose lanes all diverged: NaN
        cols["mean"] = np.nanmean(v, axis=1) if np.isfinite(v).any() else np.full(v.shape[0], np.nan)
        cols["std"] = np.nanstd(v, axis=1) if np.isfinite(v).any() else np.full(v.shape[0], np.nan)
    return pd.DataFrame(cols), names


def best_points(ds, top: int = 5) -> dict:
    """``feature -> list of {params..., mean, std}``: the ``top`` points of each feature with a
    direction (highest ``fc_corr``, lowest ``fcd_ks``), by the mean over seeds."""
    out = {}
    for f in ds.attrs["spec"]["features"]:
        hib = FEATURES[f].higher_is_better
        if hib is None:
            continue
        df, names = _table(ds, f)
        df = df[np.isfinite(df["mean"])]
        df = df.sort_values("mean", ascending=not hib).head(top)
        out[f] = [{**{n: float(r[n]) for n in names}, "point": int(i), "mean": float(r["mean"]),
                   "std": float(r["std"])} for i, r in df.iterrows()]
    return out


def plot_feature(ds, feature, ax):
    """Heat map (grid, ≥ 2 parameters), scatter (other designs) or curve (1 parameter)."""
    df, names = _table(ds, feature)
    spec = ds.attrs["spec"]
    if len(names) == 1:
        x = df[names[0]].to_numpy()
        order = np.argsort(x)
        ax.plot(x[order], df["mean"].to_numpy()[order], "o-")
        ax.fill_between(x[order], (df["mean"] - df["std"]).to_numpy()[order],
                        (df["mean"] + df["std"]).to_numpy()[order], alpha=0.3)
        ax.set_xlabel(names[0])
        ax.set_ylabel(feature)
        return ax
    a, b = names[:2]
    if spec["design"] == "grid":
        # every grid value stays on the axes: a column whose lanes all diverged is a grey column,
        # not a silently narrower map (pivot_table would drop it)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            piv = df.groupby([b, a])["mean"].agg(lambda x: np.nanmean(x) if np.isfinite(x).any()
                                                 else np.nan).unstack(a)
        xs, ys = piv.columns.to_numpy(float), piv.index.to_numpy(float)
        grid = piv.to_numpy(float)
        cmap = _viridis_grey()
        im = ax.pcolormesh(_edges(xs, spec["space"][a]), _edges(ys, spec["space"][b]),
                           np.ma.masked_invalid(grid), shading="flat", cmap=cmap)
        if not np.isfinite(grid).all():
            ax.text(0.01, 1.01, "grey: no finite lane", transform=ax.transAxes, fontsize=7,
                    va="bottom", ha="left", color="0.35")
        if spec["space"][a].get("scale") == "log":
            ax.set_xscale("log")
        if spec["space"][b].get("scale") == "log":
            ax.set_yscale("log")
    else:
        im = ax.scatter(df[a], df[b], c=df["mean"], cmap="viridis", s=18)
    ax.figure.colorbar(im, ax=ax, label=feature + (" (mean over seeds)" if len(spec["seeds"]) > 1 else ""))
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.set_title(feature)
    return ax


def _viridis_grey():
    import matplotlib

    return matplotlib.colormaps["viridis"].with_extremes(bad="0.82")


def _edges(centres, axis_spec):
    c = np.asarray(centres, float)
    if len(c) == 1:
        return np.array([c[0] * 0.9, c[0] * 1.1]) if c[0] else np.array([-0.5, 0.5])
    if axis_spec.get("scale") == "log" and np.all(c > 0):
        lc = np.log(c)
        mid = (lc[1:] + lc[:-1]) / 2
        return np.exp(np.concatenate([[lc[0] - (mid[0] - lc[0])], mid, [lc[-1] + (lc[-1] - mid[-1])]]))
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def write_report(ds, out_dir, top: int = 5) -> Path:
    """Write ``figures/<feature>.png``, ``best_points.json`` and ``report.md`` into ``out_dir``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:          # the store is complete; only the figures need the viz extra
        plt = None
        log.warning("matplotlib is not installed (pip install 'neuralmass[viz]'): no heat maps written")

    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    spec = ds.attrs["spec"]
    done = np.asarray(ds["chunk_done"].values) == 1
    secs = np.asarray(ds["chunk_seconds"].values, float)
    best = best_points(ds, top)
    (out / "best_points.json").write_text(json.dumps(best, indent=2))
    lines = ["# neuralmass sweep", "",
             f"- points: {spec['n_points']} ({spec['design']} design over {', '.join(spec['space'])}); "
             f"seeds: {spec['seeds']}; features: {', '.join(spec['features'])}",
             f"- chunks stored: {int(done.sum())} / {len(done)} ({spec['chunk']} points x "
             f"{len(spec['seeds'])} seeds per batched engine call); compute time "
             f"{np.nansum(secs):.1f} s", ""]
    lines += ["## Space", "", "| parameter | axis |", "|---|---|"]
    lines += [f"| {n} | {json.dumps(a)} |" for n, a in spec["space"].items()]
    lines.append("")
    for f, rows in best.items():
        word = "highest" if FEATURES[f].higher_is_better else "lowest"
        names = list(spec["space"])
        lines += [f"## Best points: {word} `{f}`", "",
                  "| rank | point | " + " | ".join(names) + " | mean | std over seeds |",
                  "|---" * (len(names) + 4) + "|"]
        for r, row in enumerate(rows, 1):
            lines.append(f"| {r} | {row['point']} | " + " | ".join(f"{row[n]:.4g}" for n in names)
                         + f" | {row['mean']:.4f} | {row['std']:.4f} |")
        lines.append("")
    lines += ["## Maps", ""]
    for f in spec["features"] if plt is not None else ():
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        plot_feature(ds, f, ax)
        fig.tight_layout()
        fig.savefig(out / "figures" / f"{f}.png", dpi=100)
        plt.close(fig)
        lines += [f"![{f}](figures/{f}.png)", ""]
    lines += ["## Versions", "", "```json", json.dumps(ds.attrs.get("versions", {}), indent=2), "```", ""]
    (out / "report.md").write_text("\n".join(lines))
    return out / "report.md"
