r"""BOLD by convolution with a hemodynamic response function (HRF).

The linear alternative to the Balloon–Windkessel model (:mod:`neuralmass.forward.bold`): the
BOLD signal is the causal convolution of neural activity with a kernel,

.. math::

    y(t) = \int_0^{\infty} h(\sigma)\, z(t - \sigma)\, d\sigma
         \approx \Delta t \sum_{k \ge 0} h(k \Delta t)\, z[n - k],

evaluated with the FFT (:func:`hrf_bold`) and then sampled at the repetition time TR.

Kernels (the shape functions take time in **seconds**, ``t_s``):

* :func:`volterra_kernel` — first-order Volterra kernel of the Balloon–Windkessel model, i.e. the
  impulse response of its linearisation about rest, :math:`h(t) = \varepsilon\, c^\top e^{A t} b`
  (Friston et al. 2000). Exact for small inputs; in BOLD units per unit drive · s.
* :func:`gamma_hrf` — Boynton et al. (1996) gamma function
  :math:`h(t) = \frac{((t-\delta)/\tau)^{n-1} e^{-(t-\delta)/\tau}}{\tau (n-1)!}` for
  :math:`t > \delta` (n = 3, τ = 1.08 s, δ = 2.05 s: peak at δ + (n−1)τ = 4.21 s; unit area).
* :func:`double_exponential_hrf` — a rise–decay kernel
  :math:`h(t) = \frac{e^{-(t-\delta)/\tau_d} - e^{-(t-\delta)/\tau_r}}{\tau_d - \tau_r}` for
  :math:`t > \delta` (unit area; peak at
  :math:`\delta + \frac{\tau_r \tau_d}{\tau_d - \tau_r}\ln(\tau_d/\tau_r)`). There is no single
  published standard for this family; the defaults (δ = 1 s, τ_r = 2 s, τ_d = 4 s, peak 3.77 s)
  are a plausible choice and should be fitted.
* :func:`glover_hrf` — Glover (1999) mixture of gammas
  :math:`h(t) = (t/d_1)^{a_1} e^{-(t-d_1)/b_1} - c\,(t/d_2)^{a_2} e^{-(t-d_2)/b_2}`,
  :math:`d_i = a_i b_i`, with a1 = 6, a2 = 12, b1 = b2 = 0.9 s, c = 0.35 (peak 5.4 s, FWHM
  5.2 s, undershoot centred at 10.8 s, as published).

References
----------
Boynton G.M., Engel S.A., Glover G.H., Heeger D.J. (1996) Linear systems analysis of functional
magnetic resonance imaging in human V1. J. Neurosci. 16, 4207–4221.
Friston K.J., Mechelli A., Turner R., Price C.J. (2000) Nonlinear responses in fMRI: the Balloon
model, Volterra kernels, and other hemodynamics. NeuroImage 12, 466–477.
Glover G.H. (1999) Deconvolution of impulse response in event-related BOLD fMRI. NeuroImage 9,
416–429.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..units import is_quantity, magnitude, time_ms
from .bold import _coefficients, _tr_steps, balloon_jacobian, hemodynamic_params

__all__ = ["volterra_kernel", "gamma_hrf", "double_exponential_hrf", "glover_hrf", "hrf_kernel",
           "fft_convolve", "hrf_bold", "HRF_KERNELS"]

Array = Any


def _t_seconds(t_s):
    if is_quantity(t_s):
        return jnp.asarray(t_s.to_decimal(u.second), dtype=float)
    return jnp.asarray(t_s, dtype=float)


def gamma_hrf(t_s, n: int = 3, tau: float = 1.08, delay: float = 2.05) -> Array:
    """Boynton et al. (1996) gamma HRF (unit area); ``t_s``, ``tau``, ``delay`` in seconds."""
    t = _t_seconds(t_s) - delay
    tp = jnp.maximum(t, 0.0)
    h = (tp / tau) ** (n - 1) * jnp.exp(-tp / tau) / (tau * math.factorial(n - 1))
    return jnp.where(t > 0, h, 0.0)


def double_exponential_hrf(t_s, tau_rise: float = 2.0, tau_decay: float = 4.0,
                           delay: float = 1.0) -> Array:
    """Difference-of-exponentials rise–decay kernel (unit area); times in seconds."""
    if tau_rise == tau_decay:
        raise ValueError("tau_rise and tau_decay must differ (for equal values use gamma_hrf "
                         "with n=2).")
    t = _t_seconds(t_s) - delay
    tp = jnp.maximum(t, 0.0)
    h = (jnp.exp(-tp / tau_decay) - jnp.exp(-tp / tau_rise)) / (tau_decay - tau_rise)
    return jnp.where(t > 0, h, 0.0)


def glover_hrf(t_s, a1: float = 6.0, a2: float = 12.0, b1: float = 0.9, b2: float = 0.9,
               c: float = 0.35) -> Array:
    """Glover (1999) mixture-of-gammas canonical HRF (peak-normalised terms); times in seconds."""
    t = jnp.maximum(_t_seconds(t_s), 0.0)
    d1, d2 = a1 * b1, a2 * b2
    h = (t / d1) ** a1 * jnp.exp(-(t - d1) / b1) - c * (t / d2) ** a2 * jnp.exp(-(t - d2) / b2)
    return jnp.where(_t_seconds(t_s) > 0, h, 0.0)


def volterra_kernel(t_s, coefficients="classic", scale: float = 1.0, coefficient_kwargs=None,
                    **hemo) -> Array:
    r"""First-order Volterra kernel of the Balloon–Windkessel model at times ``t_s`` (seconds).

    :math:`h(t) = \varepsilon\, c^\top \exp(A t)\, b` with ``(A, b, c)`` from
    :func:`~neuralmass.forward.bold.balloon_jacobian`; units: BOLD fraction per (unit activity ·
    second). Computed exactly with the matrix exponential (differentiable in the parameters).
    """
    params = hemodynamic_params(**hemo)
    coeffs = _coefficients(coefficients, params["rho"], coefficient_kwargs)
    A, b, c = balloon_jacobian(params, coeffs)
    t = _t_seconds(t_s)
    flat = t.reshape(-1)
    h = jax.vmap(lambda ti: c @ jax.scipy.linalg.expm(A * ti) @ b)(flat)
    return scale * jnp.where(flat >= 0, h, 0.0).reshape(t.shape)


def _volterra_sampled(n: int, dt_s: float, coefficients="classic", scale: float = 1.0,
                      coefficient_kwargs=None, **hemo) -> Array:
    """:func:`volterra_kernel` at ``t = k dt`` (k < n) by powers of ``exp(A dt)`` (exact, fast)."""
    params = hemodynamic_params(**hemo)
    coeffs = _coefficients(coefficients, params["rho"], coefficient_kwargs)
    A, b, c = balloon_jacobian(params, coeffs)
    step = jax.scipy.linalg.expm(A * dt_s)

    def body(x, _):
        return step @ x, c @ x

    return scale * jax.lax.scan(body, b, None, length=n)[1]


HRF_KERNELS: dict[str, Callable] = {
    "volterra": volterra_kernel,
    "gamma": gamma_hrf,
    "double_exponential": double_exponential_hrf,
    "glover": glover_hrf,
}


def hrf_kernel(kernel="glover", dt=1.0, length=32 * u.second, normalize="auto", **kwargs) -> Array:
    """Kernel sampled at ``t = 0, dt, 2 dt, ...`` up to ``length``.

    Parameters
    ----------
    kernel : str or callable
        One of :data:`HRF_KERNELS` or ``fn(t_s) -> h``.
    dt : time
        Sampling step (plain numbers in ms).
    length : time
        Kernel support (plain numbers in ms). Default 32 s.
    normalize : {'auto', 'area', 'peak', None}
        ``'area'``: scale so that ``dt * sum(h) = 1`` (unit steady-state gain, output in the unit
        of the input); ``'peak'``: max = 1; ``None``: as computed. ``'auto'`` = ``None`` for the
        Volterra kernel (physical BOLD units) and ``'area'`` for the shape kernels.
    **kwargs
        Passed to the kernel function.
    """
    dt_ms = time_ms(dt, "dt")
    n = int(np.ceil(time_ms(length, "length") / dt_ms))
    t_s = jnp.arange(n) * (dt_ms / 1000.0)
    if callable(kernel):
        fn, name = kernel, getattr(kernel, "__name__", "custom")
    else:
        if kernel not in HRF_KERNELS:
            raise ValueError(f"kernel={kernel!r} is not known; choose one of "
                             f"{', '.join(HRF_KERNELS)} or pass a function of time in seconds.")
        fn, name = HRF_KERNELS[kernel], kernel
    if fn is volterra_kernel:
        h = _volterra_sampled(n, dt_ms / 1000.0, **kwargs)
    else:
        h = jnp.asarray(fn(t_s, **kwargs), dtype=float)
    if normalize == "auto":
        normalize = None if name in ("volterra", "volterra_kernel") else "area"
    if normalize == "area":
        h = h / (jnp.sum(h) * dt_ms / 1000.0)
    elif normalize == "peak":
        h = h / jnp.max(jnp.abs(h))
    elif normalize is not None:
        raise ValueError(f"normalize={normalize!r} is not known; use 'area', 'peak' or None.")
    return h


def fft_convolve(x: Array, h: Array, axis: int = 0) -> Array:
    """Causal linear convolution of ``x`` with a 1-D kernel ``h`` along ``axis`` (FFT).

    Returns the first ``x.shape[axis]`` samples of the full convolution, i.e.
    ``y[n] = sum_k h[k] x[n - k]`` (equal to ``numpy.convolve(x, h)[:len(x)]``).
    """
    x = jnp.asarray(x)
    h = jnp.asarray(h)
    axis = axis % x.ndim
    n_x, n_h = x.shape[axis], h.shape[0]
    n_fft = 1 << int(np.ceil(np.log2(max(n_x + n_h - 1, 1))))
    X = jnp.fft.rfft(x, n=n_fft, axis=axis)
    H = jnp.fft.rfft(h, n=n_fft)
    H = H.reshape((-1,) + (1,) * (x.ndim - axis - 1))
    y = jnp.fft.irfft(X * H, n=n_fft, axis=axis)
    return jax.lax.slice_in_dim(y, 0, n_x, axis=axis)


def hrf_bold(signal, dt, kernel="glover", tr=None, length=32 * u.second, normalize="auto",
             axis=None, **kernel_kwargs) -> Array:
    r"""BOLD by HRF convolution, optionally sampled at TR.

    Parameters
    ----------
    signal : array or Quantity
        Neural activity: ``(T,)``, ``(T, N)`` or ``(B, T, N)`` (time axis 0 for 1-D/2-D input,
        1 for 3-D; override with ``axis``). A Quantity is used through its magnitude.
    dt : time
        Sampling step of ``signal`` (plain numbers in ms).
    kernel : str, callable or array
        A kernel name (:data:`HRF_KERNELS`), ``fn(t_s)``, or a kernel already sampled at ``dt``.
    tr : time, optional
        Repetition time; when given the output keeps the samples at ``t = TR, 2 TR, ...``
        (``tr`` must be a multiple of ``dt``; the first sample is ``t = dt``).
    length, normalize, **kernel_kwargs
        See :func:`hrf_kernel`.

    Returns
    -------
    array: :math:`y[n] = \Delta t \sum_k h[k] z[n-k]` (``Δt`` in seconds), along the time axis.
    """
    dt_ms = time_ms(dt, "dt")
    x = magnitude(signal)
    x = jnp.asarray(x, dtype=float)
    if axis is None:
        axis = 1 if x.ndim == 3 else 0
    if isinstance(kernel, (str,)) or callable(kernel):
        h = hrf_kernel(kernel, dt_ms, length=length, normalize=normalize, **kernel_kwargs)
    else:
        h = jnp.asarray(kernel, dtype=float)
        if h.ndim != 1:
            raise ValueError(f"kernel array must be 1-D (sampled at dt), got shape {h.shape}.")
    y = fft_convolve(x, h, axis=axis) * (dt_ms / 1000.0)
    if tr is not None:
        every = _tr_steps(tr, dt_ms)
        idx = jnp.arange(every - 1, y.shape[axis], every)
        y = jnp.take(y, idx, axis=axis)
    return y
