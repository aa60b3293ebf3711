r"""Priors over the Jansen–Rit parameters inferred from event-related potentials.

The nine inferred parameters and their ranges follow Tilwani & O'Reilly (2025, arXiv 2406.05002),
whose names differ from ours:

=========  ======  ============  ===================================================
paper      ours    range         meaning
=========  ======  ============  ===================================================
``A_e``    ``A``   2.6–9.75 mV   excitatory synaptic gain
``A_i``    ``B``   17.6–110 mV   inhibitory synaptic gain
``b_e``    ``a``   5–150 s⁻¹     excitatory rate constant (1/τ_e)
``b_i``    ``b``   25–75 s⁻¹     inhibitory rate constant (1/τ_i)
``C``      ``C``   65–1350       average number of synaptic contacts
``a1..a4`` same    see table     multipliers, C1..C4 = C·[a1, a2, a3, a4]
=========  ======  ============  ===================================================

Two families:

* :class:`BoxUniform` (default): independent uniforms on the ranges — every sample is a valid model.
* :class:`Normal`: the reference's choice, a normal centred in the range with sd = range/4, **not
  truncated**. About 1.6 % of its ``b_e`` draws are negative (a negative rate constant makes the
  synaptic kernel grow without bound); simulations flag such draws as non-finite.

Presets (:func:`prior_preset`, or ``make_prior(preset=...)``):

* ``'reference'`` — the nine parameters on the reference's ranges (the default);
* ``'nonsaturated'`` — the same with ``C`` restricted to 65–300. For ``C`` above about 300 the
  interneuron sigmoids :math:`S(C_1 y_0)`, :math:`S(C_3 y_0)` saturate at rest, the inhibitory
  loop delivers a constant and the ERP stops depending on ``B``, ``b`` and ``a1..a4``
  (:func:`~neuralmass.inference.diagnostics.erp_sensitivity`);
* ``'jr95'`` — the five parameters ``A, B, a, b, C`` with ``C`` in 65–300 and the multipliers
  fixed at Jansen & Rit's (1995) values ``a1..a4 = 1, 0.8, 0.25, 0.25``. The drift depends on
  ``C`` and ``a1..a4`` only through the products :math:`C_k = a_k C`, and on ``B`` only through
  :math:`B C_4` (for this library's stimulus, which enters only the excitatory interneurons'
  input; the reference's stimulus into the inhibitory population breaks the second one); these
  exact scaling symmetries
  (:func:`~neuralmass.inference.diagnostics.symmetry_residuals`) make ``C``, ``a1..a4`` and ``B``
  non-identifiable when all nine vary. Fixing the multipliers removes both symmetries.

Parameter vectors ``theta`` have shape ``(..., 9)`` in the *user* units of the table above (mV and
s⁻¹); :meth:`Prior.to_model_params` converts them to the canonical units of
:data:`neuralmass.models.jansen_rit.JANSEN_RIT` (mV and ms⁻¹) through the model's own table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..models.jansen_rit import JANSEN_RIT

__all__ = ["PARAM_NAMES", "PAPER_NAMES", "PAPER_TO_OURS", "OURS_TO_PAPER", "REFERENCE_RANGES",
           "PRESETS", "Prior", "BoxUniform", "Normal", "make_prior", "prior_preset"]

PARAM_NAMES = ("A", "B", "a", "b", "C", "a1", "a2", "a3", "a4")
PAPER_NAMES = ("A_e", "A_i", "b_e", "b_i", "C", "a1", "a2", "a3", "a4")
PAPER_TO_OURS = dict(zip(PAPER_NAMES, PARAM_NAMES))
OURS_TO_PAPER = dict(zip(PARAM_NAMES, PAPER_NAMES))
REFERENCE_RANGES = {
    "A": (2.6, 9.75), "B": (17.6, 110.0), "a": (5.0, 150.0), "b": (25.0, 75.0),
    "C": (65.0, 1350.0), "a1": (0.5, 1.5), "a2": (0.4, 1.2), "a3": (0.125, 0.375),
    "a4": (0.125, 0.375),
}


#: Named priors: (names, range overrides). See the module docstring.
PRESETS = {
    "reference": (PARAM_NAMES, {}),
    "nonsaturated": (PARAM_NAMES, {"C": (65.0, 300.0)}),
    "jr95": (("A", "B", "a", "b", "C"), {"C": (65.0, 300.0)}),
}


def _resolve(names):
    out = []
    for n in names:
        n2 = PAPER_TO_OURS.get(n, n)
        if n2 not in JANSEN_RIT.param_names:
            raise ValueError(f"parameter name {n!r} is not a Jansen–Rit parameter; use one of "
                             f"{PARAM_NAMES} (or the paper's names {PAPER_NAMES}).")
        out.append(n2)
    return tuple(out)


@dataclass(frozen=True)
class Prior:
    """Base class: names, ranges (user units) and conversion to model parameters.

    Attributes
    ----------
    names : tuple of str
        Our parameter names (``A, B, a, b, C, a1..a4`` by default).
    low, high : np.ndarray
        The ranges, in the units of :attr:`units`.
    """

    names: tuple = PARAM_NAMES
    ranges: dict = field(default_factory=lambda: dict(REFERENCE_RANGES))

    def __post_init__(self):
        names = _resolve(self.names)
        object.__setattr__(self, "names", names)
        rng = {PAPER_TO_OURS.get(k, k): v for k, v in self.ranges.items()}
        for n in names:
            if n not in rng:
                rng[n] = JANSEN_RIT.param(n).bounds
            lo, hi = rng[n]
            if not hi > lo:
                raise ValueError(f"range for {n} is ({lo}, {hi}); the upper bound must exceed the lower.")
        object.__setattr__(self, "ranges", rng)

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def low(self) -> np.ndarray:
        return np.array([self.ranges[n][0] for n in self.names], dtype=float)

    @property
    def high(self) -> np.ndarray:
        return np.array([self.ranges[n][1] for n in self.names], dtype=float)

    @property
    def width(self) -> np.ndarray:
        return self.high - self.low

    @property
    def paper_names(self) -> tuple:
        return tuple(OURS_TO_PAPER.get(n, n) for n in self.names)

    @property
    def units(self) -> tuple:
        """The unit of each parameter (brainunit Unit or None for dimensionless)."""
        return tuple(JANSEN_RIT.param(n).unit for n in self.names)

    def unit_labels(self) -> tuple:
        return tuple("" if un is None else str(un) for un in self.units)

    # --- to implement
    def sample(self, key, n: int):
        raise NotImplementedError

    def log_prob(self, theta):
        raise NotImplementedError

    @property
    def mean(self) -> np.ndarray:
        return 0.5 * (self.low + self.high)

    @property
    def std(self) -> np.ndarray:
        raise NotImplementedError

    # --- conversions
    def to_model_params(self, theta, base: dict | None = None) -> dict:
        """Canonical Jansen–Rit parameter dict for ``theta`` of shape ``(..., dim)``.

        Parameters not inferred take their defaults (or the values in ``base``, canonical units).
        Unit conversion uses each parameter's factor from the model table (Hz → ms⁻¹).
        """
        theta = jnp.asarray(theta)
        if theta.shape[-1] != self.dim:
            raise ValueError(f"theta has last axis {theta.shape[-1]}, expected {self.dim} "
                             f"({', '.join(self.names)}).")
        out = dict(JANSEN_RIT.default_params() if base is None else base)
        for i, n in enumerate(self.names):
            out[n] = theta[..., i] * JANSEN_RIT.param(n).factor
        return out

    def to_unit(self, theta):
        """Map ``theta`` to the unit box (min-max scaling with the prior ranges)."""
        return (np.asarray(theta) - self.low) / self.width

    def from_unit(self, z):
        return self.low + np.asarray(z) * self.width

    def describe(self) -> str:
        rows = [f"{'paper':6s} {'ours':4s} {'low':>9s} {'high':>9s} unit"]
        for n, p, lo, hi, un in zip(self.names, self.paper_names, self.low, self.high, self.unit_labels()):
            rows.append(f"{p:6s} {n:4s} {lo:9.4g} {hi:9.4g} {un}")
        return "\n".join(rows)


@dataclass(frozen=True)
class BoxUniform(Prior):
    """Independent uniform priors on the ranges (the default)."""

    def sample(self, key, n: int):
        u_ = jax.random.uniform(key, (int(n), self.dim))
        return np.asarray(self.low + np.asarray(u_) * self.width)

    def log_prob(self, theta):
        theta = np.asarray(theta)
        inside = np.all((theta >= self.low) & (theta <= self.high), axis=-1)
        return np.where(inside, -np.sum(np.log(self.width)), -np.inf)

    @property
    def std(self) -> np.ndarray:
        return self.width / np.sqrt(12.0)


@dataclass(frozen=True)
class Normal(Prior):
    """The reference's prior: normal centred in the range, sd = range/4, untruncated."""

    def sample(self, key, n: int):
        z = np.asarray(jax.random.normal(key, (int(n), self.dim)))
        return self.mean + z * self.std

    def log_prob(self, theta):
        z = (np.asarray(theta) - self.mean) / self.std
        return np.sum(-0.5 * z ** 2 - np.log(self.std * np.sqrt(2 * np.pi)), axis=-1)

    @property
    def std(self) -> np.ndarray:
        return self.width / 4.0


def make_prior(kind: str = "uniform", names=PARAM_NAMES, ranges=None, *, preset: str | None = None,
               **range_overrides) -> Prior:
    """Build a prior.

    Parameters
    ----------
    kind : {'uniform', 'normal'}
        :class:`BoxUniform` (default) or the reference's untruncated :class:`Normal`.
    names : tuple of str
        Inferred parameters (ours or the paper's names); the others keep the model defaults.
    ranges : dict, optional
        Ranges replacing the reference's (missing names fall back to the model's bounds).
    preset : {'reference', 'nonsaturated', 'jr95'}, optional
        A named prior (see the module docstring); overrides ``names``.
    **range_overrides : (low, high)
        Per-parameter ranges, e.g. ``make_prior('uniform', C=(65, 300))``.
    """
    ranges = dict(REFERENCE_RANGES) if ranges is None else dict(ranges)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"preset={preset!r} is unknown; use one of {sorted(PRESETS)}.")
        names, extra = PRESETS[preset]
        ranges.update(extra)
    for k, v in range_overrides.items():
        if np.shape(v) != (2,):
            raise ValueError(f"range override {k}={v!r} must be a (low, high) pair.")
        ranges[PAPER_TO_OURS.get(k, k)] = (float(v[0]), float(v[1]))
    kind = str(kind).lower()
    if kind in ("uniform", "box", "boxuniform"):
        return BoxUniform(tuple(names), ranges)
    if kind in ("normal", "gaussian", "reference"):
        return Normal(tuple(names), ranges)
    raise ValueError(f"prior kind={kind!r} is unknown; use 'uniform' or 'normal'.")


def prior_preset(name: str, kind: str = "uniform") -> Prior:
    """A named prior: ``'reference'``, ``'nonsaturated'`` or ``'jr95'`` (module docstring)."""
    return make_prior(kind, preset=name)
