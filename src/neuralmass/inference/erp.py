r"""Event-related potentials (ERPs) of a Jansen–Rit column, batched over parameter sets.

The simulator drives one Jansen–Rit node (the single definition in
:mod:`neuralmass.models.jansen_rit`) with a stimulus on its extrinsic input ``p`` and returns the
evoked response of the EEG observable :math:`y_1 - y_2` (mV):

.. math::

    p(t) = p_0 + \Delta p\; g(t), \qquad
    g_\text{rect}(t) = \mathbb 1[0 \le t < w], \qquad
    g_\text{smooth}(t) = 2 \sin^2(\pi t / w)\, \mathbb 1[0 \le t < w]

(both pulses have the same area :math:`\Delta p\, w`). The node first relaxes for ``transient`` ms
at :math:`p_0`; the epoch runs from ``tmin`` to ``tmax`` around the stimulus onset, is
baseline-corrected (pre-stimulus mean removed) and block-averaged from the integration step to the
output rate ``fs``. Two kinds of response (``ERPConfig.n_trials``):

* ``0`` — the noise-free response (deterministic, the default);
* ``n > 0`` — the average of ``n`` trials, each with independent white input noise of standard
  deviation ``input_noise`` (Hz, for a 1 ms step; scaled by :math:`\sqrt{1\,\text{ms}/\Delta t}` so
  statistics do not depend on ``dt``), each trial starting from the relaxed state 300 ms before
  the epoch.

Sensors. The source ERP :math:`s(t)` is projected to EEG sensors by a lead-field column
:math:`g \in \mathbb R^{M}` (average reference): :math:`x_m(t) = g_m s(t)`. With ``tvb-data``
installed, :func:`eeg_gain` reads a column of the real 65-electrode head model of the 76-region
TVB connectivity; otherwise :func:`synthetic_gain` gives a documented dipolar pattern over
64 electrodes. Sensor noise is white, with a stated signal-to-noise ratio per sample

.. math::

    \mathrm{SNR_{dB}} = 10 \log_{10} \frac{\tfrac{1}{MT}\sum_{m,t} x_m(t)^2}{\sigma^2},

i.e. the noise variance :math:`\sigma^2` is set from each ERP's own mean sensor power
(:func:`add_sensor_noise`).

The engine. :func:`erp_source` is built from the library's pieces, not a loop of its own: the run
is :func:`neuralmass.engine.make_run_fn` on a one-node :class:`~neuralmass.engine.NodeSystem` of
the zoo's Jansen–Rit model, the input :math:`p(t)` is a :mod:`neuralmass.stimulus` stimulus
(:func:`erp_stimulus`: a :func:`~neuralmass.stimulus.constant` plus a
:func:`~neuralmass.stimulus.pulse` or :func:`~neuralmass.stimulus.smooth_pulse`), the input noise
is the engine's white noise on ``p``, and the synthetic lead fields are the dipole geometry of
:mod:`neuralmass.forward.leadfield`. The noise-free response equals the previous, hand-written
scan loop bit for bit (float32 and float64) whenever the step grid is exact in binary (``dt`` =
0.25, 0.5, 1 ms, ...); with a ``dt`` such as 0.1 ms the stimulus times are rounded differently
(the engine counts ``t = i dt`` from the start of the run) and the smooth pulse differs by
float rounding. Noisy trial averages draw the engine's counter-based normals, so they equal the
old ones in distribution, not draw for draw (docs/inference.md, "The ERP simulator on the
engine").

Batching. :func:`simulate_erps` runs chunks of parameter sets as the uncoupled nodes of one engine
run (:func:`erp_batch`), one compiled function per chunk size; :mod:`benchmarks/erp_sim.py`
measures the throughput.

The reference's unit error. Tilwani & O'Reilly (2025) wrote ``A``, ``B``, ``v0`` and the maximal
rate in volts while keeping ``r = 0.56`` per **mV**. :func:`volts_params` re-creates that by
passing such converted numbers into the *same* drift; the sigmoid then becomes nearly flat and
the model almost linear (see :func:`neuralmass.inference.diagnostics.erp_sensitivity`).

References
----------
Jansen, B. H., & Rit, V. G. (1995). Biol. Cybern. 73, 357–366.
Tilwani, D., & O'Reilly, C. (2025). Deep Jansen-Rit parameter inference for model-driven analysis
of brain activity. arXiv:2406.05002.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

import brainunit as u

from .. import stimulus as st
from .. import units as nmu
from ..engine import NodeSystem, default_params, make_run_fn
from ..forward.leadfield import synthetic_gain, synthetic_leadfield
from ..models.jansen_rit import JANSEN_RIT
from ..noise import NoiseSpec
from .priors import Prior

__all__ = ["ERPConfig", "stimulus", "erp_stimulus", "erp_source", "erp_batch", "simulate_erps", "volts_params",
           "synthetic_gain", "synthetic_leadfield", "eeg_gain", "eeg_leadfield", "project", "add_sensor_noise",
           "noise_sd_for_snr", "erp_times", "to_sensors_uv", "add_absolute_noise", "erp_flags",
           "DIPOLE_NAM_PER_MV"]

_WARMUP_MS = 300.0
_UV_PER_NAM = u.uvolt / (u.nA * u.meter)


@dataclass(frozen=True)
class ERPConfig:
    """Settings of the ERP simulation (times in ms, rates in Hz).

    Attributes
    ----------
    dt : float
        Integration step (ms). Default 0.25 ms with RK4: within 1 % (relative L2 error of the
        100 Hz ERP; median 0.35 %, worst 0.84 % over 64 draws each of two priors) of RK4 at 0.05 ms
        (``examples/erp_integration_accuracy.py``). Heun at 0.25 ms errs by up to 1.1 %; the
        reference's 1 ms steps by 1.6 % median and 12 % or more in the worst cases.
    integrator : {'heun', 'euler', 'rk4'}
    transient : float
        Relaxation at baseline input before the epoch (ms).
    tmin, tmax : float
        Epoch limits around stimulus onset (ms); default −200..1000 ms.
    fs : float
        Output sampling rate (Hz). Must divide 1000/dt.
    baseline_p : float
        Baseline extrinsic input p₀ (Hz). 90 Hz keeps the default column at a stable fixed point.
    pulse_amplitude : float
        Δp (Hz).
    pulse_width : float
        w (ms); 50 ms as in the reference.
    pulse_shape : {'rect', 'smooth'}
    n_trials : int
        0 for the noise-free response, else the number of averaged noisy trials.
    input_noise : float
        Standard deviation of the input noise (Hz at a 1 ms step).
    """

    dt: float = 0.25
    integrator: str = "rk4"
    transient: float = 800.0
    tmin: float = -200.0
    tmax: float = 1000.0
    fs: float = 250.0
    baseline_p: float = 90.0
    pulse_amplitude: float = 200.0
    pulse_width: float = 50.0
    pulse_shape: str = "rect"
    n_trials: int = 0
    input_noise: float = 0.0

    def __post_init__(self):
        if self.dt <= 0:
            raise ValueError(f"dt={self.dt} ms must be positive.")
        if self.pulse_shape not in ("rect", "smooth"):
            raise ValueError(f"pulse_shape={self.pulse_shape!r}; use 'rect' or 'smooth'.")
        if not self.tmax > 0 > self.tmin:
            raise ValueError(f"epoch ({self.tmin}, {self.tmax}) ms must contain the onset 0.")
        dec = self.decimation
        if abs(dec - round(dec)) > 1e-9 or round(dec) < 1:
            raise ValueError(f"fs={self.fs} Hz must divide the integration rate {1000 / self.dt} Hz; "
                             f"choose fs = {1000 / self.dt:g}/k.")
        for name in ("tmin", "tmax", "transient"):
            v = getattr(self, name) / (self.dt * round(dec))
            if abs(v - round(v)) > 1e-9:
                raise ValueError(f"{name}={getattr(self, name)} ms must be a multiple of the output "
                                 f"period {1000 / self.fs} ms.")

    @property
    def decimation(self) -> float:
        return 1000.0 / (self.dt * self.fs)

    @property
    def n_times(self) -> int:
        return int(round((self.tmax - self.tmin) * self.fs / 1000.0))

    def replace(self, **kw) -> "ERPConfig":
        return replace(self, **kw)


def erp_times(config: ERPConfig) -> np.ndarray:
    """Time (ms) of each output sample (start of each averaging block)."""
    return config.tmin + np.arange(config.n_times) * 1000.0 / config.fs


def erp_stimulus(config: ERPConfig, onset: float = 0.0) -> st.Stimulus:
    """The input :math:`p(t)` (Hz) of ``config`` as a :class:`neuralmass.stimulus.Stimulus`.

    The baseline :math:`p_0` at all times (:func:`~neuralmass.stimulus.constant` from
    :math:`-\\infty`) plus a :func:`~neuralmass.stimulus.pulse` (``pulse_shape='rect'``) or a
    :func:`~neuralmass.stimulus.smooth_pulse` (``'smooth'``) of amplitude :math:`\\Delta p` and
    width :math:`w` starting at ``onset`` (ms; the engine counts time from the start of its run).

    Parameters
    ----------
    config : ERPConfig
    onset : float
        Stimulus onset (ms) on the time axis the stimulus is evaluated on.

    Returns
    -------
    neuralmass.stimulus.Stimulus
    """
    shape = st.pulse if config.pulse_shape == "rect" else st.smooth_pulse
    return (st.constant(config.baseline_p, onset=-math.inf)
            + shape(onset, config.pulse_width, config.pulse_amplitude))


def stimulus(t, config: ERPConfig):
    """Extrinsic input p(t) in Hz at times ``t`` (ms, onset at 0): :func:`erp_stimulus` at ``t``."""
    return erp_stimulus(config)(jnp.asarray(t))


def volts_params(params: dict, scale_e0: bool = True) -> dict:
    """Re-create the reference's unit error: ``A``, ``B``, ``v0`` (and the maximal rate) in volts.

    The numbers are multiplied by 10⁻³ (mV → V) while ``r`` stays 0.56 per mV, and the result is fed
    to the same :func:`~neuralmass.models.jansen_rit.jansen_rit_drift`. ``scale_e0`` also scales
    ``e0`` as the reference wrote ``vmax = 0.005``. For demonstrations only.
    """
    out = dict(params)
    keys = ("A", "B", "v0") + (("e0",) if scale_e0 else ())
    for k in keys:
        out[k] = params[k] * 1e-3
    return out


def _steps(config: ERPConfig):
    """(relaxation steps without noise, noisy warm-up steps per trial, epoch steps)."""
    dt = config.dt
    n_tr = int(round(config.transient / dt))
    n_ep = int(round((config.tmax - config.tmin) / dt))
    stochastic = config.n_trials > 0 and config.input_noise > 0
    n_warm = int(round(_WARMUP_MS / dt)) if stochastic else 0
    if n_tr < n_warm:
        raise ValueError(f"transient={config.transient} ms must be at least {_WARMUP_MS} ms with input "
                         f"noise (n_trials={config.n_trials}, input_noise={config.input_noise}); "
                         f"raise transient or set input_noise=0.")
    return n_tr - n_warm, n_warm, n_ep


@lru_cache(maxsize=64)
def _engine_runs(config: ERPConfig, n: int = 1):
    """The engine runs of ``config`` for ``n`` columns at once: ``(relax, epoch, noise)``.

    The ``n`` columns are the ``n`` uncoupled nodes of one :class:`~neuralmass.engine.NodeSystem`
    (each with its own parameters). ``epoch`` is :func:`~neuralmass.engine.make_run_fn` over the
    lead-in (the whole transient without noise, the 300 ms warm-up with it) and the epoch,
    recording ``y1 - y2`` every step; ``relax`` (noisy trials only, else None) is the noise-free
    relaxation before the warm-up, returning its final state; ``noise`` is the canonical noise
    parameter tree of the epoch run.
    """
    with jax.ensure_compile_time_eval():   # built once, possibly while a caller is being traced
        return _build_runs(config, n)


def _build_runs(cfg: ERPConfig, n: int):
    dt = cfg.dt
    n_det, n_warm, n_ep = _steps(cfg)
    if n_warm == 0:          # noise-free: one run, transient + epoch
        system = NodeSystem(JANSEN_RIT, n, method=cfg.integrator)
        lead = n_det * dt
        relax = None
    else:                    # trials start from the relaxed state: lead-in is the noisy warm-up
        system = NodeSystem(JANSEN_RIT, n, method=cfg.integrator,
                            noise={"p": NoiseSpec("white", cfg.input_noise)})
        lead = n_warm * dt
        relax = None if n_det == 0 else make_run_fn(
            NodeSystem(JANSEN_RIT, n, method=cfg.integrator), dt, n_det * dt, monitors=["eeg"],
            period=n_det * dt, return_state=True,
            inputs={"p": st.constant(cfg.baseline_p, onset=-math.inf)})   # before the pulse: p0
    # the engine's time starts at the run's first step; the stimulus onset is the lead-in minus tmin
    onset = lead - cfg.tmin
    epoch = make_run_fn(system, dt, lead + n_ep * dt, transient=lead, monitors=["eeg"],
                        inputs={"p": erp_stimulus(cfg, onset=onset)})
    noise = jax.tree.map(float, default_params(system)["noise"])   # plain floats: any precision
    return relax, epoch, noise


def erp_batch(params: dict, config: ERPConfig = ERPConfig(), key=None):
    """Source ERPs (mV) of ``n`` parameter sets in one engine run: shape (n, config.n_times).

    The parameter sets are the ``n`` uncoupled Jansen–Rit nodes of one
    :class:`~neuralmass.engine.NodeSystem`, so every step works on arrays of ``n`` values (this
    is what :func:`simulate_erps` compiles; ``jax.vmap`` of :func:`erp_source` computes the same
    numbers with one lane per set, ~1.3x slower on CPUs: arrays of shape ``(n, 1)``).

    Parameters
    ----------
    params : dict
        Jansen–Rit parameters in canonical units, each a scalar or an array ``(n,)``; every name
        of :data:`~neuralmass.models.jansen_rit.JANSEN_RIT`.
    config : ERPConfig
    key : jax PRNG key, optional
        Needed for a noisy trial average: trial ``j`` runs with ``jax.random.split(key,
        n_trials)[j]``, whose white noise differs between the ``n`` columns (node ``i`` draws row
        ``i`` of the engine's normals), so a column's noise depends on ``n`` and its position.

    Returns
    -------
    jax.Array (n, config.n_times)
    """
    cfg = config
    n = max([int(np.size(v)) for v in params.values()] + [1])
    for k, v in params.items():
        if np.ndim(v) > 1 or np.size(v) not in (1, n):
            raise ValueError(f"params[{k!r}] has shape {np.shape(v)}; give a scalar or an array ({n},) "
                             f"(one value per parameter set).")
    dec = int(round(cfg.decimation))
    relax, epoch, noise = _engine_runs(cfg, n)
    node = dict(params)
    if relax is None and not noise:
        v = epoch({"node": node, "noise": {}}, 0)["eeg"]                      # (T, n)
    else:
        if key is None:
            raise ValueError("a noisy trial average (n_trials > 0, input_noise > 0) needs key=, e.g. "
                             "key=jax.random.PRNGKey(0).")
        x = None if relax is None else relax({"node": node, "noise": {}}, 0)["state"]
        p = {"node": node, "noise": noise}
        trials = jax.vmap(lambda k: epoch(p, k, state=x)["eeg"])(jax.random.split(key, cfg.n_trials))
        v = jnp.mean(trials, axis=0)
    v = v.T.reshape(n, cfg.n_times, dec).mean(axis=2)
    n_base = int(round(-cfg.tmin * cfg.fs / 1000.0))
    return v - jnp.mean(v[:, :n_base], axis=1, keepdims=True)


def erp_source(params: dict, config: ERPConfig = ERPConfig(), key=None):
    """Source ERP (mV) of one parameter set: ``y1 - y2`` over the epoch, baseline-corrected.

    Pure and differentiable in ``params`` (canonical units, scalars; vmap for batches, or
    :func:`erp_batch` for many sets in one run). The run is the engine's
    (:func:`neuralmass.engine.make_run_fn`, see the module docstring).

    Parameters
    ----------
    params : dict
        Jansen–Rit parameters in canonical units (every name of
        :data:`~neuralmass.models.jansen_rit.JANSEN_RIT`), e.g. from
        :meth:`~neuralmass.inference.priors.Prior.to_model_params`.
    config : ERPConfig
    key : jax PRNG key, optional
        Needed for a noisy trial average (``n_trials > 0`` and ``input_noise > 0``).

    Returns
    -------
    jax.Array, shape (config.n_times,)
    """
    return erp_batch({k: jnp.reshape(v, (1,)) for k, v in params.items()}, config, key)[0]


@lru_cache(maxsize=32)
def _batched_fn(config: ERPConfig, units_error: bool):
    def f(p, key):
        if units_error:
            p = volts_params(p)
        return erp_batch(p, config, key)
    return jax.jit(f)


def simulate_erps(theta, prior: Prior, config: ERPConfig = ERPConfig(), key=None, *,
                  batch_size: int = 1024, units_error: bool = False, progress: bool = False):
    """Source ERPs for many parameter sets.

    Parameters
    ----------
    theta : array (n, prior.dim)
        Parameter sets in the prior's user units (mV, s⁻¹).
    prior : Prior
        Gives names and unit conversion (:meth:`Prior.to_model_params`).
    config : ERPConfig
    key : jax PRNG key, optional
        Needed for noisy trial averages: chunk ``c`` runs :func:`erp_batch` with
        ``jax.random.fold_in(key, c)``, so the noise of a parameter set depends on the key, the
        ``batch_size`` and its place in the chunk (the same call gives the same numbers).
    batch_size : int
        Parameter sets per compiled call, simulated together as the nodes of one engine run
        (:func:`erp_batch`; the last chunk is padded).
    units_error : bool
        Re-create the reference's volts/mV mix (:func:`volts_params`).
    progress : bool
        Show a progress bar over chunks.

    Returns
    -------
    erps : np.ndarray (n, config.n_times), float32 (float64 under ``jax_enable_x64``), mV
    finite : np.ndarray (n,) bool — False where the simulation diverged (e.g. negative rates).
    """
    theta = np.asarray(theta, dtype=float)
    if theta.ndim != 2 or theta.shape[1] != prior.dim:
        raise ValueError(f"theta must have shape (n, {prior.dim}); got {theta.shape}.")
    n = theta.shape[0]
    key = jax.random.PRNGKey(0) if key is None else key
    bs = max(1, min(int(batch_size), n))
    fn = _batched_fn(config, bool(units_error))
    out = np.empty((n, config.n_times), dtype=jnp.result_type(float))   # JAX's default float
    chunks = range(0, n, bs)
    if progress:
        from tqdm.auto import tqdm
        chunks = tqdm(chunks, desc="ERP simulation", unit="chunk")
    for i in chunks:
        th = theta[i:i + bs]
        m = th.shape[0]
        if m < bs:  # pad to keep one compiled shape
            th = np.concatenate([th, np.repeat(th[-1:], bs - m, axis=0)])
        params = prior.to_model_params(jnp.asarray(th))
        base = {kk: jnp.broadcast_to(v, (bs,)) for kk, v in params.items()}
        out[i:i + m] = np.asarray(fn(base, jax.random.fold_in(key, i // bs)))[:m]
    finite = np.all(np.isfinite(out), axis=1) & (np.max(np.abs(np.nan_to_num(out)), axis=1) < 1e4)
    return out, finite


# ----------------------------------------------------------------------------- sensors
# synthetic_gain and synthetic_leadfield (the dipole geometry) live in neuralmass.forward.leadfield
def eeg_leadfield(source: str = "auto", region: int | str = 0, n_sensors: int = 64) -> tuple[np.ndarray, str]:
    """Lead-field column for one source region in µV/(nA·m), average-referenced.

    Sensor potentials in µV are ``gain * Q`` for a source dipole moment ``Q`` in nA·m.

    Parameters
    ----------
    source : {'auto', 'synthetic', 'tvb76_eeg65'}
        ``'tvb76_eeg65'`` reads the region lead field of the 76-region TVB connectivity (needs
        ``tvb-data``; its SI units are an assumption documented in
        :mod:`neuralmass.datasets.tvb`); ``'auto'`` uses it when available and otherwise
        :func:`synthetic_leadfield`.
    region : int or str
        Region index or label for the real head model.

    Returns
    -------
    gain : np.ndarray (n_sensors,) in µV/(nA·m)
    description : str
    """
    if source not in ("auto", "synthetic", "tvb76_eeg65"):
        raise ValueError(f"source={source!r}; use 'auto', 'synthetic' or 'tvb76_eeg65'.")
    if source != "synthetic":
        from ..datasets import load_dataset
        from ..datasets.tvb import TVBDataMissingError

        try:
            lf = load_dataset("tvb76_eeg65")
            L = np.asarray(nmu.magnitude(lf.L, _UV_PER_NAM), dtype=float)   # (regions, sensors)
            labels = [str(x) for x in lf.region_labels]
            if isinstance(region, str):
                if region not in labels:
                    raise ValueError(f"region={region!r} is not a tvb76 region; known: {', '.join(labels)}")
                idx = labels.index(region)
            else:
                idx = int(region)
            g = L[idx]
            return g - g.mean(), f"tvb76_eeg65 region {labels[idx]} ({g.size} electrodes)"
        except TVBDataMissingError:   # optional data absent: 'auto' falls back, explicit asks fail
            if source == "tvb76_eeg65":
                raise
    return synthetic_leadfield(n_sensors), f"synthetic dipolar lead field ({n_sensors} electrodes)"


def eeg_gain(source: str = "auto", region: int | str = 0, n_sensors: int = 64) -> tuple[np.ndarray, str]:
    """Lead-field column of :func:`eeg_leadfield` scaled to unit RMS (dimensionless shape only).

    Used with the per-ERP SNR convention, where only the spatial pattern matters.
    """
    if source == "synthetic":
        return synthetic_gain(n_sensors), f"synthetic dipolar lead field ({n_sensors} electrodes)"
    g, desc = eeg_leadfield(source, region, n_sensors)
    if "synthetic" in desc:
        return synthetic_gain(n_sensors), desc
    return g / np.sqrt(np.mean(g ** 2)), desc


def project(erps, gain):
    """Sensor data ``x[..., m, t] = gain[m] * erps[..., t]``."""
    return jnp.asarray(gain)[:, None] * jnp.asarray(erps)[..., None, :]


def noise_sd_for_snr(sensor, snr_db):
    """Noise sd giving ``snr_db`` relative to the mean power of ``sensor`` (over the last two axes)."""
    power = jnp.mean(jnp.asarray(sensor) ** 2, axis=(-2, -1), keepdims=True)
    return jnp.sqrt(power / 10.0 ** (jnp.asarray(snr_db) / 10.0))


def add_sensor_noise(sensor, key, snr_db):
    """Add white sensor noise at ``snr_db`` (dB, per ERP; ``None`` or ``inf`` for none)."""
    if snr_db is None or np.isinf(snr_db):
        return jnp.asarray(sensor)
    sensor = jnp.asarray(sensor)
    return sensor + noise_sd_for_snr(sensor, snr_db) * jax.random.normal(key, sensor.shape, sensor.dtype)


# ----------------------------------------------------------------------------- physical sensors
#: Default dipole moment per mV of the source ERP y1 − y2 (nA·m/mV); see :func:`to_sensors_uv`.
DIPOLE_NAM_PER_MV = 10.0


def to_sensors_uv(erps, leadfield, dipole_nAm_per_mV: float = DIPOLE_NAM_PER_MV):
    r"""Sensor ERPs in µV from source ERPs in mV: :math:`x_m(t) = L_m\, k\, s(t)`.

    Parameters
    ----------
    erps : array (..., T)
        Source ERPs :math:`s(t) = y_1 - y_2` in mV (:func:`simulate_erps`).
    leadfield : array (M,)
        Lead-field column in µV/(nA·m) (:func:`eeg_leadfield`).
    dipole_nAm_per_mV : float
        :math:`k`, the current-dipole moment of the modelled patch per mV of :math:`y_1 - y_2`.
        A modelling choice: the default 10 nA·m/mV turns the standard column's evoked deflection
        (a few mV) into tens of nA·m, the size of typical evoked sources (10–100 nA·m;
        Hämäläinen et al. 1993, Rev. Mod. Phys. 65:413), and with TVB's head model into scalp
        ERPs of a few µV.
    """
    if dipole_nAm_per_mV <= 0:
        raise ValueError(f"dipole_nAm_per_mV={dipole_nAm_per_mV} must be positive.")
    return project(dipole_nAm_per_mV * jnp.asarray(erps), leadfield)


def add_absolute_noise(sensor, key, sd_uv: float, n_trials: int = 1, average_reference: bool = True):
    """Add white sensor noise of fixed size (µV) to a trial-averaged sensor ERP.

    Each trial carries white noise of sd ``sd_uv`` per electrode and sample; the average of
    ``n_trials`` trials therefore carries sd ``sd_uv / sqrt(n_trials)`` (drawn directly). With
    ``average_reference`` the noise is re-referenced to the electrode mean, like the signal.
    Unlike :func:`add_sensor_noise` (SNR per ERP), small ERPs are then noisier than large ones, as
    in real recordings (ongoing EEG is ≈ 10 µV per trial).
    """
    if sd_uv < 0 or n_trials < 1:
        raise ValueError(f"sd_uv={sd_uv} must be ≥ 0 and n_trials={n_trials} ≥ 1.")
    sensor = jnp.asarray(sensor)
    e = (sd_uv / math.sqrt(n_trials)) * jax.random.normal(key, sensor.shape, sensor.dtype)
    if average_reference:
        e = e - jnp.mean(e, axis=-2, keepdims=True)
    return sensor + e


def erp_flags(erps, config: ERPConfig = ERPConfig(), max_amplitude_mV: float = 50.0,
              prestim_ratio: float = 0.1) -> dict:
    """Flag source ERPs that are not physiological responses.

    * ``too_large`` — peak :math:`|y_1 - y_2|` deflection above ``max_amplitude_mV`` (a choice:
      mean membrane-potential deflections of tens of mV are already extreme for a population);
    * ``prestim_oscillation`` — the pre-stimulus epoch (baseline) varies by more than
      ``prestim_ratio`` of the post-stimulus peak: the column oscillates (limit cycle) rather than
      resting at a fixed point before the stimulus, so the "response" is not an evoked potential;
    * ``ok`` — neither, and finite.

    ``erps``: (n, T) baseline-corrected source ERPs in mV from :func:`simulate_erps` with ``config``.
    """
    e = np.asarray(erps, dtype=float)
    n_base = int(round(-config.tmin * config.fs / 1000.0))
    finite = np.all(np.isfinite(e), axis=1)
    e = np.nan_to_num(e)
    peak = np.max(np.abs(e[:, n_base:]), axis=1)
    pre = np.ptp(e[:, :n_base], axis=1)
    too_large = peak > max_amplitude_mV
    osc = pre > prestim_ratio * np.maximum(peak, 1e-12)
    return dict(too_large=too_large, prestim_oscillation=osc, ok=finite & ~too_large & ~osc)
