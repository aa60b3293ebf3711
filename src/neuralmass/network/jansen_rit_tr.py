r"""Jansen–Rit regions with three Laplacian pathways, advanced one TR at a time (brainmass's
``JansenRitTR``; the whole-brain model of Momi, Wang & Griffiths 2023).

Each region is a Jansen–Rit column (:data:`~neuralmass.models.JANSEN_RIT`: pyramidal output
:math:`M = y_0`, excitatory and inhibitory PSPs :math:`E = y_1`, :math:`I = y_2`, EEG proxy
:math:`E - I`). Three pathways with normalised weights

.. math::

    W_f = \frac{e^{w_{ff}} \odot SC}{\lVert e^{w_{ff}} \odot SC\rVert_F},\quad
    W_b = \frac{e^{w_{bb}} \odot SC}{\lVert\cdot\rVert_F},\quad
    W_l = \frac{S}{\lVert S\rVert_F},\ S = \tfrac12\big(e^{w_{ll}} \odot SC + (e^{w_{ll}} \odot SC)^\top\big)

(times ``mask`` when given; lateral weights symmetric) and their degrees
:math:`d_p = \sum_j W_{p,ij}` drive the three inputs of the column in brainmass's convention,

.. math::

    u_M &= g_l\big(\textstyle\sum_j W_{l,ij} M_j(t - \tau_{ij}) - d_{l,i} M_i\big) + k\,s_i
           &&\text{(mV, in the pyramidal sigmoid's argument)},\\
    p &= g_f\big(\textstyle\sum_j W_{f,ij} M_j(t - \tau_{ij}) - d_{f,i}(E_i - I_i)\big)
           &&\text{(Hz, added to the excitatory rate)},\\
    u_I &= -g_b\big(\textstyle\sum_j W_{b,ij} M_j(t - \tau_{ij}) - d_{b,i}(E_i - I_i)\big)
           &&\text{(mV, in the inhibitory sigmoid's argument)},

with the external input :math:`s` (``update(input)``, scaled by ``k``). The lateral pathway is a
graph Laplacian acting on :math:`M` (its row sums vanish: equal delayed and local :math:`M`
cancel). The delayed terms are read once per TR from a history of :math:`M` written at the end of
every TR: ``delay[i, j]`` counts **TRs** (0 reads the state at the start of the TR). Within the TR
the columns take ``tr / dt`` steps (floored, as brainmass) of ``brainstate.environ`` dt with the
integrator ``method`` (``'exp_euler'``, brainmass's). ``update`` returns :math:`E - I` (mV) at
the end of the TR.

References
----------
Momi, D., Wang, Z., & Griffiths, J. D. (2023). TMS-evoked responses are driven by recurrent
large-scale network dynamics. *eLife*, 12, e83232.
Jansen, B. H., & Rit, V. G. (1995). Electroencephalogram and visual evoked potential generation
in a mathematical model of coupled cortical columns. *Biological Cybernetics*, 73, 357–366.
"""

from __future__ import annotations

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..models import JANSEN_RIT, JansenRitStep
from ..noise import WhiteNoise
from ..units import _unwrap_param, magnitude, time_ms
from .delays import delay_index
from .horn import _initial

__all__ = ["JansenRitTR", "laplacian_pathways"]


def laplacian_pathways(sc, w_ll, w_ff, w_bb, mask=None):
    """The normalised lateral, feed-forward and feedback weights ``(W_l, W_f, W_b)`` (module
    docstring): ``exp(w) * sc`` divided by its Frobenius norm, the lateral one symmetrised first,
    then times ``mask``. Works on traced arrays (the ``w`` are trainable)."""
    def norm(w):
        return w / jnp.linalg.norm(w)

    mask = 1.0 if mask is None else mask
    wl = jnp.exp(w_ll) * sc
    return (norm(0.5 * (wl + wl.T)) * mask, norm(jnp.exp(w_ff) * sc) * mask, norm(jnp.exp(w_bb) * sc) * mask)


class JansenRitTR(brainstate.nn.Dynamics):
    """Jansen–Rit regions coupled by three Laplacian pathways, one TR per ``update`` (module
    docstring); brainmass's ``JansenRitTR`` arguments.

    Parameters
    ----------
    in_size : int
        Number of regions n.
    delay : array (n, n)
        Delays in TRs (whole numbers >= 0), ``delay[i, j]`` from region j to region i.
    sc : array (n, n)
        Structural connectivity (fixed template of the pathways' weights).
    k : float
        Gain of the external input (added to the pyramidal sigmoid's argument, mV).
    w_ll, w_ff, w_bb : array (n, n) or callable ``f(shape)``
        Log-weights of the lateral, feed-forward and feedback pathways (trainable ``ParamState``).
    g_l, g_f, g_b : float
        Pathway gains.
    std_in : float, optional
        Intensity of white noise added to each of the three inputs (``WhiteNoise``; mV·√ms for
        the potentials, Hz·√ms for the rate).
    mask : array (n, n), optional
        Multiplies the normalised weights.
    state_saturation, input_saturation : bool
        Accepted for brainmass's signature; they have no effect there either (no bound is applied).
    state_init : number or callable ``f(shape)``, default 0
        Initial potentials in mV (and velocities in mV/s, as brainmass), for all three populations.
    delay_init : number or callable ``f(shape)``, default 0
        Pyramidal output M (mV) before the first TR, read through the delays.
    tr : Quantity or float (ms), default 1 ms
        Length of one ``update``.
    method : str, default 'exp_euler'
        Integrator of the columns.
    """

    def __init__(self, in_size, delay, sc, k, w_ll, w_ff, w_bb, g_l, g_f, g_b, std_in=None, mask=None,
                 state_saturation: bool = True, input_saturation: bool = True, state_init=0.0,
                 delay_init=0.0, tr=1.0 * u.ms, method: str = "exp_euler", name: str | None = None):
        super().__init__(in_size=in_size, name=name)
        missing = {"M_inp", "I_inp"} - set(JANSEN_RIT.input_names)
        if missing:
            raise NotImplementedError(
                f"JansenRitTR drives the Jansen–Rit inputs M_inp and I_inp (potentials in the pyramidal "
                f"and inhibitory sigmoids' arguments); this JANSEN_RIT table lacks {sorted(missing)}.")
        n = int(np.prod(self.varshape))
        self.n = n
        self.sc = _initial(sc, (n, n), "sc")
        self.mask = None if mask is None else _initial(mask, (n, n), "mask")
        self.w_ll = brainstate.ParamState(_initial(w_ll, (n, n), "w_ll"))
        self.w_ff = brainstate.ParamState(_initial(w_ff, (n, n), "w_ff"))
        self.w_bb = brainstate.ParamState(_initial(w_bb, (n, n), "w_bb"))
        self.k, self.g_l, self.g_f, self.g_b = (jnp.asarray(magnitude(_unwrap_param(v)), dtype=float)
                                                for v in (k, g_l, g_f, g_b))
        d = np.asarray(magnitude(delay), dtype=float)
        if d.shape != (n, n) or np.any(d < 0) or np.any(d != np.round(d)):
            raise ValueError(f"delay must be an ({n}, {n}) array of whole numbers of TRs >= 0 (delay[i, j] "
                             f"from region j to i); got shape {d.shape}.")
        self.lags = d.astype(np.int64)
        self.tr_ms = time_ms(tr, "tr")
        if not self.tr_ms > 0:
            raise ValueError(f"tr={tr!r} must be a positive duration (e.g. 1 * u.ms).")
        self.state_saturation, self.input_saturation = state_saturation, input_saturation
        s0 = _initial(state_init, (n,), "state_init")
        noise = {} if std_in is None else {f"noise_{s}": WhiteNoise(n, sigma=std_in) for s in ("M", "E", "I")}
        # potentials in mV; velocities state_init mV/s = 1e-3 state_init mV/ms
        self.column = JansenRitStep(n, method=method, **{f"y{i}_init": s0 for i in range(3)},
                                    **{f"y{i}_init": 1e-3 * s0 for i in range(3, 6)}, **noise)
        self.delay_init = delay_init

    def pathways(self):
        """The normalised weights ``(W_l, W_f, W_b)`` at the current log-weights."""
        return laplacian_pathways(self.sc, self.w_ll.value, self.w_ff.value, self.w_bb.value, self.mask)

    def init_state(self, batch_size=None, **kwargs):
        L = int(self.lags.max()) + 1
        self.history = brainstate.HiddenState(jnp.asarray(_initial(self.delay_init, (L, self.n), "delay_init")))

    def _held_values(self):
        """The values a compiled TR holds as constants (gains, weights, mask, the columns' parameters),
        as bytes; ``None`` when one is traced."""
        vals = (self.g_l, self.g_f, self.g_b, self.sc, self.mask, *self.column._canonical.values())
        try:
            return tuple(None if v is None else (np.shape(v), np.asarray(v).tobytes()) for v in vals)
        except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
            return None

    def _advance(self, ext, n_step: int, iter_input: bool):
        """One TR of ``n_step`` steps of the columns; returns ``(M, E - I)`` at its end."""
        col = self.column
        W_l, W_f, W_b = self.pathways()
        Md = jnp.moveaxis(self.history.value, 0, -1)[..., delay_index(self.n), self.lags]   # M_j(t - lag_ij)
        LE_l, LE_f, LE_b = (jnp.sum(W * Md, axis=-1) for W in (W_l, W_f, W_b))
        d_l, d_f, d_b = (jnp.sum(W, axis=-1) for W in (W_l, W_f, W_b))

        def step(ext_t):
            M, E, I = col.y0.value, col.y1.value, col.y2.value
            col.update(M_inp=self.g_l * (LE_l - d_l * M) + ext_t,
                       p=self.g_f * (LE_f - d_f * (E - I)),
                       I_inp=-self.g_b * (LE_b - d_b * (E - I)))

        if iter_input:
            brainstate.transform.for_loop(step, ext)
        else:
            brainstate.transform.for_loop(lambda i: step(ext), np.arange(n_step))
        M = col.y0.value
        self.history.value = jnp.concatenate([M[None], self.history.value[:-1]], axis=0)
        return M, col.y1.value - col.y2.value

    def update(self, input, record_state: bool = False, iter_input: bool = False):
        """Advance one TR with the external input ``input`` (``(n,)``, or ``(tr/dt, n)`` one row per
        step with ``iter_input=True``); returns ``E - I`` (mV), and with ``record_state=True``
        ``(E - I, {'M': ..., 'E': ..., 'I': ...})`` (Quantities in mV)."""
        col = self.column
        dt = col.step_dt()
        n_step = int(self.tr_ms / dt + 1e-9)
        if n_step < 1:
            raise ValueError(f"tr = {self.tr_ms} ms is shorter than dt = {dt} ms; one TR needs at least one step.")
        ext = self.k * jnp.asarray(magnitude(input), dtype=float)
        if iter_input and ext.shape[:1] != (n_step,):
            raise ValueError(f"input has shape {ext.shape}; with iter_input=True it must be ({n_step}, {self.n}), "
                             f"one row per step of the TR (tr / dt = {n_step}).")
        # one compiled TR per (dt, steps, input form and the values it holds as constants): a loop
        # of update() calls, brainmass's call pattern, compiles once instead of at every TR, and a
        # gain or column parameter changed between calls compiles a new one (never a stale value)
        held = self._held_values()
        if held is None:                      # traced values (inside a transformation): no cache
            M, activity = self._advance(ext, n_step, iter_input)
        else:
            key = (dt, n_step, bool(iter_input), held)
            cache = self.__dict__.setdefault("_tr_programs", {})
            if key not in cache:
                if len(cache) >= 8:
                    cache.clear()
                cache[key] = brainstate.transform.jit(lambda e: self._advance(e, n_step, iter_input))
            M, activity = cache[key](ext)
        if record_state:
            return activity, {"M": M * u.mV, "E": col.y1.value * u.mV, "I": col.y2.value * u.mV}
        return activity
