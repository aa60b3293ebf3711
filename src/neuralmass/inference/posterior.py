r"""A trained amortized posterior that users can call, save and check.

:class:`Posterior` bundles everything needed to go from a sensor-level observation to parameter
draws: the embedding network and conditional flow (:class:`~.npe.PosteriorEstimator`), the input
preprocessing (matched filter with the lead-field column and/or :class:`~.estimators.InputScaler`),
the prior, the bijection to the flow's space (:class:`~.npe.ThetaTransform`) and the simulator
settings used in training (for posterior predictive checks).

* :meth:`Posterior.sample` — ``n`` draws of :math:`\theta \sim q(\theta\mid x_\text{obs})` in the
  prior's user units (mV, s⁻¹);
* :meth:`Posterior.log_prob` — :math:`\log q(\theta\mid x_\text{obs})` in those units: the flow's
  density of :math:`z = T(\theta)` plus :math:`\log\lvert\det \partial z/\partial\theta\rvert`
  (for the box prior :math:`z_i = \operatorname{logit}((\theta_i-\ell_i)/w_i)`, so
  :math:`\partial z_i/\partial\theta_i = 1 / (w_i u_i (1-u_i))`; for the normal prior
  :math:`1/\sigma_i`);
* :meth:`Posterior.save` / :meth:`Posterior.load` — one file: a JSON header (architecture,
  prior, preprocessing, simulator settings) followed by the arrays written with
  :func:`equinox.tree_serialise_leaves`;
* :func:`posterior_predictive` and :func:`plot_posterior_predictive` — simulate ERPs from
  posterior draws and compare them with the observation (matched-filter source course, 90 %
  predictive band).

Observations are arrays ``(n_sensors, n_times)`` in :attr:`Posterior.sensor_unit` (µV for
physical sensors; ``None`` for the unit-free convention of the per-ERP-SNR study, where a
brainunit Quantity is refused). Wrong shapes or units raise a ``ValueError`` naming what was
expected, before any computation.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .estimators import ConvEmbedding, InputScaler, SourceEmbedding, SourceMLP, matched_filter
from .npe import PosteriorEstimator, ThetaTransform, frozen_embedding, make_flow
from .priors import BoxUniform, Normal, Prior

__all__ = ["Posterior", "posterior_predictive", "plot_posterior_predictive", "build_estimator"]

_MAGIC = "neuralmass.Posterior/1"


def build_estimator(spec: dict, key=None) -> PosteriorEstimator:
    """Build an untrained :class:`~.npe.PosteriorEstimator` from an architecture ``spec``.

    ``spec`` keys: ``embedding`` (``'source'``, ``'conv'`` or ``'source_mlp_frozen'``),
    ``n_channels``, ``n_times``, ``dim``, ``cond_dim`` and optional ``emb_kw`` / ``flow_kw``.
    """
    key = jax.random.PRNGKey(0) if key is None else key
    ke, kf = jax.random.split(key)
    kind = spec["embedding"]
    kw = dict(spec.get("emb_kw", {}))
    if kind == "source":
        emb = SourceEmbedding(1, spec["n_times"], spec["cond_dim"], key=ke, **kw)
    elif kind == "conv":
        emb = ConvEmbedding(spec["n_channels"], spec["n_times"], spec["cond_dim"], key=ke, **kw)
    elif kind == "source_mlp_frozen":
        emb = frozen_embedding(SourceMLP(1, spec["n_times"], spec["cond_dim"], key=ke, **kw))
    else:
        raise ValueError(f"embedding={kind!r}; use 'source', 'conv' or 'source_mlp_frozen'.")
    return PosteriorEstimator(emb, make_flow(spec["dim"], spec["cond_dim"], key=kf, **spec.get("flow_kw", {})))


def _prior_to_json(prior: Prior) -> dict:
    kind = "uniform" if isinstance(prior, BoxUniform) else "normal"
    return dict(kind=kind, names=list(prior.names), ranges={k: list(map(float, v)) for k, v in prior.ranges.items()})


def _prior_from_json(d: dict) -> Prior:
    cls = BoxUniform if d["kind"] == "uniform" else Normal
    return cls(tuple(d["names"]), {k: tuple(v) for k, v in d["ranges"].items()})


def _config_to_json(cfg) -> dict | None:
    if cfg is None:
        return None
    from .paper import PaperERPConfig
    return dict(variant="paper" if isinstance(cfg, PaperERPConfig) else "erp", fields=asdict(cfg))


def _config_from_json(d):
    if d is None:
        return None
    from .erp import ERPConfig
    from .paper import PaperERPConfig
    return (PaperERPConfig if d["variant"] == "paper" else ERPConfig)(**d["fields"])


# An untrained estimator per architecture: the structure Posterior.load reads the arrays into.
# Built once per process, and with the 'unsafe_rbg' generator, whose draws compile several times
# faster than threefry's (the values are overwritten, so the generator does not matter; the
# study's flow: 10 s instead of 27 s on 2 loaded CPU cores). Loaded posteriors of one
# architecture share its static parts, so the compiled sampler and density below serve them all.
_TEMPLATES: dict = {}


def _template(spec: dict) -> PosteriorEstimator:
    k = json.dumps(spec, sort_keys=True)
    if k not in _TEMPLATES:
        _TEMPLATES[k] = build_estimator(spec, jax.random.key(0, impl="unsafe_rbg"))
    return _TEMPLATES[k]


@eqx.filter_jit
def _sample_z(estimator, key, x, n):
    return estimator.sample_z(key, x, n)


@eqx.filter_jit
def _log_prob_z(estimator, z, x):
    return jax.vmap(lambda zi: estimator.log_prob(zi, x))(z)


@dataclass
class Posterior:
    """A callable amortized posterior (see the module docstring).

    Attributes
    ----------
    estimator : PosteriorEstimator
    prior : Prior
    spec : dict
        Architecture (for :meth:`load`), see :func:`build_estimator`.
    gain : np.ndarray (n_sensors,)
        Lead-field column the training data were projected with (also the matched filter).
    scaler : InputScaler
    preprocess : {'source', 'sensor'}
        ``'source'``: matched filter then scaler (input ``(1, T)``); ``'sensor'``: scaler only.
    sensor_unit : str or None
        ``'uV'`` for physical sensors, ``None`` for unit-free sensor data.
    erp_config : ERPConfig or PaperERPConfig, optional
        Simulator settings (posterior predictive checks).
    to_sensor : float
        Factor from the simulator's source output to sensor units per unit gain (e.g. the dipole
        moment per output unit); sensors are ``to_sensor * gain[m] * s(t)``.
    """

    estimator: PosteriorEstimator
    prior: Prior
    spec: dict
    gain: np.ndarray
    scaler: InputScaler
    preprocess: str = "source"
    sensor_unit: str | None = None
    erp_config: object = None
    to_sensor: float = 1.0

    def __post_init__(self):
        if self.preprocess not in ("source", "sensor"):
            raise ValueError(f"preprocess={self.preprocess!r}; use 'source' or 'sensor'.")
        if self.sensor_unit not in (None, "uV"):
            raise ValueError(f"sensor_unit={self.sensor_unit!r}; use 'uV' or None.")
        self.gain = np.asarray(self.gain, dtype=np.float32)
        self.transform = ThetaTransform(self.prior)

    @property
    def n_sensors(self) -> int:
        return int(self.gain.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.spec["n_times"])

    # ------------------------------------------------------------------ observation handling
    def _check_obs(self, x_obs) -> jax.Array:
        import brainunit as u

        from ..units import to_numpy
        name = "x_obs"
        if isinstance(x_obs, u.Quantity):
            if self.sensor_unit is None:
                raise ValueError(f"{name} carries unit {u.get_unit(x_obs)}, but this posterior was trained on "
                                 "unit-free sensor data (per-ERP SNR convention); pass a plain array.")
            x = to_numpy(x_obs, name, u.uvolt, hint="pass an electric potential (e.g. µV: x * brainunit.uvolt)")
        else:
            if isinstance(x_obs, (str, bytes)):
                raise TypeError(f"{name} is a string; pass an array of shape ({self.n_sensors}, {self.n_times}).")
            x = np.asarray(x_obs, dtype=float)
        if x.ndim != 2 or x.shape != (self.n_sensors, self.n_times):
            unit = " in µV" if self.sensor_unit == "uV" else ""
            raise ValueError(f"{name} has shape {x.shape}; expected ({self.n_sensors} sensors, {self.n_times} "
                             f"samples){unit}, as in training (sampled at "
                             f"{getattr(self.erp_config, 'fs', '?')} Hz over the training epoch).")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains non-finite values.")
        return jnp.asarray(x, dtype=jnp.float32)

    def network_input(self, x_obs) -> jax.Array:
        """The preprocessed observation the embedding sees."""
        x = self._check_obs(x_obs)
        if self.preprocess == "source":
            x = matched_filter(x, self.gain)
        return self.scaler(x)

    # ------------------------------------------------------------------ posterior
    def sample(self, x_obs, n: int = 1000, key=None) -> np.ndarray:
        """``n`` posterior draws (n, dim) in the prior's user units for one observation."""
        if int(n) < 1:
            raise ValueError(f"n={n} must be a positive number of draws.")
        key = jax.random.PRNGKey(0) if key is None else key
        z = _sample_z(self.estimator, key, self.network_input(x_obs), int(n))
        return np.asarray(self.transform.inverse(z))

    def log_prob(self, theta, x_obs) -> np.ndarray:
        """Posterior log density of ``theta`` (..., dim) in user units given one observation."""
        theta = jnp.asarray(theta, dtype=jnp.float32)
        if theta.shape[-1] != self.prior.dim:
            raise ValueError(f"theta has last axis {theta.shape[-1]}; expected {self.prior.dim} "
                             f"({', '.join(self.prior.names)}).")
        x = self.network_input(x_obs)
        p = self.prior
        if isinstance(p, BoxUniform):
            u_ = (theta - p.low) / p.width
            inside = jnp.all((u_ > 0) & (u_ < 1), axis=-1)
            u_c = jnp.clip(u_, 1e-6, 1 - 1e-6)
            logdet = -jnp.sum(jnp.log(p.width * u_c * (1 - u_c)), axis=-1)
        else:
            inside = jnp.ones(theta.shape[:-1], bool)
            logdet = -jnp.sum(jnp.log(jnp.asarray(p.std, jnp.float32))) * jnp.ones(theta.shape[:-1])
        z = self.transform.forward(theta)
        lq = _log_prob_z(self.estimator, z.reshape(-1, p.dim), x).reshape(theta.shape[:-1])
        return np.asarray(jnp.where(inside, lq + logdet, -jnp.inf))

    # ------------------------------------------------------------------ persistence
    def _header(self) -> dict:
        return dict(format=_MAGIC, spec=self.spec, prior=_prior_to_json(self.prior), gain=self.gain.tolist(),
                    scaler=dict(scale=self.scaler.scale, transform=self.scaler.transform),
                    preprocess=self.preprocess, sensor_unit=self.sensor_unit,
                    erp_config=_config_to_json(self.erp_config), to_sensor=float(self.to_sensor))

    def save(self, path) -> Path:
        """Write the posterior to one file (JSON header + equinox-serialised arrays)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        eqx.tree_serialise_leaves(buf, self.estimator)
        with open(path, "wb") as f:
            f.write(json.dumps(self._header()).encode() + b"\n")
            f.write(buf.getvalue())
        return path

    @classmethod
    def load(cls, path) -> "Posterior":
        """Read a file written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no posterior file at {path}.")
        with open(path, "rb") as f:
            line = f.readline()
            try:
                h = json.loads(line)
            except ValueError:
                h = {}
            if h.get("format") != _MAGIC:
                raise ValueError(f"{path} is not a file written by Posterior.save ({_MAGIC}).")
            est = eqx.tree_deserialise_leaves(io.BytesIO(f.read()), _template(h["spec"]))
        return cls(est, _prior_from_json(h["prior"]), h["spec"], np.asarray(h["gain"]),
                   InputScaler(**h["scaler"]), h["preprocess"], h["sensor_unit"],
                   _config_from_json(h["erp_config"]), h["to_sensor"])


# ---------------------------------------------------------------------- predictive checks
def posterior_predictive(posterior: Posterior, x_obs, n: int = 100, key=None) -> dict:
    """Simulate the ERP of ``n`` posterior draws and compare it with the observation.

    Both the observation and the simulations are reduced to the matched-filter source course
    :math:`\\hat s = g^\\top x / \\lVert g\\rVert^2` (sensor noise is not added to the simulations,
    so the band shows parameter uncertainty only).

    Returns
    -------
    dict with ``times`` (ms), ``observed`` (T,), ``simulated`` (n_ok, T), ``theta`` (n_ok, dim),
    ``band90`` (2, T), ``coverage90`` (fraction of observed samples inside the band) and
    ``rmse`` (of the predictive mean), all in source units times ``to_sensor``.
    """
    if posterior.erp_config is None:
        raise ValueError("this posterior has no simulator settings (erp_config); cannot simulate.")
    key = jax.random.PRNGKey(0) if key is None else key
    x = np.asarray(posterior._check_obs(x_obs))
    theta = posterior.sample(x_obs, n, key)
    from .paper import PaperERPConfig, simulate_paper_erps
    cfg = posterior.erp_config
    if isinstance(cfg, PaperERPConfig):
        sims, ok = simulate_paper_erps(theta, posterior.prior, cfg)
        times = cfg.tmin + np.arange(cfg.n_times) * cfg.dt
    else:
        from .erp import erp_times, simulate_erps
        sims, ok = simulate_erps(theta, posterior.prior, cfg.replace(n_trials=0), jax.random.fold_in(key, 1))
        times = erp_times(cfg)
    g = posterior.gain.astype(float)
    obs = g @ x / np.sum(g * g) / posterior.to_sensor
    sims = sims[ok].astype(float)
    band = np.percentile(sims, [5, 95], axis=0)
    cov = float(np.mean((obs >= band[0]) & (obs <= band[1])))
    rmse = float(np.sqrt(np.mean((sims.mean(0) - obs) ** 2)))
    return dict(times=times, observed=obs, simulated=sims, theta=theta[ok], band90=band, coverage90=cov, rmse=rmse)


def plot_posterior_predictive(ppc: dict, ax=None, n_traces: int = 20):
    """Plot a :func:`posterior_predictive` result: observation, 90 % band and a few draws."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    t = ppc["times"]
    ax.fill_between(t, *ppc["band90"], color="C0", alpha=0.25, label="90 % posterior predictive")
    for s in ppc["simulated"][:n_traces]:
        ax.plot(t, s, color="C0", lw=0.5, alpha=0.4)
    ax.plot(t, ppc["observed"], color="k", lw=1.5, label="observed (matched filter)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("source ERP")
    ax.set_title(f"coverage {ppc['coverage90']:.2f}, RMSE {ppc['rmse']:.3g}")
    ax.legend(fontsize=7)
    return ax
