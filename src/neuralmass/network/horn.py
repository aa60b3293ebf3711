r"""HORN sequence models: layers of harmonic oscillator units driven by an input sequence
(brainmass's ``HORNSeqLayer`` and ``HORNSeqNetwork``), on the HORN drift
(:mod:`neuralmass.models.horn`) and the project's integrators.

A layer of :math:`n` units reads an input sequence :math:`s_1..s_T` (``(T, ..., n_input)``) and,
at every step, forms the total input of each unit

.. math::

    I_t = s_t W^{ih} + b^{ih} + c_t + b^{hh}, \qquad
    c_{t,i} = \sum_j W^{hh}_{ji}\, y_j(t - d_{ij}),

(weights stored ``(source, target)``, so ``s @ W``; the delays :math:`d_{ij}`, in ms, are zero
without ``delay``) and advances the HORN units one step of ``dt`` with that input:
:math:`\ddot x = \alpha\tanh(I + v x) - 2\gamma\dot x - \omega^2 x` (symplectic Euler by default,
the HORN papers' scheme). The recurrent term reads the velocities :math:`y` at the start of the
step. The layer returns the positions :math:`x_1..x_T`. A network stacks layers (the positions of
one are the input sequence of the next) and reads out :math:`x^{(L)}_T W^{ho} + b^{ho}` from the
last layer's final positions.

References
----------
Effenberger, F., Carvalho, P., Dubinin, I., & Singer, W. (2025). The functional role of
oscillatory dynamics in neocortical circuits: a computational perspective. *PNAS*, 122(4),
e2412830122 (bioRxiv 2022.11.29.518360).
He, K., Zhang, X., Ren, S., & Sun, J. (2015). Delving deep into rectifiers. *ICCV*, 1026–1034
(the default weight initialisation, normal with variance 2 / fan-in).
"""

from __future__ import annotations

import math
from typing import Sequence

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import get_integrator
from ..models import HORNStep
from ..models.horn import HORN
from ..units import _unwrap_param, magnitude, to_canonical
from .coupling import additive_coupling
from .delays import delay_index, delay_lags

__all__ = ["HORNSeqLayer", "HORNSeqNetwork", "kaiming_normal"]


def kaiming_normal(shape):
    """He (Kaiming) normal initialisation: independent normal entries with variance
    ``2 / shape[0]`` (the fan-in of a ``(source, target)`` weight matrix); He et al. (2015)."""
    shape = tuple(int(s) for s in shape)
    return brainstate.random.normal(size=shape) * math.sqrt(2.0 / shape[0])


def _initial(value, shape, name):
    """An array of ``shape`` from a number, an array or an initialiser ``f(shape)``; ``None`` stays
    ``None`` (no bias)."""
    if value is None:
        return None
    if callable(value) and not hasattr(value, "shape"):
        value = value(tuple(shape))
    arr = jnp.asarray(magnitude(_unwrap_param(value)), dtype=float)
    try:
        return jnp.broadcast_to(arr, tuple(shape))
    except ValueError:
        raise ValueError(f"{name} has shape {arr.shape}; it must broadcast to {tuple(shape)} "
                         f"(pass an array of that shape or an initialiser f(shape)).") from None


class HORNSeqLayer(brainstate.nn.Module):
    """One layer of HORN units driven by an input sequence (module docstring), brainmass's
    ``HORNSeqLayer`` arguments.

    Parameters
    ----------
    n_input, n_hidden : int
        Input features per step and number of HORN units.
    alpha, omega, gamma, v : float or array (n_hidden,)
        HORN parameters (:data:`neuralmass.models.HORN`; time in ms, ``omega`` in rad/ms).
    delay_init : number or callable ``f(shape)``, default 0
        Velocities before the start of the sequence, read through the delays.
    x_init, y_init : number, array or callable ``f(shape)``, default 0
        Initial positions and velocities.
    delay : array (n_hidden, n_hidden), Quantity or callable, optional
        Recurrent delays ``delay[i, j]`` from unit ``j`` to unit ``i`` (plain numbers in ms),
        rounded to whole steps of dt.
    rec_w_init, inp_w_init : array or callable ``f(shape)``, default He normal
        Recurrent ``(n_hidden, n_hidden)`` and input ``(n_input, n_hidden)`` weights, stored
        ``(source, target)``.
    rec_b_init, inp_b_init : number, array, callable or None, default 0
        Recurrent and input biases (``None``: no bias).
    method : str, optional
        Integrator of the HORN units (default: symplectic Euler).
    """

    def __init__(self, n_input: int, n_hidden: int, alpha=0.04, omega=2.0 * math.pi / 28.0, gamma=0.01,
                 v=0.0, delay_init=0.0, x_init=0.0, y_init=0.0, delay=None, rec_w_init=kaiming_normal,
                 rec_b_init=0.0, inp_w_init=kaiming_normal, inp_b_init=0.0, method: str | None = None,
                 name: str | None = None):
        super().__init__(name=name)
        for label, val in (("n_input", n_input), ("n_hidden", n_hidden)):
            if not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{label}={val!r} must be a positive whole number.")
        self.n_input, self.n_hidden = int(n_input), int(n_hidden)
        n = self.n_hidden
        self.horn = HORNStep(n, alpha=alpha, omega=omega, gamma=gamma, v=v, x_init=x_init, y_init=y_init,
                             method=method)
        self.W_ih = brainstate.ParamState(_initial(inp_w_init, (self.n_input, n), "inp_w_init"))
        b = _initial(inp_b_init, (n,), "inp_b_init")
        self.b_ih = None if b is None else brainstate.ParamState(b)
        self.W_hh = brainstate.ParamState(_initial(rec_w_init, (n, n), "rec_w_init"))
        b = _initial(rec_b_init, (n,), "rec_b_init")
        self.b_hh = None if b is None else brainstate.ParamState(b)
        if delay is None:
            self.delay_ms = None
        else:
            d = delay((n, n)) if callable(delay) and not hasattr(delay, "shape") else delay
            d = np.asarray(to_canonical(d, "delay", u.ms, u.ms), dtype=float)
            try:
                self.delay_ms = np.broadcast_to(d, (n, n)).copy()
            except ValueError:
                raise ValueError(f"delay has shape {d.shape}; it must be ({n}, {n}) (delay[i, j] from unit j "
                                 f"to unit i, ms).") from None
        self.delay_init = delay_init

    # ------------------------------------------------------------------ delays
    def _lags(self, dt):
        lags, _ = delay_lags(self.delay_ms, dt)
        return lags

    def init_state(self, batch_size=None, **kwargs):
        if self.delay_ms is not None:
            L = int(self._lags(self.horn.step_dt()).max()) + 1
            hist = _initial(self.delay_init, (L, self.n_hidden), "delay_init")
            self.history = brainstate.HiddenState(jnp.asarray(hist))

    # ------------------------------------------------------------------ forward pass
    def update(self, inputs, record_state: bool = False):
        """Run the layer over ``inputs`` (``(T, ..., n_input)``); returns the positions
        ``(T, ..., n_hidden)``, and with ``record_state=True`` ``({'x': ..., 'y': ...}, x)``. The
        units' states (and the delay history) carry over to the next call."""
        s = jnp.asarray(magnitude(inputs), dtype=float)
        if s.ndim < 2 or s.shape[-1] != self.n_input:
            raise ValueError(f"inputs has shape {s.shape}; it must be (T, ..., {self.n_input}) (time first, "
                             f"n_input={self.n_input} features last).")
        ext = s @ self.W_ih.value + (0.0 if self.b_ih is None else self.b_ih.value)
        b_hh = 0.0 if self.b_hh is None else self.b_hh.value
        W = self.W_hh.value
        horn = self.horn
        dt = horn.step_dt()
        params = horn.canonical_params
        step = get_integrator(horn.method)
        lanes = ext.shape[1:]
        state = {k: jnp.broadcast_to(getattr(horn, k).value, lanes) for k in HORN.state_names}
        zero = jnp.zeros(lanes)

        def advance(st, I_t, rec):
            new = step(HORN.drift, st, params, {"I": I_t + rec + b_hh, "y_ext": zero}, dt)
            return new, (new["x"], new["y"])

        if self.delay_ms is None:
            def body(st, I_t):
                return advance(st, I_t, st["y"] @ W)

            final, (xs, ys) = jax.lax.scan(body, state, ext)
        else:
            lags = jnp.asarray(self._lags(dt))
            hist0 = self.history.value
            if hist0.shape[0] != int(lags.max()) + 1:
                raise ValueError(f"the delay history holds {hist0.shape[0]} steps but dt = {dt} ms needs "
                                 f"{int(lags.max()) + 1}; call init_all_states() after changing dt.")
            hist0 = jnp.broadcast_to(hist0, (hist0.shape[0],) + lanes)
            src = jnp.asarray(delay_index(self.n_hidden))

            def body(carry, I_t):
                st, hist = carry
                # hist[k] holds y(t - k); delayed[..., i, j] = y_j(t - lag_ij)
                delayed = jnp.moveaxis(hist, 0, -1)[..., src, lags]
                new, out = advance(st, I_t, additive_coupling(delayed, W.T))
                hist = jnp.concatenate([new["y"][None], hist[:-1]], axis=0)
                return (new, hist), out

            hist0 = hist0.at[0].set(state["y"])
            (final, hist), (xs, ys) = jax.lax.scan(body, (state, hist0), ext)
            self.history.value = hist
        for k in HORN.state_names:
            getattr(horn, k).value = final[k]
        return ({"x": xs, "y": ys}, xs) if record_state else xs


class HORNSeqNetwork(brainstate.nn.Module):
    """Stacked HORN layers with a linear read-out (module docstring), brainmass's
    ``HORNSeqNetwork`` arguments: ``n_hidden`` is one size or one per layer; the HORN parameters,
    initialisers and delays are shared by all layers (``inp_w_init``/``inp_b_init`` also
    initialise the read-out ``(n_hidden[-1], n_output)``)."""

    def __init__(self, n_input: int, n_hidden: int | Sequence[int], n_output: int, alpha=0.04,
                 omega=2.0 * math.pi / 28.0, gamma=0.01, v=0.0, x_init=0.0, y_init=0.0, delay_init=0.0,
                 delay=None, rec_w_init=kaiming_normal, rec_b_init=0.0, inp_w_init=kaiming_normal,
                 inp_b_init=0.0, method: str | None = None, name: str | None = None):
        super().__init__(name=name)
        sizes = [n_hidden] if isinstance(n_hidden, (int, np.integer)) else list(n_hidden)
        if not sizes:
            raise ValueError("n_hidden is empty; give one size or a list of layer sizes, e.g. [64, 128].")
        self.layers = []
        n_in = n_input
        for size in sizes:
            self.layers.append(HORNSeqLayer(n_in, size, alpha=alpha, omega=omega, gamma=gamma, v=v,
                                            delay_init=delay_init, x_init=x_init, y_init=y_init, delay=delay,
                                            rec_w_init=rec_w_init, rec_b_init=rec_b_init,
                                            inp_w_init=inp_w_init, inp_b_init=inp_b_init, method=method))
            n_in = size
        self.W_ho = brainstate.ParamState(_initial(inp_w_init, (n_in, n_output), "inp_w_init"))
        b = _initial(inp_b_init, (n_output,), "inp_b_init")
        self.b_ho = None if b is None else brainstate.ParamState(b)

    def hidden_activation(self, inputs):
        """The position sequences of every layer, ``[(T, ..., n_hidden[l]) for each layer]``."""
        out, x = [], inputs
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out

    def update(self, inputs):
        """Run all layers over ``inputs`` (``(T, ..., n_input)``) and return the read-out of the last
        layer's final positions, ``(..., n_output)``."""
        self.hidden_activation(inputs)
        x_T = self.layers[-1].horn.x.value
        return x_T @ self.W_ho.value + (0.0 if self.b_ho is None else self.b_ho.value)
