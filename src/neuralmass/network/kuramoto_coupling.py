r"""Kuramoto (sine) coupling :math:`k \sum_j w_{ij} \sin\big(\theta_j(t-\tau_{ij}) - \theta_i(t)\big)`.

The phase difference is not a function of the source alone, which the engine's coupling
decomposition (``pre`` per source, delayed weighted sum, ``post`` per target) requires. Through
:math:`e^{i\theta}` it becomes one: every source sends :math:`e^{i\theta_j}`, the delayed weighted
sum is :math:`z_i = \sum_j w_{ij} e^{i\theta_j(t-\tau_{ij})}`, and the target takes

.. math::

    k\,\mathrm{Im}\big(z_i\, e^{-i\theta_i}\big) = k \sum_j w_{ij}\sin\big(\theta_j(t-\tau_{ij}) - \theta_i\big).

The pure function :func:`kuramoto` evaluates the formula directly and is the reference;
:class:`KuramotoCoupling` plugs into :class:`~neuralmass.Network` (``coupling=KuramotoCoupling()``
with ``coupled_var='theta'``, ``coupling_input='theta_ext'`` of the Kuramoto model).

References
----------
Kuramoto, Y. (1975). Self-entrainment of a population of coupled non-linear oscillators.
*LNP* 39, 420–422.
Sanz-Leon, P., Knock, S. A., Spiegler, A., & Jirsa, V. K. (2015). Mathematical framework for
large-scale brain network modeling in The Virtual Brain. *NeuroImage*, 111, 385–430.
"""

from __future__ import annotations

import jax.numpy as jnp

from .coupling import Coupling

__all__ = ["kuramoto", "KuramotoCoupling"]


def kuramoto(delayed, local, w, k=1.0):
    r"""Sine coupling :math:`k \sum_j w_{ij} \sin(\theta_j(t-\tau_{ij}) - \theta_i(t))`.

    Parameters
    ----------
    delayed : array, shape (n,) or (n, n)
        Source phases ``theta_j`` (no delays) or ``delayed[i, j] = theta_j(t - tau_ij)`` (rad).
    local : array, shape (n,)
        Current phase of every target (rad).
    w : array, shape (n, n)
        Weights ``w[i, j]`` from source ``j`` to target ``i``.
    k : float
        Global coupling strength (rad/ms per unit weight).
    """
    delayed = jnp.asarray(delayed)
    local = jnp.asarray(local)
    if delayed.ndim == 1:
        diff = delayed[None, :] - local[:, None]
    else:
        diff = delayed - local[:, None]
    return k * jnp.sum(jnp.asarray(w) * jnp.sin(diff), axis=-1)


class KuramotoCoupling(Coupling):
    r"""Sine (Kuramoto) coupling :math:`k\sum_j w_{ij}\sin(\theta_j(t-\tau_{ij}) - \theta_i)`.

    Sources send :math:`e^{i\theta}` (complex), the target forms
    :math:`k\,\mathrm{Im}(z\,e^{-i\theta_i})` (see :func:`kuramoto`).
    """

    kind = "kuramoto"
    uses_local = True

    def pre(self, x, p):
        return jnp.exp(1j * x)

    def post(self, s, local, rowsum, p):
        return p["k"] * jnp.imag(s * jnp.exp(-1j * local))

    def reference(self, delayed, local, w, p):
        return kuramoto(delayed, local, w, p["k"])
