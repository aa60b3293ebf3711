r"""Feedback inhibition control (FIC) for the reduced Wong–Wang model (Deco et al. 2014).

Deco et al. (2014) adjust the local inhibitory weight :math:`J_i` of every region until its
excitatory rate sits at :math:`H_E \approx 3` Hz, which keeps all regions in the same operating
point however strongly the connectome drives them. They iterate simulations; at a fixed point
the same weights follow in closed form, region by region, which is what this module does:

1. the target rate fixes the excitatory current, :math:`I_E^* = H_E^{-1}(3\,\mathrm{Hz})`, and the
   gating, :math:`S_E^* = \gamma_E H^* \tau_E / (1 + \gamma_E H^* \tau_E)`, the same in every region;
2. the long-range input is then known: :math:`G\sum_j C_{ij} S_E^*` (linear coupling), and the
   inhibitory gating :math:`S_I^*` solves :math:`S_I = \tau_I\gamma_I H_I(W_I I_0 + J_{NMDA}S_E^* - S_I)`
   (one monotone scalar equation, solved by bisection);
3. :math:`J_i = \big(W_E I_0 + w_+ J_{NMDA} S_E^* + J_{NMDA} G\sum_j C_{ij} S_E^* + I_{ext} - I_E^*\big)/S_I^*`.

The result is the fixed point Deco et al.'s iteration converges to when it converges. It is a
fixed point for every coupling :math:`G`, but not always a stable one: on the bundled HCP
connectome (max-normalised weights) it is stable up to :math:`G \approx 0.56` and unstable
beyond (a real eigenvalue of the network Jacobian crosses zero; ``tests/test_zoo.py``), where a
simulation started there drifts to another state (denser connectomes cross earlier, e.g. at
:math:`G = 0.2`, and settle at 0.4–1.2 Hz instead of the target). So every call computes the
eigenvalues of the network Jacobian at the returned point
(:func:`neuralmass.models.jacobian.drift_jacobian`: :func:`jax.jacfwd` of the model's one drift
function with the coupling applied, float64) and warns (:class:`UnstableFixedPointWarning`)
or raises (``on_unstable='raise'``) when the largest real part is positive.

References
----------
Deco, G., Ponce-Alvarez, A., Hagmann, P., Romani, G. L., Mantini, D., & Corbetta, M. (2014).
How local excitation–inhibition ratio impacts the whole brain dynamics. *Journal of
Neuroscience*, 34(23), 7886–7898.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Mapping

import brainunit as u
import numpy as np

from ..units import to_canonical
from .jacobian import drift_jacobian
from .wong_wang import WONG_WANG, ww_rate

__all__ = ["feedback_inhibition_control", "fic_max_real_eigenvalue", "UnstableFixedPointWarning"]

log = logging.getLogger("neuralmass")


class UnstableFixedPointWarning(RuntimeWarning):
    """The FIC fixed point is linearly unstable: a simulation started there leaves it."""


def fic_max_real_eigenvalue(conn: Any, k: float, J_i: Any, state: Mapping, coupling: str = "linear",
                            params: Mapping | None = None) -> float:
    r"""Largest real part of the eigenvalues of the network Jacobian at a Wong–Wang state.

    Parameters
    ----------
    conn : array (n, n) or Connectome
        Weights ``conn[i, j]`` from region ``j`` to ``i``.
    k : float
        Global coupling :math:`G`.
    J_i : array (n,)
        Inhibitory weights (nA).
    state : dict
        ``{'S_E': (n,), 'S_I': (n,)}``, e.g. the state :func:`feedback_inhibition_control` returns.
    coupling : {'linear', 'diffusive'}
        The network's coupling of ``S_E`` into ``S_E_ext``.
    params : dict, optional
        Other Wong–Wang parameters (user units).

    Returns
    -------
    float
        :math:`\max \mathrm{Re}\,\lambda` (per ms) of the :math:`2n \times 2n` Jacobian of
        ``(S_E, S_I)``: negative for a linearly stable fixed point.
    """
    import jax
    import jax.numpy as jnp

    W = np.asarray(getattr(conn, "weights", conn), dtype=float)
    n = W.shape[0]
    with jax.enable_x64(True):
        P = dict(WONG_WANG.canonical_params(params))
        P["J_i"] = jnp.asarray(J_i, jnp.float64)
        Wj = jnp.asarray(W)

        def long_range(s):
            # the network's linear / diffusive coupling of S_E (network.coupling; models/ cannot
            # import network/, tests/test_stability.py checks this equals Network's Jacobian)
            lr = Wj @ s["S_E"]
            if coupling == "diffusive":
                lr = lr - Wj.sum(axis=1) * s["S_E"]
            return {"S_E_ext": k * lr}

        jac = drift_jacobian(WONG_WANG, {"S_E": state["S_E"], "S_I": state["S_I"]}, P,
                             coupling=long_range, n=n)
    return float(np.linalg.eigvals(jac).real.max())


def _bisect(f, lo, hi, n=200):
    """Vectorised bisection for increasing ``f`` with ``f(lo) < 0 < f(hi)``."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    lo, hi = lo.copy(), hi.copy()
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        pos = f(mid) > 0
        hi = np.where(pos, mid, hi)
        lo = np.where(pos, lo, mid)
    return 0.5 * (lo + hi)


def feedback_inhibition_control(conn: Any, k: float = 1.0, target_rate: Any = 3.0,
                                coupling: str = "linear", params: Mapping | None = None,
                                return_state: bool = False, on_unstable: str = "warn"):
    r"""Inhibitory weights :math:`J_i` (nA, one per region) that put every region at ``target_rate``.

    Parameters
    ----------
    conn : array (n, n) or Connectome
        Weights ``conn[i, j]`` from region ``j`` to ``i`` (the matrix the network will use).
    k : float
        Global coupling :math:`G` of the network (``Network(..., k=G)``).
    target_rate : float or Quantity
        Excitatory rate :math:`H_E` to hold (plain numbers in Hz; Deco et al.: 3 Hz).
    coupling : {'linear', 'diffusive'}
        The network's coupling of ``S_E``: ``'linear'`` (Deco et al.) adds
        :math:`G\sum_j C_{ij} S_{E,j}`; ``'diffusive'`` vanishes when all regions sit at the same
        :math:`S_E^*`, so every region gets the isolated-node value.
    params : dict, optional
        Other Wong–Wang parameters (user units, scalars or per-region arrays; ``J_i`` is ignored).
    return_state : bool
        Also return the fixed point ``{'S_E': ..., 'S_I': ...}`` (arrays over regions). For strong
        coupling the FIC fixed point is stable but the default initial state may lie in the basin
        of a low-rate state; start there with ``S_E_init=``/``S_I_init=``. The state also holds
        ``'max_real_eig'``, the largest real part (per ms) of the Jacobian's eigenvalues there.
    on_unstable : {'warn', 'raise', 'ignore'}
        What to do when the fixed point is linearly unstable (largest real part of the network
        Jacobian's eigenvalues > 0, see :func:`fic_max_real_eigenvalue`): warn
        (:class:`UnstableFixedPointWarning`, default), raise :class:`ValueError`, or say nothing.

    Returns
    -------
    numpy.ndarray, shape (n,)
        :math:`J_i` in nA, e.g. ``WongWangModel(n, J_i=feedback_inhibition_control(W, k=G))``;
        with ``return_state=True`` a tuple ``(J_i, state)``.

    Raises
    ------
    ValueError
        For a non-square ``conn``, negative weights, a non-positive target, an unknown coupling,
        a target no inhibition can reach (a region whose excitatory drive is too weak), or, with
        ``on_unstable='raise'``, an unstable fixed point.
    """
    W = np.asarray(getattr(conn, "weights", conn), dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"conn has shape {W.shape}; it must be a square (n, n) weight matrix.")
    # the docstring's promise (negative weights were accepted); models/ cannot import network/,
    # so this is a local copy of the check network.connectome.validate_weights makes
    if not np.all(np.isfinite(W)) or np.any(W < 0):
        bad = tuple(int(i) for i in np.argwhere(~(np.isfinite(W) & (W >= 0)))[0])
        raise ValueError(f"conn must hold finite, non-negative weights; conn[{bad[0]}, {bad[1]}] = "
                         f"{W[bad]}.")
    if on_unstable not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_unstable={on_unstable!r} must be 'warn', 'raise' or 'ignore'.")
    if coupling not in ("linear", "diffusive"):
        raise ValueError(f"coupling={coupling!r} must be 'linear' or 'diffusive' (the network's coupling of S_E).")
    H = float(to_canonical(target_rate, "target_rate", u.Hz, u.Hz))
    if not H > 0:
        raise ValueError(f"target_rate={target_rate!r} must be a positive rate, e.g. 3 * u.Hz.")
    P = {name: np.asarray(v, float) for name, v in WONG_WANG.canonical_params(params).items()}
    n = W.shape[0]
    # 1. current that gives the target rate (H is increasing in I)
    I_E = _bisect(lambda I: np.asarray(ww_rate(I, P["a_E"], P["b_E"], P["d_E"])) - H,
                  np.full(n, -5.0), np.full(n, 5.0))
    g = P["gamma_E"] * H * 1e-3 * P["tau_E"]
    S_E = g / (1.0 + g)
    # 2. long-range input and inhibitory gating
    ext = k * W.sum(axis=1) * S_E if coupling == "linear" else np.zeros(n)
    base_I = P["W_I"] * P["I_0"] + P["J_NMDA"] * S_E
    S_I = _bisect(lambda S: S - P["tau_I"] * P["gamma_I"] * 1e-3
                  * np.asarray(ww_rate(base_I - S, P["a_I"], P["b_I"], P["d_I"])),
                  np.zeros(n), np.full(n, 10.0))
    # 3. inhibitory weight
    drive = P["W_E"] * P["I_0"] + P["w_plus"] * P["J_NMDA"] * S_E + P["J_NMDA"] * ext + P["I_ext"]
    J = np.broadcast_to((drive - I_E) / S_I, (n,)).copy()
    if np.any(J <= 0):
        bad = np.flatnonzero(J <= 0)
        raise ValueError(
            f"target_rate={target_rate!r} cannot be reached by inhibition in regions {bad.tolist()[:10]}: "
            f"their excitatory drive alone gives less than {H} Hz. Lower target_rate or raise I_0/k.")
    log.info("FIC: J_i in [%.3f, %.3f] nA for %d regions (k=%g, target %g Hz)", J.min(), J.max(), n, k, H)
    state = {"S_E": np.broadcast_to(S_E, (n,)).copy(), "S_I": np.broadcast_to(S_I, (n,)).copy()}
    lam = fic_max_real_eigenvalue(W, k, J, state, coupling, params)
    if lam > 0 and on_unstable != "ignore":
        msg = (f"feedback_inhibition_control(k={k}): the {H:g} Hz fixed point is unstable (largest "
               f"real part of the network Jacobian's eigenvalues {lam:.3g} /ms > 0); a simulation "
               f"started there drifts to another state. Lower k, or check the rates you get.")
        if on_unstable == "raise":
            raise ValueError(msg)
        warnings.warn(msg, UnstableFixedPointWarning, stacklevel=2)
    if return_state:
        return J, {**state, "max_real_eig": lam}
    return J
