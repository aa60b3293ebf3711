"""Analysis of simulated and recorded signals: filters, envelopes, FC, FCD, spectra, synchrony.

Every function takes arrays shaped ``(time, regions)`` with optional leading batch axes, a
sampling rate ``fs`` in Hz (a number or a brainunit Quantity) where one is needed, and is
differentiable with :func:`jax.grad`. Plain arrays, brainunit quantities and
:class:`xarray.DataArray` objects with dims ``('time', 'regions')`` are accepted; a DataArray
comes back labelled.

Modules: :mod:`.signal` (filters, Hilbert, resampling, z-score), :mod:`.fc` (Pearson, envelope and
orthogonalized envelope FC), :mod:`.fcd` (sliding-window FC, FCD), :mod:`.spectra` (Welch PSD,
peak frequency), :mod:`.sync` (Kuramoto order parameter, metastability), :mod:`.stability`
(fixed points of a node model or network and their linear stability).
"""

from ._utils import pearson
from .fc import (envelope_fc, functional_connectivity, orthogonalized_envelope_correlation,
                 orthogonalized_fc, upper_triangle)
from .fcd import fcd, fcd_values, sliding_window_fc
from .signal import (band_envelope, bandpass, butter, envelope, filtfilt, highpass, hilbert,
                     lfilter, lowpass, resample, sosfilt, sosfiltfilt, zscore)
from .spectra import peak_frequency, welch
from .stability import FixedPoint, Stability, classify, fixed_point, jacobian, linear_stability
from .sync import kuramoto_order, metastability, phases

__all__ = [
    "butter", "lfilter", "filtfilt", "sosfilt", "sosfiltfilt", "bandpass", "lowpass", "highpass",
    "hilbert", "envelope", "band_envelope", "resample", "zscore",
    "functional_connectivity", "envelope_fc", "orthogonalized_fc",
    "orthogonalized_envelope_correlation", "upper_triangle",
    "sliding_window_fc", "fcd", "fcd_values",
    "welch", "peak_frequency",
    "kuramoto_order", "metastability", "phases", "pearson",
    "fixed_point", "linear_stability", "jacobian", "classify", "FixedPoint", "Stability",
]
