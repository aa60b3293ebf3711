r"""The reference's ERP simulator (Tilwani & O'Reilly 2025), re-implemented as an option.

Facts read from the reference's public code (``deepjr/simulation.py``: ``run_jr_simulation``,
``generate_stimulus``, ``EventRelatedExp``, ``JRSimulator.compute_raw_from_output``); the code
here is written independently.

Equations (time in s, forward Euler with the sampling step :math:`\Delta t = 1` ms):

.. math::

    \ddot y_0 &= A a\,[\,I_i(t) + S(y_1 - y_2)\,] - 2a\dot y_0 - a^2 y_0 \\
    \ddot y_1 &= A a\,[\,p(t) + I_p(t) + C_2 S(C_1 y_0)\,] - 2a\dot y_1 - a^2 y_1 \\
    \ddot y_2 &= B b\,[\,I_p(t) + C_4 S(C_3 y_0)\,] - 2b\dot y_2 - b^2 y_2

with :math:`S(v) = v_\max / (1 + e^{r (v_0 - v)})`, :math:`C_k = a_k C`, output
:math:`y_1 - y_2`. Unlike Jansen & Rit (1995), the stimulus drives all three populations:
:math:`I_p = 60\,I(t)` into the excitatory and the *inhibitory* interneurons and
:math:`I_i = 60 \cdot 0.56\, I(t)` into the pyramidal cells, where :math:`I(t)` is 1 for 50 ms
after each event. There is no baseline input (:math:`p(t)` is zero-mean noise, off by default).
Because the inhibitory population is driven directly, the ERP scales with ``B`` and is shaped by
``b``: raising B by ×1.5 changes it by ≈ 54 %, ``b`` 50 → 70 s⁻¹ by ≈ 33 %, while A changes it by
≈ 5 % and C by ≈ 0.1 % (``tests/test_inference.py::test_paper_simulator_sensitivity_pattern``).

Units (``units='paper'``, the reference's). ``A``, ``B``, ``v0`` and the maximal rate are
written in volts (3.25e-3, 22e-3, 6e-3 and 50e-3) while ``r = 0.56`` is per **mV**. The sigmoid's
argument then stays within ±0.1 over the prior's usual range, so it is almost flat, and its output
(≈ 0.025) is tiny next to the stimulus (60): the model is nearly linear and its ERP nearly the sum of
the synaptic kernels' responses to the pulse. ``units='mV'`` runs the same equations with potentials
in mV and the maximal rate :math:`2e_0 = 5` s⁻¹ of Jansen & Rit (1995) (``v0 = 6`` mV, ``r = 0.56``
mV⁻¹), restoring the nonlinearity.

Experiment. Initial state zero; 0.8 s transient + the 0.2 s pre-stimulus, then ``n_trials``
(60) events 1 s apart in a 61-s recording; epochs −0.2..1.0 s around each event (1201 samples
at 1 kHz), baseline-corrected on −0.2..0 s, averaged. The last epoch runs past the recording's end
and MNE drops it, so 59 epochs are averaged (:attr:`PaperERPConfig.n_epochs`). The ERP returned is that average of the noise-free
output (the reference's default has no input noise, ``jr_noise_sd = 0``), so sensor noise can be
added to the average directly (:func:`paper_sensor_noise`).

Sensors. The reference places the output, times ``gain = 1e-6`` A·m per unit of output, on every
source of a 10-mm patch of ``caudalmiddlefrontal-lh`` in MNE's fsaverage (oct6) forward model,
64 biosemi electrodes, average reference. We do not have that forward model; we use the TVB
EEG head model (:func:`~neuralmass.inference.erp.eeg_leadfield`, region ``lFEF``, which lies in the
caudal middle frontal gyrus) and a patch of ``n_sources = 13`` sources (a 10-mm-radius patch at
oct6's ≈ 5 mm spacing; an assumption). The dipole moment is therefore
:math:`Q(t) = 13 \times 10^{-6}\,\mathrm{A\,m} \times (y_1 - y_2)` with the output read in volts
(``units='mV'``: the mV output is converted to volts first).

Noise (:func:`paper_sensor_noise`). The reference adds white noise with MNE's ad-hoc EEG
covariance (sd 0.2 µV per electrode and sample) multiplied by ``noise_fact`` (so sd × √noise_fact)
to the raw recording, then averages 60 epochs: the averaged noise is white with sd
:math:`0.2\,\mu V \sqrt{\text{noise\_fact}/60}` per electrode, then average-referenced.
Simulations with non-finite values are dropped and outliers removed (mean absolute amplitude
outside the quartiles ± 3 IQR, :func:`clean_mask`), as in the reference.

References
----------
Tilwani, D., & O'Reilly, C. (2025). arXiv:2406.05002; code: github.com/lina-usc/
Jansen-Rit-Model-Benchmarking-Deep-Learning (``deepjr/simulation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from ..models.jansen_rit import jr_sigmoid
from .priors import Prior

__all__ = ["PaperERPConfig", "paper_erp_source", "simulate_paper_erps", "paper_dipole_moment",
           "paper_sensor_noise", "clean_mask", "PAPER_NOISE_SD_UV", "PAPER_TRANSFORMER_R"]

#: Reference transformer Pearson r at noise factor 1 (Tilwani & O'Reilly 2025, Fig. 4).
PAPER_TRANSFORMER_R = {"A": 0.12, "B": 0.99, "a": 0.54, "b": 0.93, "C": 0.17,
                       "a1": -0.05, "a2": 0.08, "a3": -0.03, "a4": 0.04}

#: MNE's ad-hoc EEG noise sd (V → µV), the reference's noise covariance before ``noise_fact``.
PAPER_NOISE_SD_UV = 0.2


@dataclass(frozen=True)
class PaperERPConfig:
    """The reference's experiment (times in ms, rates in Hz; see the module docstring).

    Attributes
    ----------
    units : {'paper', 'mV'}
        ``'paper'``: A, B, v0, v_max in volts with r per mV (the reference); ``'mV'``: consistent
        mV units with v_max = 5 s⁻¹.
    n_trials : int
        Events (60), one per ``isi`` ms after ``transient − tmin`` ms.
    stim_p : float
        Pulse amplitude into the interneurons (60).
    stim_i_factor : float
        The pyramidal input is ``stim_p * stim_i_factor`` (0.56).
    n_sources : int
        Sources in the patch carrying the output (13, an assumption, see module docstring).
    source_gain : float
        A·m per volt of output per source (1e-6, the reference's ``gain``).
    """

    units: str = "paper"
    n_trials: int = 60
    isi: float = 1000.0
    transient: float = 800.0
    tmin: float = -200.0
    tmax: float = 1000.0
    pulse_width: float = 50.0
    stim_p: float = 60.0
    stim_i_factor: float = 0.56
    n_sources: int = 13
    source_gain: float = 1e-6
    dt: float = 1.0

    def __post_init__(self):
        if self.units not in ("paper", "mV"):
            raise ValueError(f"units={self.units!r}; use 'paper' (the reference's volts/mV mix) or 'mV'.")
        if self.n_trials < 1:
            raise ValueError(f"n_trials={self.n_trials} must be at least 1.")
        if self.dt != 1.0:
            raise ValueError(f"dt={self.dt} ms: the reference integrates at its 1 kHz sampling step; keep dt=1.")
        if self.n_epochs < 1:
            raise ValueError(f"no epoch fits in the recording (n_trials={self.n_trials}, isi={self.isi} ms).")

    @property
    def fs(self) -> float:
        return 1000.0 / self.dt

    @property
    def n_times(self) -> int:
        return int(round((self.tmax - self.tmin) / self.dt)) + 1   # both ends included (MNE epochs)

    @property
    def events(self) -> np.ndarray:
        """Sample index of each stimulus onset."""
        first = int(round((self.transient - self.tmin) / self.dt))
        return first + np.arange(self.n_trials) * int(round(self.isi / self.dt))

    @property
    def n_samples(self) -> int:
        """Length of the recording: transient + pre-stimulus + n_trials × isi (61 000 samples)."""
        return int(round((self.transient - self.tmin + self.n_trials * self.isi) / self.dt))

    @property
    def epoch_events(self) -> np.ndarray:
        """Events whose whole epoch lies in the recording (MNE drops the others: 59 of 60)."""
        ev = self.events
        return ev[ev + int(round(self.tmax / self.dt)) < self.n_samples]

    @property
    def n_epochs(self) -> int:
        return len(self.epoch_events)

    def replace(self, **kw) -> "PaperERPConfig":
        return replace(self, **kw)


def _paper_constants(units):
    if units == "paper":
        return dict(scale=1e-3, v0=6e-3, vmax=50e-3, r=0.56)
    return dict(scale=1.0, v0=6.0, vmax=5.0, r=0.56)


def paper_erp_source(theta: dict, config: PaperERPConfig = PaperERPConfig()):
    """Trial-averaged, baseline-corrected output ``y1 - y2`` of the reference's model.

    Parameters
    ----------
    theta : dict
        ``A, B`` (mV), ``a, b`` (s⁻¹), ``C``, ``a1..a4`` as scalars (user units of
        :class:`~neuralmass.inference.priors.Prior`); converted here to the variant's units.
    config : PaperERPConfig

    Returns
    -------
    jax.Array (config.n_times,) in the model's output unit: "volts" for ``units='paper'``, mV for
    ``units='mV'``.
    """
    k = _paper_constants(config.units)
    A, B = theta["A"] * k["scale"], theta["B"] * k["scale"]
    a, b = theta["a"], theta["b"]
    C = theta["C"]
    C1, C2, C3, C4 = C * theta["a1"], C * theta["a2"], C * theta["a3"], C * theta["a4"]
    e0 = 0.5 * k["vmax"]
    S = lambda v: jr_sigmoid(v, e0, k["v0"], k["r"])  # noqa: E731
    dt = config.dt * 1e-3  # s
    n = config.n_samples
    stim = np.zeros(n)
    w = int(round(config.pulse_width / config.dt))
    for e in config.events:
        stim[e:e + w] = 1.0
    Ip = jnp.asarray(config.stim_p * stim)
    Ii = jnp.asarray(config.stim_p * config.stim_i_factor * stim)

    def step(y, u):
        ip, ii = u
        y0, y1, y2, y3, y4, y5 = y
        d3 = A * a * (ii + S(y1 - y2)) - 2 * a * y3 - a * a * y0
        d4 = A * a * (ip + C2 * S(C1 * y0)) - 2 * a * y4 - a * a * y1
        d5 = B * b * (ip + C4 * S(C3 * y0)) - 2 * b * y5 - b * b * y2
        new = (y0 + dt * y3, y1 + dt * y4, y2 + dt * y5, y3 + dt * d3, y4 + dt * d4, y5 + dt * d5)
        return new, new[1] - new[2]

    z = jnp.zeros_like(jnp.asarray(A, dtype=float))
    _, out = jax.lax.scan(step, (z,) * 6, (Ip[:-1], Ii[:-1]))
    out = jnp.concatenate([jnp.zeros(1, out.dtype), out])  # sample 0: the initial state
    idx = config.epoch_events[:, None] + np.arange(int(round(config.tmin / config.dt)),
                                             int(round(config.tmax / config.dt)) + 1)[None]
    epochs = out[jnp.asarray(idx)]
    n_base = int(round(-config.tmin / config.dt)) + 1  # tmin..0 inclusive, as MNE's (None, 0)
    epochs = epochs - jnp.mean(epochs[:, :n_base], axis=1, keepdims=True)
    return jnp.mean(epochs, axis=0)


@lru_cache(maxsize=8)
def _batched(config: PaperERPConfig):
    return jax.jit(jax.vmap(lambda th: paper_erp_source(th, config)))


def simulate_paper_erps(theta, prior: Prior, config: PaperERPConfig = PaperERPConfig(), *,
                        batch_size: int = 256, progress: bool = False):
    """Source ERPs of the reference's model for many parameter sets.

    Parameters
    ----------
    theta : array (n, prior.dim), user units (mV, s⁻¹); parameters the prior does not hold take
        the reference's typical values (A 3.25 mV, B 22 mV, a 100 s⁻¹, b 50 s⁻¹, C 135,
        a1..a4 = 1, 0.8, 0.25, 0.25).

    Returns
    -------
    erps : np.ndarray (n, config.n_times) float32 (float64 under ``jax_enable_x64``), the model's output unit
    finite : np.ndarray (n,) bool
    """
    theta = np.asarray(theta, dtype=float)
    if theta.ndim != 2 or theta.shape[1] != prior.dim:
        raise ValueError(f"theta must have shape (n, {prior.dim}); got {theta.shape}.")
    typical = dict(A=3.25, B=22.0, a=100.0, b=50.0, C=135.0, a1=1.0, a2=0.8, a3=0.25, a4=0.25)
    n = len(theta)
    bs = max(1, min(int(batch_size), n))
    fn = _batched(config)
    out = np.empty((n, config.n_times), dtype=jnp.result_type(float))   # JAX's default float
    chunks = range(0, n, bs)
    if progress:
        from tqdm.auto import tqdm
        chunks = tqdm(chunks, desc="reference ERPs", unit="chunk")
    for i in chunks:
        th = theta[i:i + bs]
        m = len(th)
        if m < bs:
            th = np.concatenate([th, np.repeat(th[-1:], bs - m, axis=0)])
        d = {k: jnp.full((bs,), v) for k, v in typical.items()}
        for j, nm in enumerate(prior.names):
            d[nm] = jnp.asarray(th[:, j])
        with np.errstate(all="ignore"):
            out[i:i + m] = np.asarray(fn(d))[:m]
    finite = np.all(np.isfinite(out), axis=1)
    return out, finite


def paper_dipole_moment(erps, config: PaperERPConfig = PaperERPConfig()):
    """Dipole moment (nA·m) of the patch: ``n_sources × source_gain × output[V]``."""
    to_volts = 1.0 if config.units == "paper" else 1e-3
    return np.asarray(erps) * to_volts * config.source_gain * config.n_sources * 1e9


def paper_sensor_noise(key, shape, noise_fact: float, n_trials: int = 59, sd_uv: float = PAPER_NOISE_SD_UV):
    """Averaged, average-referenced sensor noise (µV) of the reference, shape ``(..., M, T)``.

    ``n_trials`` is the number of averaged epochs (:attr:`PaperERPConfig.n_epochs`, 59).
    White with sd ``sd_uv * sqrt(noise_fact / n_trials)`` per electrode and sample, then the mean over
    electrodes removed (average reference).
    """
    if noise_fact < 0:
        raise ValueError(f"noise_fact={noise_fact} must be non-negative.")
    e = jax.random.normal(key, shape) * (sd_uv * np.sqrt(noise_fact / n_trials))
    return e - jnp.mean(e, axis=-2, keepdims=True)


def clean_mask(x, k: float = 3.0) -> np.ndarray:
    """Keep finite simulations whose mean |x| lies within the quartiles ± k·IQR (the reference's rule).

    ``x``: (n, ...) array; returns a boolean mask (n,).
    """
    x = np.asarray(x)
    flat = x.reshape(len(x), -1)
    finite = np.all(np.isfinite(flat), axis=1)
    with np.errstate(all="ignore"):
        m = np.where(finite, np.mean(np.abs(np.nan_to_num(flat)), axis=1), np.nan)
    q1, q3 = np.nanpercentile(m[finite], [25, 75])
    return finite & (m > q1 - k * (q3 - q1)) & (m < q3 + k * (q3 - q1))
