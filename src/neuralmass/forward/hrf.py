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
from typing import Any, Callable, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..typing import Array
from ..units import is_quantity, magnitude, time_ms, to_canonical
from .bold import _coefficients, _tr_steps, balloon_jacobian, hemodynamic_params

__all__ = ["volterra_kernel", "gamma_hrf", "double_exponential_hrf", "glover_hrf", "hrf_kernel",
           "fft_convolve", "hrf_bold", "HRF_KERNELS", "HRFKernel", "FirstOrderVolterraHRFKernel",
           "GammaHRFKernel", "DoubleExponentialHRFKernel", "MixtureOfGammasHRFKernel", "HRFBold",
           "window_mean"]



def _t_seconds(t_s):
    if is_quantity(t_s):
        return to_canonical(t_s, "t_s", u.second)
    return jnp.asarray(t_s, dtype=float)


def gamma_hrf(t_s: Array, n: float = 3, tau: float = 1.08, delay: float = 2.05) -> Array:
    r"""Boynton et al. (1996) gamma HRF (unit area); ``t_s``, ``tau``, ``delay`` in seconds.

    :math:`h(t) = \frac{((t-\delta)/\tau)^{n-1} e^{-(t-\delta)/\tau}}{\tau\,\Gamma(n)}` for
    :math:`t > \delta` (``n`` need not be an integer; :math:`\Gamma(n) = (n-1)!` when it is).
    """
    t = _t_seconds(t_s) - delay
    tp = jnp.maximum(t, 0.0)
    h = (tp / tau) ** (n - 1) * jnp.exp(-tp / tau - jax.scipy.special.gammaln(n)) / tau
    return jnp.where(t > 0, h, 0.0)


def double_exponential_hrf(t_s: Array, tau_rise: float = 2.0, tau_decay: float = 4.0,
                           delay: float = 1.0) -> Array:
    """Difference-of-exponentials rise–decay kernel (unit area); times in seconds."""
    if tau_rise == tau_decay:
        raise ValueError("tau_rise and tau_decay must differ (for equal values use gamma_hrf "
                         "with n=2).")
    t = _t_seconds(t_s) - delay
    tp = jnp.maximum(t, 0.0)
    h = (jnp.exp(-tp / tau_decay) - jnp.exp(-tp / tau_rise)) / (tau_decay - tau_rise)
    return jnp.where(t > 0, h, 0.0)


def glover_hrf(t_s: Array, a1: float = 6.0, a2: float = 12.0, b1: float = 0.9, b2: float = 0.9,
               c: float = 0.35) -> Array:
    """Glover (1999) mixture-of-gammas canonical HRF (peak-normalised terms); times in seconds."""
    t = jnp.maximum(_t_seconds(t_s), 0.0)
    d1, d2 = a1 * b1, a2 * b2
    h = (t / d1) ** a1 * jnp.exp(-(t - d1) / b1) - c * (t / d2) ** a2 * jnp.exp(-(t - d2) / b2)
    return jnp.where(_t_seconds(t_s) > 0, h, 0.0)


def volterra_kernel(t_s: Array, coefficients: str = "classic", scale: float = 1.0,
                    coefficient_kwargs: Mapping | None = None, **hemo: Array) -> Array:
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


def hrf_kernel(kernel: str | Callable = "glover", dt: Array = 1.0, length: Array = 32 * u.second,
               normalize: bool | str = "auto", **kwargs: Any) -> Array:
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


def hrf_bold(signal: Array, dt: Array, kernel: str | Callable | Array = "glover", tr: Array | None = None,
             length: Array = 32 * u.second, normalize: bool | str = "auto", axis: int | None = None,
             **kernel_kwargs: Any) -> Array:
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


# ------------------------------------------------------------------------------------------------
# Kernel objects and the convolution BOLD observation (brainmass's HRFKernel / HRFBold API)
# ------------------------------------------------------------------------------------------------
def _grid_seconds(t) -> Array:
    """A time grid in seconds: a Quantity in any time unit, or plain numbers in **ms** (the
    library-wide convention, and brainmass's)."""
    if is_quantity(t):
        return to_canonical(t, "t", u.second)
    return jnp.asarray(t, dtype=float) / 1000.0


def _real(value, name: str) -> float:
    """A scalar kernel parameter as a float (``brainstate.nn.Param`` values are read)."""
    from ..units import _unwrap_param

    v = _unwrap_param(value)
    try:
        return float(np.asarray(magnitude(v)))
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r} must be a real number.") from None


class HRFKernel:
    r"""Base class of the closed-form hemodynamic response kernels :math:`h(t)`.

    Subclasses define :meth:`shape`, the kernel as a function of time in seconds for
    :math:`t \ge 0`; calling a kernel evaluates it on a grid given as a Quantity (any time unit)
    or as plain numbers in **ms**, and is 0 for :math:`t < 0` (causal). The value does not depend
    on the grid it is evaluated on (peak normalisations are analytic or computed on the kernel's
    own support, never over the caller's grid).

    Parameters
    ----------
    duration : time, default 20 s
        Support of the kernel used by :class:`HRFBold` (plain numbers in ms).
    """

    def __init__(self, duration: Array = 20.0 * u.second) -> None:
        self.duration = duration
        self.duration_ms = time_ms(duration, "duration")
        if not self.duration_ms > 0:
            raise ValueError(f"duration={duration!r} must be a positive time, e.g. 20 * u.second.")

    def shape(self, t_s: Array) -> Array:
        """:math:`h(t)` for times ``t_s >= 0`` in seconds."""
        raise NotImplementedError(f"{type(self).__name__} must define shape(t_s).")

    def __call__(self, t) -> Array:
        t_s = _grid_seconds(t)
        return jnp.where(t_s >= 0, self.shape(jnp.maximum(t_s, 0.0)), 0.0)

    def sampled(self, dt) -> Array:
        r""":math:`h(k\,\Delta t)` for :math:`k = 0, \dots, \lceil \text{duration}/\Delta t\rceil - 1`."""
        dt_ms = time_ms(dt, "dt")
        n = int(np.ceil(self.duration_ms / dt_ms - 1e-9))
        return self(jnp.arange(n) * dt_ms)

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "duration_ms")
        return f"{type(self).__name__}({ps})"


class FirstOrderVolterraHRFKernel(HRFKernel):
    r"""TVB's first-order Volterra kernel: the impulse response of the linearised flow equations
    of the Balloon model (Friston et al. 2000).

    Linearising :math:`\dot s = z - s/\tau_s - (f-1)/\tau_f`, :math:`\dot f = s` about rest gives
    the damped oscillator :math:`\ddot f + \dot f/\tau_s + (f - 1)/\tau_f = z`, whose response to
    a unit impulse, scaled by :math:`\epsilon` (``scaling``), is

    .. math::

        h(t) = \epsilon\, e^{-t/(2\tau_s)}\, \frac{\sin(\omega t)}{\omega}, \qquad
        \omega^2 = \frac{1}{\tau_f} - \frac{1}{4\tau_s^2} ,

    with :math:`\sin(\omega t)/\omega` read as :math:`\sinh(\kappa t)/\kappa`,
    :math:`\kappa^2 = -\omega^2`, when the oscillator is overdamped (:math:`4\tau_s^2 < \tau_f`)
    and as :math:`t` at critical damping (brainmass 0.1.1 returns NaN there). Its integral is
    :math:`\int_0^\infty h\,dt = \epsilon\,\tau_f` (in s). Times in seconds.

    Parameters
    ----------
    tau_s : float, default 0.8
        Signal decay time constant (s).
    tau_f : float, default 0.4
        Autoregulatory feedback time constant (s).
    scaling : float, default 1/3
        Amplitude :math:`\epsilon` (TVB's 1/3).
    duration : time, default 20 s

    References
    ----------
    Friston K.J., Mechelli A., Turner R., Price C.J. (2000) Nonlinear responses in fMRI: the
    Balloon model, Volterra kernels, and other hemodynamics. NeuroImage 12, 466–477.
    Sanz-Leon P. et al. (2015) NeuroImage 111, 385–430 (TVB's ``FirstOrderVolterra`` equation).
    """

    def __init__(self, tau_s=0.8, tau_f=0.4, scaling=1.0 / 3.0, duration=20.0 * u.second):
        super().__init__(duration)
        self.tau_s, self.tau_f = _real(tau_s, "tau_s"), _real(tau_f, "tau_f")
        self.scaling = _real(scaling, "scaling")
        for name in ("tau_s", "tau_f"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be a positive time in seconds.")

    def shape(self, t_s):
        w2 = 1.0 / self.tau_f - 1.0 / (4.0 * self.tau_s ** 2)
        decay = self.scaling * jnp.exp(-0.5 * t_s / self.tau_s)
        if w2 > 0:
            w = math.sqrt(w2)
            return decay * jnp.sin(w * t_s) / w
        if w2 < 0:
            k = math.sqrt(-w2)
            return decay * jnp.sinh(k * t_s) / k
        return decay * t_s


class GammaHRFKernel(HRFKernel):
    r"""Gamma-density HRF (Boynton et al. 1996) scaled to peak value ``a`` (TVB's ``Gamma``).

    .. math::

        h(t) = a\, \frac{g(t)}{g(t^*)}, \qquad
        g(t) = \frac{(t/\tau)^{n-1} e^{-t/\tau}}{\tau\,\Gamma(n)}, \qquad t^* = (n-1)\,\tau ,

    so :math:`h` peaks at :math:`t^* = (n-1)\tau` (2.16 s for the defaults) with value ``a``.
    :math:`g` is :func:`gamma_hrf` without delay. Times in seconds; ``n >= 1``.

    Parameters
    ----------
    tau : float, default 1.08
        Time constant (s).
    n : float, default 3
        Shape (phase delay) parameter.
    a : float, default 0.1
        Peak value.
    duration : time, default 20 s

    References
    ----------
    Boynton G.M., Engel S.A., Glover G.H., Heeger D.J. (1996) Linear systems analysis of
    functional magnetic resonance imaging in human V1. J. Neurosci. 16, 4207–4221.
    """

    def __init__(self, tau=1.08, n=3.0, a=0.1, duration=20.0 * u.second):
        super().__init__(duration)
        self.tau, self.n, self.a = _real(tau, "tau"), _real(n, "n"), _real(a, "a")
        if not self.tau > 0:
            raise ValueError(f"tau={tau!r} must be a positive time in seconds.")
        if not self.n >= 1:
            raise ValueError(f"n={n!r} must be >= 1 (for n < 1 the gamma density has no finite "
                             f"peak to normalise by).")

    @property
    def peak_time(self) -> float:
        """Time of the peak, :math:`(n-1)\\tau`, in seconds."""
        return (self.n - 1.0) * self.tau

    def shape(self, t_s):
        g = gamma_hrf(t_s, n=self.n, tau=self.tau, delay=0.0)
        if self.n == 1.0:      # exponential density: the peak is its value at t = 0+
            return self.a * jnp.exp(-t_s / self.tau)
        return self.a * g / gamma_hrf(self.peak_time, n=self.n, tau=self.tau, delay=0.0)


class DoubleExponentialHRFKernel(HRFKernel):
    r"""Difference of two damped sinusoids (Polonsky et al. 2000; TVB's ``DoubleExponential``),
    scaled to peak value ``a``:

    .. math::

        h(t) = a\, \frac{q(t)}{\max_{0 \le s \le D} q(s)}, \qquad
        q(t) = A_1 e^{-t/\tau_1}\sin(2\pi f_1 t) - A_2 e^{-t/\tau_2}\sin(2\pi f_2 t),

    times in seconds, frequencies in Hz. The maximum is taken over the kernel's support
    :math:`[0, D]` (``duration``) on a fine grid refined by a parabola through the largest sample —
    not over the grid the kernel is evaluated on, so values do not depend on that grid (brainmass
    0.1.1 divides by the maximum over the caller's grid). With the defaults :math:`q` first dips
    below zero (the fast term dominates) and peaks at 7.2 s.

    Parameters
    ----------
    tau_1, tau_2 : float, default 7.22, 7.4
        Decay times (s).
    f_1, f_2 : float, default 0.03, 0.12
        Frequencies (Hz).
    amp_1, amp_2 : float, default 0.1, 0.1
        Amplitudes :math:`A_1, A_2`.
    a : float, default 0.1
        Peak value.
    duration : time, default 40 s

    References
    ----------
    Polonsky A., Blake R., Braun J., Heeger D.J. (2000) Neuronal activity in human primary visual
    cortex correlates with perception during binocular rivalry. Nat. Neurosci. 3, 1153–1159.
    """

    def __init__(self, tau_1=7.22, tau_2=7.4, f_1=0.03, f_2=0.12, amp_1=0.1, amp_2=0.1, a=0.1,
                 duration=40.0 * u.second):
        super().__init__(duration)
        for name, v in (("tau_1", tau_1), ("tau_2", tau_2), ("f_1", f_1), ("f_2", f_2),
                        ("amp_1", amp_1), ("amp_2", amp_2), ("a", a)):
            setattr(self, name, _real(v, name))
        if not (self.tau_1 > 0 and self.tau_2 > 0):
            raise ValueError(f"tau_1={tau_1!r}, tau_2={tau_2!r} must be positive times in seconds.")
        self.peak_time, self._q_peak = self._peak()
        if not self._q_peak > 0:
            raise ValueError(
                f"{type(self).__name__}: q(t) has no positive peak on [0, {self.duration_ms / 1e3} s] "
                f"with these parameters; lengthen duration or change amp_1/amp_2.")

    def _q(self, t_s):
        return (self.amp_1 * np.exp(-t_s / self.tau_1) * np.sin(2 * np.pi * self.f_1 * t_s)
                - self.amp_2 * np.exp(-t_s / self.tau_2) * np.sin(2 * np.pi * self.f_2 * t_s))

    def _peak(self):
        t = np.linspace(0.0, self.duration_ms / 1000.0, 40001)
        q = self._q(t)
        i = int(np.argmax(q))
        if 0 < i < len(t) - 1:               # vertex of the parabola through the 3 largest points
            h = t[1] - t[0]
            den = q[i - 1] - 2 * q[i] + q[i + 1]
            if den < 0:
                tp = t[i] + 0.5 * h * (q[i - 1] - q[i + 1]) / den
                return float(tp), float(self._q(tp))
        return float(t[i]), float(q[i])

    def shape(self, t_s):
        q = (self.amp_1 * jnp.exp(-t_s / self.tau_1) * jnp.sin(2 * jnp.pi * self.f_1 * t_s)
             - self.amp_2 * jnp.exp(-t_s / self.tau_2) * jnp.sin(2 * jnp.pi * self.f_2 * t_s))
        return self.a * q / self._q_peak


class MixtureOfGammasHRFKernel(HRFKernel):
    r"""Difference of two gamma shapes with a common rate (TVB's ``MixtureOfGammas``; the form of
    the SPM canonical HRF, after Glover 1999):

    .. math::

        h(t) = \frac{(\lambda t)^{a_1-1} e^{-\lambda t}}{\Gamma(a_1)}
             - c\, \frac{(\lambda t)^{a_2-1} e^{-\lambda t}}{\Gamma(a_2)}
             = \frac{1}{\lambda}\big[g_{a_1}(t) - c\, g_{a_2}(t)\big],

    with :math:`g_n` the gamma density of shape :math:`n` and time constant :math:`1/\lambda`
    (:func:`gamma_hrf`). Times in seconds, :math:`\lambda` in 1/s. The positive lobe peaks near
    :math:`(a_1-1)/\lambda` (5 s for the defaults) and :math:`\int_0^\infty h\,dt = (1-c)/\lambda`.

    Parameters
    ----------
    a_1, a_2 : float, default 6, 13
        Shapes of the response and of the undershoot.
    l : float, default 1
        Rate :math:`\lambda` (1/s).
    c : float, default 0.4
        Relative size of the undershoot.
    duration : time, default 20 s

    References
    ----------
    Glover G.H. (1999) Deconvolution of impulse response in event-related BOLD fMRI. NeuroImage 9,
    416–429.
    """

    def __init__(self, a_1=6.0, a_2=13.0, l=1.0, c=0.4, duration=20.0 * u.second):  # noqa: E741
        super().__init__(duration)
        self.a_1, self.a_2 = _real(a_1, "a_1"), _real(a_2, "a_2")
        self.l, self.c = _real(l, "l"), _real(c, "c")
        if not self.l > 0:
            raise ValueError(f"l={l!r} must be a positive rate in 1/s.")

    def shape(self, t_s):
        tau = 1.0 / self.l
        return (gamma_hrf(t_s, n=self.a_1, tau=tau, delay=0.0)
                - self.c * gamma_hrf(t_s, n=self.a_2, tau=tau, delay=0.0)) / self.l


def _steps(period, dt, pname: str, dname: str) -> int:
    """``period / dt`` as a whole number of steps (an error naming both if it is not)."""
    ratio = time_ms(period, pname) / time_ms(dt, dname)
    k = int(round(ratio))
    if k < 1 or abs(ratio - k) > 1e-6 * max(1.0, ratio):
        raise ValueError(f"{pname}={period!r} must be a whole multiple (>= 1) of {dname}={dt!r}; "
                         f"it is {ratio:g} times it. Choose {pname} = k * {dname}.")
    return k


def window_mean(x: Array, w: int, axis: int = 0) -> Array:
    """Means over consecutive non-overlapping windows of ``w`` samples along ``axis`` (trailing
    samples that do not fill a window are dropped)."""
    x = jnp.moveaxis(jnp.asarray(x), axis, 0)
    n = x.shape[0] // w
    out = x[: n * w].reshape((n, w) + x.shape[1:]).mean(axis=1)
    return jnp.moveaxis(out, 0, axis)


class HRFBold:
    r"""BOLD signal by convolution of neural activity with an :class:`HRFKernel` (brainmass API).

    1. Average the activity over windows of ``downsample_period`` (:func:`window_mean`);
       :math:`z_m` is the mean over :math:`[m\Delta, (m+1)\Delta)`.
    2. Prepend ``history`` (zeros by default; as many rows as the sampled kernel) and convolve
       with the kernel sampled at :math:`t_k = k\Delta` (:meth:`HRFKernel.sampled`) — the
       Riemann sum of the convolution integral, with :math:`\Delta` in seconds:

       .. math:: c_j = \Delta \sum_{k} h(k\Delta)\, z_{j-1-k}
                 \approx \int_0^\infty h(\sigma)\, z(j\Delta - \sigma)\, d\sigma .

       ``convolution_mode`` ``'valid'`` (default) keeps :math:`j = 0 \dots T_\Delta`, which is causal;
       ``'same'`` and ``'full'`` are the numpy modes of the same sum over the padded series.
    3. :math:`\mathrm{BOLD} = k_1 V_0 (c - 1)` (TVB's ``Bold`` monitor: the ``-1`` is its baseline).
    4. Keep every ``period``-th sample: :math:`t = T_R, 2T_R, \dots`.

    Differences from brainmass 0.1.1 (docs/brainmass.md): brainmass sums without the factor
    :math:`\Delta`, so its values scale with ``1/downsample_period`` (×250 at 4 ms), and samples
    the kernel at ``linspace(0, duration, n)`` (spacing ``duration/(n-1)``, not :math:`\Delta`);
    ``downsample_period`` and ``period`` must be whole multiples of ``dt`` and of
    ``downsample_period`` here (brainmass rounds).

    Parameters
    ----------
    k_1 : float, default 5.6
        BOLD scaling factor.
    V_0 : float, default 0.02
        Resting venous blood volume fraction.
    period : time, default 1000 ms
        Repetition time :math:`T_R` of the output.
    downsample_period : time, default 4 ms
        Step :math:`\Delta` of the convolution grid.
    kernel : HRFKernel, default :class:`FirstOrderVolterraHRFKernel`
    convolution_mode : {'valid', 'same', 'full'}
    method : {'fft', 'direct'}
        FFT (:func:`fft_convolve`) or direct sum (``jnp.convolve``); equal up to rounding.
    history : array, optional
        Activity before the start on the ``downsample_period`` grid, shape ``(K, *regions)``.
    """

    def __init__(self, k_1: float = 5.6, V_0: float = 0.02, period: Array = 1000.0 * u.ms,
                 downsample_period: Array = 4.0 * u.ms, kernel: HRFKernel | None = None,
                 convolution_mode: str = "valid", method: str = "fft", history: Array | None = None) -> None:
        if convolution_mode not in ("valid", "same", "full"):
            raise ValueError(f"convolution_mode={convolution_mode!r} must be 'valid', 'same' or 'full'.")
        if method not in ("fft", "direct"):
            raise ValueError(f"method={method!r} must be 'fft' or 'direct'.")
        kernel = FirstOrderVolterraHRFKernel() if kernel is None else kernel
        if not isinstance(kernel, HRFKernel):
            raise TypeError(f"kernel={kernel!r} must be an HRFKernel, e.g. "
                            f"neuralmass.GammaHRFKernel().")
        self.k_1, self.V_0 = _real(k_1, "k_1"), _real(V_0, "V_0")
        self.period, self.downsample_period = period, downsample_period
        self._every = _steps(period, downsample_period, "period", "downsample_period")
        self.kernel, self.convolution_mode, self.method = kernel, convolution_mode, method
        self.history = history

    def __call__(self, signal, dt) -> Array:
        """BOLD of ``signal`` (time on axis 0, shape ``(T, *regions)``; a Quantity is used through
        its magnitude) sampled with step ``dt``; returns ``(n_TR, *regions)``."""
        w = _steps(self.downsample_period, dt, "downsample_period", "dt")
        z = window_mean(jnp.asarray(magnitude(signal), dtype=float), w)
        rest = z.shape[1:]
        h = self.kernel.sampled(self.downsample_period)
        K = h.shape[0]
        if self.history is None:
            pad = jnp.zeros((K,) + rest, dtype=z.dtype)
        else:
            pad = jnp.asarray(magnitude(self.history), dtype=z.dtype)
            if pad.shape[1:] != rest:
                raise ValueError(f"history has shape {pad.shape}; its trailing shape must be the "
                                 f"signal's {rest}.")
        zs = jnp.concatenate([pad, z], axis=0).reshape(pad.shape[0] + z.shape[0], -1)
        L = zs.shape[0]
        if self.method == "fft":
            full = fft_convolve(jnp.concatenate([zs, jnp.zeros((K - 1, zs.shape[1]))], axis=0), h)
        else:
            full = jax.vmap(lambda col: jnp.convolve(col, h, mode="full"), 1, 1)(zs)
        start, n = {"valid": (K - 1, L - K + 1), "same": ((K - 1) // 2, L), "full": (0, L + K - 1)}[
            self.convolution_mode]
        c = full[start:start + n] * (time_ms(self.downsample_period, "downsample_period") / 1000.0)
        bold = self.k_1 * self.V_0 * (c - 1.0)
        bold = bold[self._every::self._every]
        return bold.reshape((bold.shape[0],) + rest)
