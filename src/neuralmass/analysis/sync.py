r"""Phase synchrony: Kuramoto order parameter and metastability.

.. math:: R(t) = \Big|\frac{1}{N}\sum_{j=1}^{N} e^{i\varphi_j(t)}\Big|, \qquad
          \text{metastability} = \operatorname{std}_t R(t)

with :math:`\varphi_j` the phase of the analytic signal of region :math:`j` (Hilbert transform of
the optionally band-passed signal). :math:`R = 1` is full phase locking, :math:`R \approx
1/\sqrt{N}` incoherence; a large standard deviation of :math:`R` over time marks a system that
wanders between synchrony and asynchrony (Shanahan 2010; Deco et al. 2017).

References
----------
Y. Kuramoto, *Chemical Oscillations, Waves, and Turbulence*, Springer (1984).
M. Shanahan, "Metastable chimera states in community-structured oscillator networks", Chaos 20
(2010) 013108.
G. Deco, J. Cabral, M. W. Woolrich, A. B. A. Stevner, T. J. van Hartevelt, M. L. Kringelbach,
"Single or multiple frequency generators in on-going brain activity", NeuroImage 151 (2017) 83–93.
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp

from ..typing import Array
from ._utils import safe_abs, safe_div, unwrap
from .signal import _hilbert_t, bandpass

__all__ = ["kuramoto_order", "metastability", "phases"]


def _phasors(x, fs, band, order, is_phase):
    if is_phase:
        return jnp.exp(1j * x)
    if jnp.iscomplexobj(x):
        z = x
    else:
        if band is not None:
            x = bandpass(x, band[0], band[1], fs, order)
        x = x - jnp.mean(x, axis=-2, keepdims=True)
        z = _hilbert_t(x, -2)
    return safe_div(z, safe_abs(z))


def phases(x: Array, fs: Array | None = None, band: Sequence[float] | None = None, order: int = 3) -> Array:
    """Instantaneous phase (radians, in (-π, π]) of each region: ``angle(hilbert(x))``.

    With ``band`` the signal is first band-passed (zero-phase Butterworth of ``order``).
    """
    w = unwrap(x)
    y = w.x
    if band is not None:
        y = bandpass(y, band[0], band[1], fs, order)
    y = y - jnp.mean(y, axis=-2, keepdims=True)
    return w.signal(jnp.angle(_hilbert_t(y, -2)), keep_unit=False)


def kuramoto_order(x: Array, fs: Array | None = None, band: Sequence[float] | None = None, order: int = 3,
                   is_phase: bool = False) -> Array:
    """Kuramoto order parameter :math:`R(t)` across regions.

    Parameters
    ----------
    x : array (..., time, regions), Quantity or DataArray
        Real signals (their Hilbert phase is used; the mean is removed first), a complex analytic
        signal, or phases in radians with ``is_phase=True``.
    fs : float or Quantity, optional
        Sampling rate in Hz (needed with ``band``).
    band : (low, high), optional
        Band-pass (Hz) before taking phases.
    order : int
        Butterworth order of the band-pass.
    is_phase : bool
        ``x`` holds phases already.

    Returns
    -------
    array (..., time)
    """
    w = unwrap(x, allow_complex=True)
    p = _phasors(w.x, fs, band, order, is_phase)
    r = safe_abs(jnp.mean(p, axis=-1))
    return w.time_series(r)


def metastability(x: Array, fs: Array | None = None, band: Sequence[float] | None = None, order: int = 3,
                  is_phase: bool = False) -> Array:
    """Metastability: standard deviation over time of the Kuramoto order parameter.

    Same arguments as :func:`kuramoto_order`; returns an array of shape ``(...)``.
    """
    w = unwrap(x, allow_complex=True)
    r = safe_abs(jnp.mean(_phasors(w.x, fs, band, order, is_phase), axis=-1))
    return jnp.std(r, axis=-1)
