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

from .params import Parameter
from .units import TIME, is_quantity, magnitude, time_ms, to_canonical

__all__ = ["white_input", "ou_step", "white_increment", "ou_exact_step", "noise_params",
           "OU_PARAMS", "WHITE_PARAMS", "OUProcess", "WhiteNoise", "GaussianNoise", "NoiseSpec", "NOISE_KINDS"]

#: The noise kinds a study config names (``noise.kind``) -> the class of this module that makes them.
NOISE_KINDS = {"white": "WhiteNoise", "ou": "OUProcess"}


# ------------------------------------------------------------------------------ pure steps
def white_input(sigma, xi, dt):
    r"""White-noise input :math:`\sigma\xi/\sqrt{\Delta t}` for standard normals ``xi``.

    Added to a derivative and multiplied by :math:`\Delta t` it is the Wiener increment
    :math:`\sigma\sqrt{\Delta t}\,\xi` (Euler–Maruyama)."""
    return sigma * xi / jnp.sqrt(dt)


def ou_step(eta, xi, mean, sigma, tau, dt):
    r"""One exact Ornstein–Uhlenbeck step for standard normals ``xi`` (Gillespie 1996)."""
    decay = jnp.exp(-dt / tau)
    return mean + (eta - mean) * decay + sigma * jnp.sqrt(1.0 - decay ** 2) * xi


def white_increment(key, sigma, shape, dt):
    r"""White-noise input :math:`\sigma\xi/\sqrt{\Delta t}` for one step, drawn from ``key``."""
    return white_input(sigma, jax.random.normal(key, shape), dt)


def ou_exact_step(eta, key, mean, sigma, tau, dt):
    r"""One exact step of an Ornstein–Uhlenbeck process (stationary std ``sigma``, time ``tau``)."""
    return ou_step(eta, jax.random.normal(key, jnp.shape(eta)), mean, sigma, tau, dt)


# ------------------------------------------------------------------------------ parameter tables
#: Ornstein–Uhlenbeck parameters; ``unit=None`` for sigma/mean means "the unit of the input the
#: process drives" (filled in per input by :func:`noise_params`)
OU_PARAMS = (
    Parameter("sigma", 1.0, None, None, (0.0, float("inf")), "stationary standard deviation (input unit)"),
    Parameter("tau", 10.0, u.ms, u.ms, (0.0, float("inf")), "correlation time"),
    Parameter("mean", 0.0, None, None, (-float("inf"), float("inf")), "stationary mean (input unit)"),
)
#: white-noise parameters: sigma in input unit x sqrt(ms) (a Quantity in the input unit alone is
#: read with the sqrt(ms) implied)
WHITE_PARAMS = (
    Parameter("sigma", 1.0, None, None, (0.0, float("inf")), "intensity (input unit x sqrt(ms))"),
)


@dataclass(frozen=True)
class NoiseSpec:
    """A noise source as the user gave it: ``kind`` (``'white'`` or ``'ou'``) and raw values
    (plain numbers or Quantities), converted once by :func:`noise_params` for the input it drives."""

    kind: str
    sigma: Any
    tau: Any = 10.0
    mean: Any = 0.0


def _sigma_white(sigma, inp, label):
    """White-noise intensity in canonical input unit x sqrt(ms)."""
    if is_quantity(sigma) and inp.unit is not None:
        with_sqrt = inp.unit * u.ms ** 0.5
        if sigma.dim == with_sqrt.dim:
            return jnp.asarray(sigma.to_decimal((inp.canonical or inp.unit) * u.ms ** 0.5), dtype=float)
    return to_canonical(sigma, label, inp.unit, inp.canonical)


def noise_params(model, specs) -> dict:
    """Canonical (plain-array) parameters of every noise source, by input name: the one place
    noise amplitudes, means and correlation times are converted."""
    out = {}
    for name, spec in specs.items():
        inp = model.input(name)
        label = f"noise on {name!r}"
        if spec.kind == "white":
            out[name] = {"sigma": _sigma_white(spec.sigma, inp, f"{label}: sigma")}
        elif spec.kind == "ou":
            out[name] = {
                "sigma": to_canonical(spec.sigma, f"{label}: sigma", inp.unit, inp.canonical),
                "mean": to_canonical(spec.mean, f"{label}: mean", inp.unit, inp.canonical),
                "tau": to_canonical(spec.tau, f"{label}: tau", TIME, TIME),
            }
        else:
            raise ValueError(f"{label}: kind={spec.kind!r} must be 'white' or 'ou'.")
    return out


def _check_sigma(sigma, name="sigma"):
    if jnp.any(jnp.asarray(magnitude(sigma)) < 0):
        raise ValueError(f"{name}={sigma!r} is negative; a noise amplitude must be >= 0.")


def _dt_ms() -> float:
    try:
        return time_ms(brainstate.environ.get_dt(), "brainstate.environ dt")
    except KeyError:
        raise RuntimeError(
            "No time step is set: call brainstate.environ.set(dt=0.1 * u.ms) before stepping a "
            "stateful noise process, or use neuralmass.Simulator(model, dt=...).") from None


class OUProcess(brainstate.nn.Dynamics):
    r"""Ornstein–Uhlenbeck noise source (stateful wrapper of :func:`ou_step`).

    Parameters
    ----------
    in_size : int or tuple
        Number of nodes.
    sigma : float or Quantity
        Stationary standard deviation, in the unit of the input it drives.
    tau : float or Quantity, default 10 ms
        Correlation time (plain numbers are ms; ``0.02 * u.second`` is 20 ms).
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
        self.tau_ms = float(to_canonical(tau, "tau", TIME, TIME))
        if not self.tau_ms > 0:
            raise ValueError(f"tau={tau!r} must be positive (a correlation time, e.g. 10 * u.ms).")
        self.mean = mean

    @property
    def spec(self) -> NoiseSpec:
        return NoiseSpec("ou", self.sigma, self.tau_ms, self.mean)

    def init_state(self, batch_size=None, **kwargs):
        shape = self.varshape if batch_size is None else (batch_size,) + tuple(self.varshape)
        self.x = brainstate.HiddenState(jnp.full(shape, magnitude(self.mean), dtype=float))

    def update(self):
        unit = u.get_unit(self.sigma) if is_quantity(self.sigma) else None
        sig = magnitude(self.sigma)
        mean = magnitude(self.mean, unit) if unit is not None else magnitude(self.mean)
        xi = brainstate.random.randn(*self.x.value.shape)
        self.x.value = ou_step(self.x.value, xi, mean, sig, self.tau_ms, _dt_ms())
        return self.x.value if unit is None else u.Quantity(self.x.value, unit=unit)


class WhiteNoise(brainstate.nn.Dynamics):
    r"""Gaussian white noise source of intensity ``sigma`` (input unit × √ms).

    Each call returns :math:`\sigma\xi/\sqrt{\Delta t}` (:func:`white_input`), so that an input
    added to a derivative produces the Euler–Maruyama increment :math:`\sigma\sqrt{\Delta t}\,\xi`.
    """

    def __init__(self, in_size, sigma=1.0, name=None):
        super().__init__(in_size=in_size, name=name)
        _check_sigma(sigma)
        self.sigma = sigma

    @property
    def spec(self) -> NoiseSpec:
        return NoiseSpec("white", self.sigma)

    def update(self):
        xi = brainstate.random.randn(*tuple(self.varshape))
        return white_input(magnitude(self.sigma), xi, _dt_ms())


GaussianNoise = WhiteNoise
