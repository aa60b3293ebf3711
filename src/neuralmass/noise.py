r"""Noise processes: pure steps plus thin stateful wrappers.

Noise enters a node model through one of its input channels (e.g. the excitatory input of
Wilson–Cowan, ``dx/dt`` of the Hopf oscillator).

White noise
    The engine feeds :math:`\sigma\,\xi_n/\sqrt{\Delta t}` with :math:`\xi_n\sim\mathcal N(0, 1)`,
    so a channel that adds to :math:`dx/dt` receives the Wiener increment
    :math:`\sigma\,\Delta W = \sigma\sqrt{\Delta t}\,\xi_n` — Euler–Maruyama. ``sigma`` has the unit
    of the input times :math:`\sqrt{\text{ms}}`.

Ornstein–Uhlenbeck noise
    :math:`d\eta = -(\eta-\mu)/\tau\,dt + \sigma\sqrt{2/\tau}\,dW`, with stationary standard
    deviation ``sigma`` and correlation time ``tau``, advanced with its exact discretisation
    (Gillespie 1996, Phys. Rev. E 54:2084)

    .. math:: \eta_{n+1} = \mu + (\eta_n-\mu)e^{-\Delta t/\tau} + \sigma\sqrt{1-e^{-2\Delta t/\tau}}\;\xi_n ,

    so its statistics are independent of :math:`\Delta t`. ``sigma`` has the unit of the input it
    drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp

from .units import TIME, is_quantity, time_ms

__all__ = ["white_increment", "ou_exact_step", "OUProcess", "WhiteNoise", "GaussianNoise", "NoiseSpec"]


def white_increment(key, sigma, shape, dt):
    r"""White-noise input :math:`\sigma\xi/\sqrt{\Delta t}` for one step (see module docs)."""
    return sigma * jax.random.normal(key, shape) / jnp.sqrt(dt)


def ou_exact_step(eta, key, mean, sigma, tau, dt):
    r"""One exact step of an Ornstein–Uhlenbeck process (stationary std ``sigma``, time ``tau``)."""
    decay = jnp.exp(-dt / tau)
    xi = jax.random.normal(key, jnp.shape(eta))
    return mean + (eta - mean) * decay + sigma * jnp.sqrt(1.0 - decay ** 2) * xi


@dataclass(frozen=True)
class NoiseSpec:
    """Canonical description of a noise source used by the compiled engine.

    ``kind`` is ``'white'`` or ``'ou'``; ``sigma``, ``mean`` are raw (possibly Quantity) values
    converted by the engine with the target input's unit; ``tau`` in ms.
    """

    kind: str
    sigma: Any
    tau: float = 0.0
    mean: Any = 0.0


def _check_sigma(sigma, name="sigma"):
    mag = sigma.mantissa if is_quantity(sigma) else sigma
    if jnp.any(jnp.asarray(mag) < 0):
        raise ValueError(f"{name}={sigma!r} is negative; a noise amplitude must be >= 0.")


def _dt_ms() -> float:
    try:
        return time_ms(brainstate.environ.get_dt(), "brainstate.environ dt")
    except KeyError:
        raise RuntimeError(
            "No time step is set: call brainstate.environ.set(dt=0.1 * u.ms) before stepping a "
            "stateful noise process, or use neuralmass.Simulator(model, dt=...).") from None


class OUProcess(brainstate.nn.Dynamics):
    r"""Ornstein–Uhlenbeck noise source (stateful wrapper of :func:`ou_exact_step`).

    Parameters
    ----------
    in_size : int or tuple
        Number of nodes.
    sigma : float or Quantity
        Stationary standard deviation, in the unit of the input it drives.
    tau : float or Quantity, default 10 ms
        Correlation time (plain numbers are ms).
    mean : float or Quantity, default 0
        Stationary mean.

    Notes
    -----
    Stationary variance ``sigma**2`` and autocorrelation ``exp(-|lag|/tau)`` hold for any ``dt``.
    Inside :class:`neuralmass.Simulator` the same process is run by the compiled engine with an
    independent random stream per batch lane.
    """

    def __init__(self, in_size, sigma=1.0, tau=10.0 * u.ms, mean=0.0, name=None):
        super().__init__(in_size=in_size, name=name)
        _check_sigma(sigma)
        self.sigma = sigma
        self.tau_ms = time_ms(tau, "tau")
        if self.tau_ms <= 0:
            raise ValueError(f"tau={tau!r} must be positive (a correlation time in ms).")
        self.mean = mean

    @property
    def spec(self) -> NoiseSpec:
        return NoiseSpec("ou", self.sigma, self.tau_ms, self.mean)

    def init_state(self, batch_size=None, **kwargs):
        shape = self.varshape if batch_size is None else (batch_size,) + tuple(self.varshape)
        m = self.mean.mantissa if is_quantity(self.mean) else self.mean
        self.x = brainstate.HiddenState(jnp.full(shape, m, dtype=float))

    def update(self):
        sig = self.sigma.mantissa if is_quantity(self.sigma) else self.sigma
        mean = self.mean.mantissa if is_quantity(self.mean) else self.mean
        key = brainstate.random.split_key()
        self.x.value = ou_exact_step(self.x.value, key, mean, sig, self.tau_ms, _dt_ms())
        unit = u.get_unit(self.sigma) if is_quantity(self.sigma) else None
        return self.x.value if unit is None else u.Quantity(self.x.value, unit=unit)


class WhiteNoise(brainstate.nn.Dynamics):
    r"""Gaussian white noise source of intensity ``sigma`` (input unit × √ms).

    Each call returns :math:`\sigma\xi/\sqrt{\Delta t}`, so that an input added to a derivative
    produces the Euler–Maruyama increment :math:`\sigma\sqrt{\Delta t}\,\xi`.
    """

    def __init__(self, in_size, sigma=1.0, name=None):
        super().__init__(in_size=in_size, name=name)
        _check_sigma(sigma)
        self.sigma = sigma

    @property
    def spec(self) -> NoiseSpec:
        return NoiseSpec("white", self.sigma)

    def update(self):
        sig = self.sigma.mantissa if is_quantity(self.sigma) else self.sigma
        key = brainstate.random.split_key()
        return white_increment(key, sig, tuple(self.varshape), _dt_ms())


GaussianNoise = WhiteNoise
del TIME
