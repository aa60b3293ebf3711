r"""BOLD signal from neural activity: the Balloon–Windkessel hemodynamic model.

Equations
---------
With :math:`z(t)` the neural activity of a region and :math:`\varepsilon` the neurovascular
coupling ``scale`` (neural activity → vasodilatory drive), the hemodynamic state
(:math:`s` vasodilatory signal, :math:`f` normalised inflow, :math:`v` normalised venous volume,
:math:`q` normalised deoxyhemoglobin content) obeys, with **time in seconds**
(Friston et al. 2000; Buxton et al. 1998)

.. math::

    \dot s &= \varepsilon\,(z - z_0) - \kappa s - \gamma (f - 1) \\
    \dot f &= s \\
    \tau \dot v &= f - v^{1/\alpha} \\
    \tau \dot q &= f\,\frac{E(f, \rho)}{\rho} - v^{1/\alpha}\,\frac{q}{v},
    \qquad E(f, \rho) = 1 - (1 - \rho)^{1/f}

and the BOLD signal (fractional signal change :math:`\Delta S / S_0`, dimensionless) is

.. math::

    y = V_0 \left[ k_1 (1 - q) + k_2 \left(1 - \frac{q}{v}\right) + k_3 (1 - v) \right].

The resting state :math:`s = 0,\ f = v = q = 1` is a fixed point and maps to :math:`y = 0`
*exactly*: the intravascular term is :math:`1 - q/v` (deoxyhemoglobin concentration), not
:math:`1 - q/\rho`.

Coefficient sets (``coefficients=``)
------------------------------------
``'classic'`` (Friston et al. 2000, after Buxton et al. 1998; field strength 1.5 T):
    :math:`k_1 = 7\rho,\ k_2 = 2,\ k_3 = 2\rho - 0.2,\ V_0 = 0.02`, with :math:`\rho = 0.34`
    (:math:`k_1 = 2.38,\ k_2 = 2,\ k_3 = 0.48`).
``'revised'`` (Obata et al. 2004; Stephan et al. 2007):
    :math:`k_1 = 4.3\,\vartheta_0\,\rho\,T_E,\ k_2 = \epsilon\, r_0\, \rho\, T_E,\
    k_3 = 1 - \epsilon`, :math:`V_0 = 0.04`, where :math:`\vartheta_0` is the frequency offset
    at the outer surface of a magnetised vessel (40.3 s⁻¹ at 1.5 T, scaled linearly with the
    field strength :math:`B_0`), :math:`r_0` the slope of the intravascular relaxation rate
    versus extraction fraction (25 s⁻¹ at 1.5 T; 110 s⁻¹ at 3 T, Uludağ et al. 2009),
    :math:`\epsilon` the ratio of intra- to extravascular signal (1.43 at 1.5 T, Obata et al.
    2004; 0.47 is used at 3 T, e.g. Havlicek et al. 2015 — it depends on the sequence and is
    usually fitted) and :math:`T_E` the echo time (40 ms at 1.5 T, 30 ms at 3 T by default).

Hemodynamic parameters (Friston et al. 2000, table 1)
-----------------------------------------------------
=========  =========  ========  ====================================================
name       default    unit      meaning
=========  =========  ========  ====================================================
kappa      0.65       1/s       rate of signal decay (κ)
gamma      0.41       1/s       rate of flow-dependent elimination (γ; autoregulation,
                                strictly s⁻² since f is dimensionless, quoted as s⁻¹)
tau        0.98       s         hemodynamic transit time (τ)
alpha      0.32       1         Grubb's exponent (α)
rho        0.34       1         resting oxygen extraction fraction (ρ = E0)
=========  =========  ========  ====================================================

Numerics
--------
The integrated state is ``s`` and the logarithms ``log_f, log_v, log_q`` (Stephan et al.
2007): ``f, v, q`` stay positive for any input, and because the right-hand sides are written
with ``expm1`` terms that vanish exactly at rest, responses of 1e-6 are resolved in float32
(stepping ``q`` itself near 1 in float32 silently drops increments below 6e-8 per step).
:func:`to_physical` / :func:`from_physical` convert. :func:`balloon_step` advances the state with
Heun's method (explicit trapezoidal rule; ``method='euler'`` for forward Euler).

Measured responses (documented in ``docs/forward.md``, checked in ``tests/test_bold.py``):
for a 100 ms burst of unit activity with ``scale=1`` the BOLD peak comes 3.11 s after burst
onset with the classic coefficients (0.35 %) and 3.12 s with the revised ones (0.46 %); the time
course of ``v, q`` does not depend on the coefficients, the readout changes amplitude and
undershoot depth. The post-stimulus undershoot has its minimum ≈ 9.1 s after onset.

References
----------
Buxton R.B., Wong E.C., Frank L.R. (1998) Dynamics of blood flow and oxygenation changes during
brain activation: the balloon model. Magn. Reson. Med. 39, 855–864.
Friston K.J., Mechelli A., Turner R., Price C.J. (2000) Nonlinear responses in fMRI: the Balloon
model, Volterra kernels, and other hemodynamics. NeuroImage 12, 466–477.
Obata T. et al. (2004) Discrepancies between BOLD and flow dynamics in primary and supplementary
motor areas: application of the balloon model to the interpretation of BOLD transients.
NeuroImage 21, 144–153.
Stephan K.E., Weiskopf N., Drysdale P.M., Robinson P.A., Friston K.J. (2007) Comparing
hemodynamic models with DCM. NeuroImage 38, 387–401.
Uludağ K., Müller-Bierl B., Uğurbil K. (2009) An integrative model for neuronal
activity-induced signal changes for gradient and spin echo functional imaging. NeuroImage 48,
150–165.
Havlicek M. et al. (2015) Physiologically informed dynamic causal modeling of fMRI data.
NeuroImage 122, 355–372.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import get_integrator
from ..models.base import Parameter
from ..monitors import Monitor
from ..typing import Array
from ..units import UnitMismatchError, is_quantity, time_ms, to_canonical, to_numpy

__all__ = [
    "HEMODYNAMIC_PARAMETERS", "hemodynamic_params", "bold_coefficients", "balloon_resting_state",
    "balloon_drift", "balloon_step", "to_physical", "from_physical", "bold_signal", "balloon_steady_state", "balloon_jacobian",
    "simulate_bold", "BOLDMonitor", "BOLDSignal",
]

_STATE_KEYS = ("s", "log_f", "log_v", "log_q")

HEMODYNAMIC_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("kappa", 0.65, u.second ** -1, None, (0.3, 1.3),
              "rate of signal decay κ (Friston et al. 2000)"),
    Parameter("gamma", 0.41, u.second ** -1, None, (0.2, 0.8),
              "rate of flow-dependent elimination γ (autoregulation; Friston et al. 2000)"),
    Parameter("tau", 0.98, u.second, None, (0.5, 3.0),
              "hemodynamic transit time τ (Friston et al. 2000)"),
    Parameter("alpha", 0.32, None, None, (0.2, 0.5),
              "Grubb's exponent α (Grubb et al. 1974; Friston et al. 2000)"),
    Parameter("rho", 0.34, None, None, (0.2, 0.8),
              "resting oxygen extraction fraction ρ = E0 (Friston et al. 2000)"),
)
_HEMO = {p.name: p for p in HEMODYNAMIC_PARAMETERS}


def hemodynamic_params(**overrides) -> dict[str, Array]:
    """Hemodynamic parameters as plain arrays, time in seconds.

    Parameters
    ----------
    **overrides
        ``kappa``, ``gamma`` (1/s; Quantities in Hz or 1/ms are converted), ``tau`` (s; a time
        Quantity in any unit), ``alpha``, ``rho`` (dimensionless). Plain numbers are read in the
        units of :data:`HEMODYNAMIC_PARAMETERS`.
    """
    out = {}
    for name, p in _HEMO.items():
        value = overrides.pop(name, p.default)
        out[name] = jnp.asarray(p.to_canonical(value), dtype=float)
    if overrides:
        raise TypeError(
            f"unknown hemodynamic parameter(s) {sorted(overrides)}; known: {', '.join(_HEMO)}")
    return out


def _seconds(value, name):
    return time_ms(value, name) / 1000.0


def _tesla(value, name):
    if is_quantity(value):
        return float(to_numpy(value, name, u.tesla, hint=f"pass e.g. {name}=3 * u.tesla or a plain number "
                                                         f"in tesla"))
    return float(value)


def _rate_per_s(value, name):
    return float(to_canonical(value, name, u.second ** -1))


#: The coefficient sets :func:`bold_coefficients` knows.
BOLD_COEFFICIENT_SETS = ("classic", "revised")


def bold_coefficients(kind: str = "classic", rho=0.34, *, B0=None, TE=None, epsilon=None,
                      r0=None, theta0=None, V0=None) -> dict[str, Array]:
    r"""Coefficients :math:`k_1, k_2, k_3, V_0` of the BOLD readout.

    Parameters
    ----------
    kind : {'classic', 'revised'}
        ``'classic'``: :math:`k_1 = 7\rho,\ k_2 = 2,\ k_3 = 2\rho - 0.2`, :math:`V_0 = 0.02`
        (Friston et al. 2000; Buxton et al. 1998). ``'revised'``: :math:`k_1 = 4.3\vartheta_0
        \rho T_E,\ k_2 = \epsilon r_0 \rho T_E,\ k_3 = 1 - \epsilon`, :math:`V_0 = 0.04`
        (Obata et al. 2004; Stephan et al. 2007).
    rho : float
        Resting oxygen extraction fraction (use the same value as the hemodynamic ``rho``).
    B0 : float or Quantity, optional
        Field strength (tesla), revised set only. Default 1.5 T.
    TE : time, optional
        Echo time (plain numbers in ms). Default 40 ms at 1.5 T, 30 ms otherwise.
    epsilon : float, optional
        Intra-/extravascular signal ratio. Default 1.43 at 1.5 T (Obata et al. 2004), 0.47 at
        3 T (Havlicek et al. 2015); required for other field strengths.
    r0 : rate, optional
        Intravascular relaxation slope (plain numbers in 1/s). Default 25 s⁻¹ at 1.5 T, 110 s⁻¹
        at 3 T (Uludağ et al. 2009); required for other field strengths.
    theta0 : rate, optional
        Frequency offset (1/s). Default :math:`40.3\,\mathrm{s^{-1}} \cdot B_0 / 1.5\,T`
        (an alternative calibration in the literature is :math:`28.265\,B_0`).
    V0 : float, optional
        Resting venous blood volume fraction (default 0.02 classic, 0.04 revised).

    Returns
    -------
    dict with ``k1, k2, k3, V0`` (plain arrays).
    """
    rho = jnp.asarray(rho, dtype=float)
    if kind == "classic":
        for arg, val in (("B0", B0), ("TE", TE), ("epsilon", epsilon), ("r0", r0),
                         ("theta0", theta0)):
            if val is not None:
                raise ValueError(f"{arg}={val!r} only applies to coefficients='revised'; the "
                                 f"classic set has fixed k1 = 7ρ, k2 = 2, k3 = 2ρ − 0.2.")
        return {"k1": 7.0 * rho, "k2": jnp.asarray(2.0), "k3": 2.0 * rho - 0.2,
                "V0": jnp.asarray(0.02 if V0 is None else float(V0))}
    if kind != "revised":
        raise ValueError(f"coefficients={kind!r} is not known; use one of {', '.join(BOLD_COEFFICIENT_SETS)}.")
    b0 = 1.5 if B0 is None else _tesla(B0, "B0")
    if b0 <= 0:
        raise ValueError(f"B0={B0!r} must be positive (tesla).")
    known = {1.5: (25.0, 1.43, 0.040), 3.0: (110.0, 0.47, 0.030)}
    r0_d, eps_d, te_d = known.get(round(b0, 3), (None, None, 0.030))
    if (r0 is None and r0_d is None) or (epsilon is None and eps_d is None):
        raise ValueError(
            f"B0={b0} T has no tabulated r0/epsilon; pass r0= (1/s) and epsilon= explicitly "
            f"(defaults exist for 1.5 T and 3 T).")
    r0_v = r0_d if r0 is None else _rate_per_s(r0, "r0")
    eps_v = eps_d if epsilon is None else float(epsilon)
    te_v = te_d if TE is None else _seconds(TE, "TE")
    th_v = 40.3 * b0 / 1.5 if theta0 is None else _rate_per_s(theta0, "theta0")
    return {"k1": 4.3 * th_v * rho * te_v, "k2": eps_v * r0_v * rho * te_v,
            "k3": jnp.asarray(1.0 - eps_v), "V0": jnp.asarray(0.04 if V0 is None else float(V0))}


def _coefficients(coefficients, rho, coeff_kwargs=None):
    if isinstance(coefficients, Mapping):
        missing = {"k1", "k2", "k3", "V0"} - set(coefficients)
        if missing:
            raise ValueError(f"coefficients dict lacks {sorted(missing)}; give k1, k2, k3, V0.")
        return {k: jnp.asarray(coefficients[k], dtype=float) for k in ("k1", "k2", "k3", "V0")}
    return bold_coefficients(coefficients, rho, **(coeff_kwargs or {}))


def balloon_resting_state(shape=(), dtype=float) -> dict[str, Array]:
    """The resting state ``s = 0, f = v = q = 1`` in the integrated (log) variables (all zeros)."""
    z = jnp.zeros(shape, dtype)
    return {"s": z, "log_f": z, "log_v": z, "log_q": z}


def to_physical(state: Mapping[str, Array]) -> dict[str, Array]:
    """``{s, log_f, log_v, log_q}`` → ``{s, f, v, q}``."""
    return {"s": state["s"], "f": jnp.exp(state["log_f"]), "v": jnp.exp(state["log_v"]),
            "q": jnp.exp(state["log_q"])}


def from_physical(state: Mapping[str, Array]) -> dict[str, Array]:
    """``{s, f, v, q}`` → ``{s, log_f, log_v, log_q}``."""
    return {"s": jnp.asarray(state["s"], dtype=float), "log_f": jnp.log(state["f"]),
            "log_v": jnp.log(state["v"]), "log_q": jnp.log(state["q"])}


def balloon_drift(state: Mapping[str, Array], params: Mapping[str, Array], z: Array) -> dict:
    r"""Time derivatives (per **second**) of the Balloon–Windkessel state in log variables.

    The state is ``s`` and :math:`\tilde f = \ln f,\ \tilde v = \ln v,\ \tilde q = \ln q`
    (Stephan et al. 2007). Dividing the physical equations by :math:`f, v, q`:

    .. math::

        \dot s &= z - \kappa s - \gamma (e^{\tilde f} - 1) \\
        \dot{\tilde f} &= s\, e^{-\tilde f} \\
        \tau \dot{\tilde v} &= e^{\tilde f - \tilde v} - e^{(1/\alpha - 1)\tilde v} \\
        \tau \dot{\tilde q} &= e^{\tilde f - \tilde q}\, \frac{E(f, \rho)}{\rho}
            - e^{(1/\alpha - 1)\tilde v}

    Each right-hand side is evaluated as a sum of ``expm1`` terms that vanish *exactly* at rest
    (using :math:`E/\rho - 1 = -\frac{1-\rho}{\rho}\,
    \mathrm{expm1}(\ln(1-\rho)\,\mathrm{expm1}(-\tilde f))`), so that small responses are
    resolved in float32 and the log variables keep ``f, v, q`` positive for any input.

    Parameters
    ----------
    state : dict
        ``s, log_f, log_v, log_q`` (plain arrays).
    params : dict
        ``kappa, gamma, tau, alpha, rho`` in seconds-based units (see :func:`hemodynamic_params`).
    z : array
        Vasodilatory drive :math:`\varepsilon (z - z_0)` (already scaled).
    """
    s, lf, lv, lq = state["s"], state["log_f"], state["log_v"], state["log_q"]
    kappa, gamma, tau, alpha, rho = (params[k] for k in ("kappa", "gamma", "tau", "alpha", "rho"))
    out_m1 = jnp.expm1((1.0 / alpha - 1.0) * lv)          # v^(1/alpha) / v - 1
    e_m1 = -(1.0 - rho) / rho * jnp.expm1(jnp.log1p(-rho) * jnp.expm1(-lf))   # E(f)/rho - 1
    return {
        "s": z - kappa * s - gamma * jnp.expm1(lf),
        "log_f": s * jnp.exp(-lf),
        "log_v": (jnp.expm1(lf - lv) - out_m1) / tau,
        "log_q": (jnp.expm1(lf - lq) * (1.0 + e_m1) + e_m1 - out_m1) / tau,
    }


def balloon_step(state, params, z, h, method: str = "heun") -> dict:
    """Advance the (log) hemodynamic state by ``h`` **seconds** with constant drive ``z``.

    Uses the library's integrators (:mod:`neuralmass.integrators`): ``method='heun'`` (default;
    second order), ``'euler'`` or ``'rk4'``.
    """
    return get_integrator(method)(_balloon_f, state, params, {"z": z}, h)


def _balloon_f(state, params, inputs):
    return balloon_drift(state, params, inputs["z"])


def bold_signal(v: Array, q: Array, coeffs: Mapping[str, Array], log: bool = False) -> Array:
    r"""BOLD fractional signal change
    :math:`V_0 [k_1 (1 - q) + k_2 (1 - q/v) + k_3 (1 - v)]` (zero at rest).

    With ``log=True`` the arguments are :math:`\ln v, \ln q` and the expression is evaluated
    with ``expm1`` (no cancellation near rest).
    """
    if log:
        lv, lq = v, q
        return -coeffs["V0"] * (coeffs["k1"] * jnp.expm1(lq) + coeffs["k2"] * jnp.expm1(lq - lv)
                                + coeffs["k3"] * jnp.expm1(lv))
    return coeffs["V0"] * (coeffs["k1"] * (1.0 - q) + coeffs["k2"] * (1.0 - q / v)
                           + coeffs["k3"] * (1.0 - v))


def balloon_steady_state(z: Array, params: Mapping[str, Array]) -> dict:
    r"""Analytic fixed point for a constant drive :math:`z` (already scaled).

    Setting all derivatives to zero: :math:`\dot f = s = 0`; then :math:`\dot s = 0` gives
    :math:`f_\infty = 1 + z/\gamma`; :math:`\dot v = 0` gives :math:`v_\infty = f_\infty^\alpha`;
    :math:`\dot q = 0` gives :math:`f E(f)/\rho = f q / v`, i.e.
    :math:`q_\infty = v_\infty E(f_\infty, \rho) / \rho`.
    """
    z = jnp.asarray(z, dtype=float)
    f = 1.0 + z / params["gamma"]
    v = f ** params["alpha"]
    e = 1.0 - (1.0 - params["rho"]) ** (1.0 / f)
    return {"s": jnp.zeros_like(f), "f": f, "v": v, "q": v * e / params["rho"]}


def balloon_jacobian(params: Mapping[str, Array], coeffs: Mapping[str, Array]):
    r"""Linearisation about rest: ``(A, b, c)`` with :math:`\dot x = A x + b z`, :math:`y = c\,x`.

    State order ``(s, f, v, q)``; time in seconds. With
    :math:`E'(1) = (1-\rho)\ln(1-\rho)`:

    .. math::

        A = \begin{pmatrix} -\kappa & -\gamma & 0 & 0 \\ 1 & 0 & 0 & 0 \\
        0 & 1/\tau & -1/(\alpha\tau) & 0 \\
        0 & (1 + E'(1)/\rho)/\tau & -(1/\alpha - 1)/\tau & -1/\tau \end{pmatrix},\quad
        c = V_0\,(0,\ 0,\ k_2 - k_3,\ -k_1 - k_2).
    """
    kappa, gamma, tau, alpha, rho = (params[k] for k in ("kappa", "gamma", "tau", "alpha", "rho"))
    dfe = 1.0 + (1.0 - rho) * jnp.log1p(-rho) / rho
    zero = jnp.zeros(())
    A = jnp.stack([
        jnp.stack([-kappa, -gamma, zero, zero]),
        jnp.stack([jnp.ones(()), zero, zero, zero]),
        jnp.stack([zero, 1.0 / tau, -1.0 / (alpha * tau), zero]),
        jnp.stack([zero, dfe / tau, -(1.0 / alpha - 1.0) / tau, -1.0 / tau]),
    ])
    b = jnp.array([1.0, 0.0, 0.0, 0.0])
    c = coeffs["V0"] * jnp.stack([zero, zero, coeffs["k2"] - coeffs["k3"],
                                  -coeffs["k1"] - coeffs["k2"]])
    return A, b, c


def _default_every(dt_ms: float) -> int:
    """Steps per hemodynamic update so that the internal step is ≤ 1 ms."""
    return max(1, int(np.floor(1.0 / dt_ms + 1e-9)))


def simulate_bold(activity: Array, dt: Array, *, tr: Array | None = None, coefficients: str = "classic",
                  scale: float = 1.0, baseline: float = 0.0, integrate_every: int = 1, method: str = "heun",
                  coefficient_kwargs: Mapping | None = None, **hemo: Array) -> Array:
    """Offline Balloon–Windkessel BOLD of a stored activity time series.

    Parameters
    ----------
    activity : array (T, ...) or Quantity
        Neural activity, time on axis 0 (dimensionless, or a rate read in Hz).
    dt : time
        Sampling step of ``activity`` (plain numbers in ms).
    tr : time, optional
        If given, return only samples at ``t = tr, 2 tr, ...`` (``tr`` a multiple of ``dt``).
    integrate_every : int
        Average the input over blocks of this many samples and take one hemodynamic step of
        ``integrate_every * dt`` per block (the output then has ``T // integrate_every`` rows,
        before the TR selection).
    coefficients, scale, baseline, method, **hemo
        As for :class:`BOLDMonitor`.

    Returns
    -------
    array (T', ...) of BOLD fractional signal change.
    """
    dt_ms = time_ms(dt, "dt")
    z = _activity_values(activity, "activity")
    params = hemodynamic_params(**hemo)
    coeffs = _coefficients(coefficients, params["rho"], coefficient_kwargs)
    k = int(integrate_every)
    if k < 1:
        raise ValueError(f"integrate_every={integrate_every!r} must be a positive integer.")
    n_blocks = z.shape[0] // k
    zb = z[: n_blocks * k].reshape((n_blocks, k) + z.shape[1:]).mean(axis=1)
    drive = scale * (zb - baseline)
    h = k * dt_ms / 1000.0

    def body(state, zt):
        state = balloon_step(state, params, zt, h, method)
        return state, bold_signal(state["log_v"], state["log_q"], coeffs, log=True)

    _, y = jax.lax.scan(body, balloon_resting_state(z.shape[1:]), drive)
    if tr is not None:
        every = _tr_steps(tr, k * dt_ms)
        y = y[every - 1::every]
    return y


def _tr_steps(tr, step_ms):
    tr_ms = time_ms(tr, "tr")
    ratio = tr_ms / step_ms
    n = int(round(ratio))
    if n < 1 or abs(ratio - n) > 1e-6 * max(1.0, ratio):
        raise ValueError(f"tr={tr!r} ({tr_ms} ms) is not a whole multiple of the step "
                         f"{step_ms} ms; choose tr = n * dt.")
    return n


def _activity_values(z, name, input_unit=None):
    """Plain values of the neural activity (dimensionless, or a rate in Hz)."""
    if is_quantity(z):
        if input_unit is not None:
            return to_canonical(z, name, input_unit)
        if z.dim.is_dimensionless:
            return jnp.asarray(to_canonical(z, "z"), dtype=float)
        if z.dim == u.Hz.dim:
            return to_canonical(z, name, u.Hz)
        raise UnitMismatchError(
            f"{name} has unit {u.get_unit(z)}; the BOLD input must be dimensionless or a rate "
            f"(read in Hz). For other observables pass input_unit= (e.g. input_unit=u.mV) and a "
            f"matching scale.")
    if input_unit is not None:
        return jnp.asarray(z, dtype=float)
    return jnp.asarray(z, dtype=float)


# --------------------------------------------------------------------------- online monitor
def _freeze(d):
    return tuple(sorted((k, float(v) if not isinstance(v, (str, tuple)) else v)
                       for k, v in (d or {}).items()))


@dataclass(frozen=True, init=False)
class BOLDMonitor(Monitor):
    r"""Online Balloon–Windkessel BOLD inside the compiled simulation loop.

    The hemodynamic state is carried in the scan, so neural activity is never stored at every
    step: the monitor keeps 4 arrays of shape ``(n,)`` plus an input accumulator.

    Parameters
    ----------
    variable : str
        State variable or observable read from the model (canonical units, used as is).
    tr : time
        Repetition time = sampling period (plain numbers in ms). Default 720 ms (HCP).
    coefficients : {'classic', 'revised'} or dict
        BOLD readout coefficients (see :func:`bold_coefficients`); a dict ``k1, k2, k3, V0``
        is used directly. ``B0``, ``TE``, ``epsilon``, ``r0``, ``theta0``, ``V0`` of the revised
        set go in ``coefficient_kwargs``.
    scale : float
        Neurovascular coupling :math:`\varepsilon`: the vasodilatory drive is
        ``scale * (activity - baseline)`` (per s², time in seconds). Friston et al. (2000) use
        ε ≈ 0.5–1 for activity of order 1; for activity in other units choose ``scale`` so that
        the drive stays of order 1 (the response is then a few percent, see the docs).
    baseline : float
        Activity level :math:`z_0` that produces no drive (default 0).
    integrate_every : int, optional
        Average the activity over ``k`` integration steps and advance the hemodynamics once per
        block with step ``k * dt``. Default: the largest ``k`` with ``k * dt ≤ 1 ms`` (1 for
        ``dt ≥ 1 ms``).
    method : {'heun', 'euler'}
    name : str
        Key in the result dict (default ``'bold'``).
    coefficient_kwargs : dict, optional
        Passed to :func:`bold_coefficients`.
    **hemo
        Hemodynamic parameters ``kappa, gamma, tau, alpha, rho`` (see
        :data:`HEMODYNAMIC_PARAMETERS`; Quantities accepted).

    Notes
    -----
    The output is the dimensionless fractional signal change (multiply by 100 for percent),
    sampled at the end of each period from the state after the last completed block.
    Everything inside is pure JAX (``lax.cond`` on a step counter), so it runs inside
    ``lax.scan``, ``vmap`` and ``grad``. The configuration is static (hashable), so the monitor
    is part of the compiled run's cache key; its parameters are compile-time constants.
    """

    tr: float = 720.0
    coefficients: Any = "classic"
    scale: float = 1.0
    baseline: float = 0.0
    integrate_every: int | None = None
    method: str = "heun"
    hemo: tuple = ()
    readout: tuple = ()

    def __init__(self, variable: str = "S_E", tr: Array = 720 * u.ms, coefficients: str = "classic",
                 scale: float = 1.0, baseline: float = 0.0, integrate_every: int | None = None,
                 method: str = "heun", name: str = "bold", coefficient_kwargs: Mapping | None = None,
                 **hemo: Array) -> None:
        tr_ms = time_ms(tr, "tr")
        if tr_ms <= 0:
            raise ValueError(f"tr={tr!r} must be positive.")
        if integrate_every is not None and int(integrate_every) < 1:
            raise ValueError(f"integrate_every={integrate_every!r} must be a positive integer.")
        if method not in ("heun", "euler"):
            raise ValueError(f"method={method!r} is not known; use 'heun' or 'euler'.")
        params = hemodynamic_params(**dict(hemo))      # validates names and units
        coeffs = _coefficients(coefficients, params["rho"], coefficient_kwargs)
        if isinstance(coefficients, Mapping):
            coefficients = _freeze(coeffs)
        set_ = object.__setattr__
        set_(self, "variable", variable)
        set_(self, "period", tr_ms)
        set_(self, "name", name)
        set_(self, "tr", tr_ms)
        set_(self, "coefficients", coefficients)
        set_(self, "scale", float(scale))
        set_(self, "baseline", float(baseline))
        set_(self, "integrate_every", None if integrate_every is None else int(integrate_every))
        set_(self, "method", method)
        set_(self, "hemo", _freeze({k: float(np.asarray(v)) for k, v in params.items()}))
        set_(self, "readout", _freeze({k: float(np.asarray(v)) for k, v in coeffs.items()}))

    @property
    def params(self) -> dict:
        """Hemodynamic parameters (seconds-based plain values)."""
        return {k: jnp.asarray(v) for k, v in self.hemo}

    @property
    def coeffs(self) -> dict:
        """BOLD readout coefficients ``k1, k2, k3, V0``."""
        return {k: jnp.asarray(v) for k, v in self.readout}

    def every(self, dt) -> int:
        """Steps per hemodynamic update for a simulation step ``dt`` (ms)."""
        return self.integrate_every or _default_every(float(dt))

    def _drive(self, read):
        return self.scale * (jnp.asarray(read(self.variable), dtype=float) - self.baseline)

    def init(self, read, dt):
        x = jnp.asarray(read(self.variable), dtype=float)
        return {"hemo": balloon_resting_state(x.shape, x.dtype), "acc": jnp.zeros_like(x),
                "count": jnp.zeros((), jnp.int32)}

    def step(self, mstate, read, dt):
        k = self.every(dt)
        h = k * float(dt) / 1000.0
        z = self._drive(read)
        params = self.params
        if k == 1:
            hemo = balloon_step(mstate["hemo"], params, z, h, self.method)
            return {"hemo": hemo, "acc": mstate["acc"], "count": mstate["count"]}
        acc = mstate["acc"] + z
        count = mstate["count"] + 1

        def advance(args):
            hemo, acc = args
            return balloon_step(hemo, params, acc / k, h, self.method), jnp.zeros_like(acc)

        hemo, acc = jax.lax.cond(count >= k, advance, lambda a: a, (mstate["hemo"], acc))
        return {"hemo": hemo, "acc": acc, "count": jnp.where(count >= k, 0, count)}

    def sample(self, mstate, read):
        hemo = mstate["hemo"]
        return mstate, bold_signal(hemo["log_v"], hemo["log_q"], self.coeffs, log=True)

    def out_of_range(self) -> str:
        """The input range policy: a drive that pushes the inflow ``f`` to zero is an error.

        The linear response of ``f - 1`` to a drive oscillating at 0.05 Hz has a gain of about
        2.7 s²; once ``scale * (activity - baseline)`` swings by more than about ``1 / 2.7`` per s²
        the inflow reaches zero, no blood flows, and the Balloon model (whose ``log f`` then
        overflows) has no physiological meaning. The fix is a smaller ``scale``."""
        gamma = dict(self.hemo)["gamma"]
        return (f"the Balloon inflow f was driven to zero (its log overflowed): the vasodilatory "
                f"drive scale * ({self.variable} - baseline) swings too far below zero (the "
                f"resting flow is lost once it stays below -gamma = -{gamma:g} /s^2, and at 0.05 Hz "
                f"once it swings by about 0.37 /s^2). bold.scale = {self.scale:g} (config [bold] "
                f"scale, BOLDMonitor(scale=...)) is too large for this activity: lower it (e.g. "
                f"scale = {self.scale / 4:g}) so the drive stays of order 0.1, and keep "
                f"bold.baseline at the activity's resting level ('auto', now {self.baseline:g}).")


# --------------------------------------------------------------------------- stateful module
import brainstate  # noqa: E402


class BOLDSignal(brainstate.nn.Dynamics):
    r"""Stateful Balloon–Windkessel model (one region per element of ``in_size``).

    ``update(z=...)`` advances one step of ``dt`` taken from ``brainstate.environ.get_dt()``;
    ``dt`` may be a Quantity in any time unit (``1 * u.ms``, ``0.001 * u.second``) or a plain
    number read in **ms**; when no dt is set, 1 ms is used. The step calls
    :func:`balloon_step` (the same pure drift as :class:`BOLDMonitor`). ``bold()`` returns the
    dimensionless BOLD signal of the current state. The hidden states are ``s``, ``log_f``,
    ``log_v``, ``log_q`` (see Numerics in the module docstring); :meth:`physical_state` returns
    ``s, f, v, q``.

    Parameters
    ----------
    in_size : int or tuple
    coefficients, scale, baseline, method, coefficient_kwargs, **hemo
        As for :class:`BOLDMonitor`.
    input_unit : brainunit.Unit, optional
        Unit in which Quantity inputs are read. By default inputs must be dimensionless or a
        rate (read in Hz).

    Examples
    --------
    >>> import brainstate, brainunit as u, jax.numpy as jnp
    >>> bold = BOLDSignal(in_size=3)
    >>> bold.init_all_states()                                  # doctest: +SKIP
    >>> with brainstate.environ.context(dt=0.1 * u.ms):          # doctest: +SKIP
    ...     y = brainstate.transform.for_loop(lambda z: (bold.update(z=z), bold.bold())[1],
    ...                                       jnp.zeros((100, 3)))
    """

    def __init__(self, in_size: int | tuple, coefficients: str = "classic", scale: float = 1.0,
                 baseline: float = 0.0, method: str = "heun", input_unit: Any = None,
                 coefficient_kwargs: Mapping | None = None, name: str | None = None, **hemo: Array) -> None:
        super().__init__(in_size, name=name)
        self.params = hemodynamic_params(**hemo)
        self.coeffs = _coefficients(coefficients, self.params["rho"], coefficient_kwargs)
        self.scale = scale
        self.baseline = baseline
        if method not in ("heun", "euler"):
            raise ValueError(f"method={method!r} is not known; use 'heun' or 'euler'.")
        self.method = method
        self.input_unit = input_unit

    def _shape(self, batch_size):
        shape = tuple(self.varshape)
        return shape if batch_size is None else (batch_size,) + shape

    def init_state(self, batch_size=None, **kwargs):
        rest = balloon_resting_state(self._shape(batch_size))
        self.s = brainstate.HiddenState(rest["s"])
        self.log_f = brainstate.HiddenState(rest["log_f"])
        self.log_v = brainstate.HiddenState(rest["log_v"])
        self.log_q = brainstate.HiddenState(rest["log_q"])

    def reset_state(self, batch_size=None, **kwargs):
        rest = balloon_resting_state(self._shape(batch_size))
        for k in _STATE_KEYS:
            getattr(self, k).value = rest[k]

    @staticmethod
    def dt_seconds() -> float:
        """The environment's ``dt`` in seconds (1 ms when unset; plain numbers are ms)."""
        try:
            dt = brainstate.environ.get_dt()
        except KeyError:
            return 1e-3
        return time_ms(dt, "brainstate.environ dt") / 1000.0

    def update(self, z: Array | None = None) -> Array:
        if z is None:
            raise ValueError("BOLDSignal.update needs the neural activity: update(z=activity).")
        drive = self.scale * (_activity_values(z, "z", self.input_unit) - self.baseline)
        state = {k: getattr(self, k).value for k in _STATE_KEYS}
        new = balloon_step(state, self.params, drive, self.dt_seconds(), self.method)
        for k in _STATE_KEYS:
            getattr(self, k).value = new[k]
        return self.bold()

    def physical_state(self) -> dict:
        """Current ``s, f, v, q`` (physical variables)."""
        return to_physical({k: getattr(self, k).value for k in _STATE_KEYS})

    def bold(self):
        """BOLD fractional signal change of the current state (dimensionless)."""
        return bold_signal(self.log_v.value, self.log_q.value, self.coeffs, log=True)
