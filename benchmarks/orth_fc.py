"""Orthogonalized amplitude-envelope FC: per-region SciPy loop vs neuralmass (jitted, all pairs).

Workload: 80 regions x 10 minutes at 100 Hz (60,000 samples), alpha band 8-12 Hz, envelope
low-pass 2 Hz, third-order Butterworth filters — the resting-state MEG example.

The reference is the example's loop: for every region, orthogonalize it against all others,
low-pass (scipy.signal.filtfilt) and correlate (numpy.corrcoef). neuralmass computes all pairs in
vectorized blocks inside one compiled function.

Run:  python benchmarks/orth_fc.py [--minutes 10] [--regions 80] [--repeats 3]
Prints the median wall time of ``--repeats`` runs (after one warm-up/compile run for JAX) and the
largest absolute difference between the two FC matrices.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import numpy as np
from scipy.signal import butter, filtfilt, hilbert

from neuralmass.analysis import orthogonalized_fc

sys.path.insert(0, str(Path(__file__).parent))
from _timing import time_calls  # noqa: E402


def reference_orth_fc(x, band, fs, low_pass, order=3):
    """The per-region loop of the resting-state MEG example (SciPy / NumPy, float64)."""
    n = x.shape[1]
    x = (x - x.mean(0)) / x.std(0)
    b, a = butter(order, [band[0] / (fs / 2), band[1] / (fs / 2)], btype="band")
    complex_all = hilbert(filtfilt(b, a, x, axis=0), axis=0)
    env_all = np.abs(complex_all)
    conj_div_env = complex_all.conj() / env_all
    bl, al = butter(order, low_pass / (fs / 2), btype="low")
    lp_env = filtfilt(bl, al, env_all, axis=0)
    fc = np.zeros((n, n))
    for i in range(n):
        orth_env = np.abs((complex_all[:, i][:, None] * conj_div_env).imag)
        lp_orth = filtfilt(bl, al, orth_env, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            fc[i] = np.diag(np.corrcoef(lp_orth.T, lp_env.T), k=n)
    fc = (fc + fc.T) / 2
    np.fill_diagonal(fc, 0)
    return fc


def _median_out(fn, repeats):
    t = time_calls(fn, repeats, warmup=False)
    return t.median, t.output


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--regions", type=int, default=80)
    p.add_argument("--fs", type=float, default=100.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    fs, band, low_pass = args.fs, (8.0, 12.0), 2.0
    T = int(args.minutes * 60 * fs)
    N = args.regions
    rng = np.random.default_rng(0)
    mixing = np.eye(N) + 0.3 * rng.standard_normal((N, N)) / np.sqrt(N)
    x = rng.standard_normal((T, N)) @ mixing.T

    rows = []
    t_ref, fc_ref = _median_out(lambda: reference_orth_fc(x, band, fs, low_pass), args.repeats)
    rows.append(("SciPy per-region loop (float64)", t_ref, 0.0))

    for label, x64 in (("neuralmass, jit (float32)", False), ("neuralmass, jit (float64)", True)):
        with jax.enable_x64(x64):
            f = jax.jit(lambda y: orthogonalized_fc(y, fs, band, low_pass=low_pass))
            xa = jax.numpy.asarray(x, dtype=jax.numpy.float64 if x64 else jax.numpy.float32)
            f(xa).block_until_ready()                                    # compile
            t, fc = _median_out(lambda: f(xa).block_until_ready(), args.repeats)
            rows.append((label, t, float(np.abs(np.asarray(fc) - fc_ref).max())))

    print(f"orthogonalized envelope FC: {N} regions x {T} samples ({args.minutes:g} min at "
          f"{fs:g} Hz), band {band[0]:g}-{band[1]:g} Hz, low-pass {low_pass:g} Hz; "
          f"median of {args.repeats}; backend {jax.default_backend()}")
    print(f"{'implementation':<34} {'time (s)':>10} {'speed-up':>9} {'max |dFC|':>10}")
    for label, t, err in rows:
        print(f"{label:<34} {t:>10.2f} {t_ref / t:>8.1f}x {err:>10.1e}")


if __name__ == "__main__":
    main()
