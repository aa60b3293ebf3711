r"""A self-contained network of Kuramoto–Sakaguchi phase oscillators (brainmass's ``KuramotoNetwork``).

.. math::

    \dot\theta_i = \omega_i + \frac{K}{\mathcal N} \sum_j w_{ij} \sin(\theta_j - \theta_i - \alpha)
                   + I_i(t),

time in ms (:math:`\omega`, :math:`K` in rad/ms), :math:`\mathcal N = N` with ``normalize_by_n``
(else 1), :math:`w_{ij} = 1` without ``conn`` (all-to-all), and the diagonal removed with
``exclude_self`` (it contributes :math:`-\sin\alpha` otherwise). The coupling term is
:func:`~neuralmass.network.coupling.kuramoto` (the definition :class:`KuramotoCoupling` uses in a
:class:`~neuralmass.Network`). For two oscillators the phase difference obeys
:math:`\dot\varphi = \Delta\omega - K\cos\alpha\,\sin\varphi` and locks at
:math:`\sin\varphi^* = \Delta\omega/(K\cos\alpha)` when :math:`|\Delta\omega| \le K\cos\alpha`.

References
----------
Kuramoto, Y. (1975). Self-entrainment of a population of coupled non-linear oscillators.
*Lecture Notes in Physics*, 39, 420–422.
Sakaguchi, H., & Kuramoto, Y. (1986). A soluble active rotator model showing phase transitions
via mutual entrainment. *Progress of Theoretical Physics*, 76, 576–581.
"""

from __future__ import annotations

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..integrators import get_integrator
from ..models.module import _initial_value
from ..models.kuramoto import KURAMOTO
from ..units import _unwrap_param, magnitude, time_ms, to_canonical
from .coupling import kuramoto

__all__ = ["KuramotoNetwork", "kuramoto_network_drift"]

_PER_MS = u.ms ** -1


def kuramoto_network_drift(state, params, inputs):
    """Drift of the Kuramoto–Sakaguchi network (time in ms); ``params['W']`` holds the weights
    already divided by the normalisation and with the diagonal removed when asked."""
    th = state["theta"]
    c = kuramoto(th, th, params["W"], 1.0, params["alpha"])
    return {"theta": params["omega"] + params["K"] * c + inputs["theta_inp"]}


class KuramotoNetwork(brainstate.nn.Dynamics):
    """Kuramoto–Sakaguchi network with brainmass's arguments (module docstring).

    Parameters
    ----------
    in_size : int
        Number of oscillators N.
    omega : float, array or Quantity, default 0
        Natural angular frequencies; plain numbers in rad/ms (as brainmass), a Quantity in
        1/time is converted (``u.Hz`` is rad/s: pass ``2 * pi * f * u.Hz`` for f cycles/s).
    K : float or Quantity, default 0
        Coupling strength (rad/ms for plain numbers).
    alpha : float, default 0
        Phase lag (rad).
    conn : array (N, N) or (N*N,), optional
        Weights ``w[i, j]`` from j to i (all-to-all ones when omitted).
    normalize_by_n, exclude_self : bool, default True
    noise_theta : WhiteNoise or OUProcess, optional
        Added to the phase velocity.
    init_theta : number, array or callable ``f(shape)``, default uniform in [0, 2 pi)
    method : str, default 'heun'
        Integrator (brainmass: the coupling frozen over the step, then Euler: ``'euler'`` here).
    """

    def __init__(self, in_size, omega=0.0, K=0.0, alpha=0.0, conn=None, normalize_by_n=True,
                 exclude_self=True, noise_theta=None, init_theta=None, method="heun", name=None):
        super().__init__(in_size=in_size, name=name)
        n = int(np.prod(self.varshape))
        self.n = n
        get_integrator(method)
        self.method = method
        self.omega = to_canonical(_unwrap_param(omega), "omega", _PER_MS, _PER_MS)
        self.K = to_canonical(_unwrap_param(K), "K", _PER_MS, _PER_MS)
        self.alpha = jnp.asarray(magnitude(_unwrap_param(alpha)), dtype=float)
        if conn is None:
            W = np.ones((n, n))
        else:
            W = np.asarray(magnitude(conn), dtype=float)
            if W.ndim == 1 and W.size == n * n:
                W = W.reshape(n, n)
            if W.shape != (n, n):
                raise ValueError(f"conn has shape {W.shape}; it must be ({n}, {n}) (or flattened) for "
                                 f"in_size={in_size}.")
        if exclude_self:
            W = W * (1.0 - np.eye(n))
        if normalize_by_n:
            W = W / n
        self.W = jnp.asarray(W)
        self.noise_theta = noise_theta
        self.init_theta = init_theta

    @property
    def canonical_params(self) -> dict:
        return {"omega": self.omega, "K": self.K, "alpha": self.alpha, "W": self.W}

    def init_state(self, batch_size=None, **kwargs):
        shape = self.varshape if batch_size is None else (batch_size,) + tuple(self.varshape)
        if self.init_theta is None:
            th = brainstate.random.uniform(0.0, 2.0 * np.pi, shape)
        else:
            th = jnp.broadcast_to(_initial_value(KURAMOTO, "theta", self.init_theta, self.n), shape)
        self.theta = brainstate.HiddenState(jnp.asarray(th, dtype=float))

    def update(self, theta_inp=None):
        """One step of ``brainstate.environ`` dt; ``theta_inp`` adds to the phase velocity
        (rad/ms). Returns the phases."""
        inp = jnp.zeros(()) if theta_inp is None else jnp.asarray(magnitude(theta_inp), dtype=float)
        if self.noise_theta is not None:
            inp = inp + magnitude(self.noise_theta())
        dt = time_ms(brainstate.environ.get_dt(), "brainstate.environ dt")
        new = get_integrator(self.method)(kuramoto_network_drift, {"theta": self.theta.value},
                                          self.canonical_params, {"theta_inp": inp}, dt)
        self.theta.value = new["theta"]
        return self.theta.value

