r"""EEG/MEG forward models: region activity → sensors through a lead field.

.. math::

    \mathbf y(t) = \big(\mathrm{scale}\cdot \mathbf s(t)\big)\,\mathbf L + \boldsymbol\varepsilon(t),
    \qquad \boldsymbol\varepsilon(t) \sim \mathcal N(\mathbf 0, \boldsymbol\Sigma)

with :math:`\mathbf s(t) \in \mathbb R^R` a neural-mass observable per region (e.g. the
pyramidal membrane potential in mV), ``scale`` the conversion to an equivalent current dipole
moment (e.g. ``2 * u.nA * u.meter / u.mV``), :math:`\mathbf L \in \mathbb R^{R \times M}` the
region-level lead field (EEG in V/(nA·m), MEG in T/(nA·m)) and :math:`\boldsymbol\Sigma` the
sensor-noise covariance (Hämäläinen et al. 1993; Nunez & Srinivasan 2006).

Units are *converted*, not just labelled: the constructor folds ``scale`` and ``L`` into one
matrix in ``sensor_unit`` per source unit, so a source in mV times ``nA·m/mV`` times
``V/(nA·m)`` comes out in V, or in µV when ``sensor_unit=u.uvolt``.

References
----------
Hämäläinen M., Hari R., Ilmoniemi R.J., Knuutila J., Lounasmaa O.V. (1993)
Magnetoencephalography — theory, instrumentation, and applications to noninvasive studies of
the working human brain. Rev. Mod. Phys. 65, 413–497.
Nunez P.L., Srinivasan R. (2006) Electric Fields of the Brain, 2nd ed. Oxford University Press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..typing import Array
from ..units import UnitMismatchError, is_quantity, magnitude, to_canonical, to_numpy, unit_factor

__all__ = ["LeadfieldReadout", "LeadFieldModel", "EEGLeadFieldModel", "MEGLeadFieldModel", "RegionLeadField",
           "dipole_potentials", "average_reference", "hemisphere_electrodes", "synthetic_gain",
           "synthetic_leadfield", "SYNTHETIC_DIPOLE_DIRECTION", "region_leadfield_from_vertices"]


# dimensions a neural-mass observable may have (what ``scale`` converts from)
_SOURCE_DIMS = {
    "dimensionless": u.UNITLESS.dim if hasattr(u, "UNITLESS") else (1.0 * u.mV / u.mV).dim,
    "voltage": u.volt.dim,
    "current": u.amp.dim,
    "rate": u.Hz.dim,
    "dipole moment": (u.amp * u.meter).dim,
}


def _unit_str(unit) -> str:
    return str(unit)


def _is_batch_tracer(x) -> bool:
    return any(type(t).__name__ == "BatchTracer" for t in jax.tree.leaves(x))


def average_reference(y: Array, axis: int = -1) -> Array:
    """Common-average reference: ``y`` minus its mean over the sensors (``axis``); NumPy in,
    NumPy out (JAX in, JAX out)."""
    return y - y.mean(axis=axis, keepdims=True)


class LeadFieldModel(brainstate.nn.Module):
    r"""Unit-aware linear lead-field forward model :math:`y = (\mathrm{scale}\cdot s)\,L + \varepsilon`.

    Parameters
    ----------
    in_size : int
        Number of regions ``R``.
    out_size : int
        Number of sensors ``M``.
    L : array or Quantity, shape ``(R, M)``
        Lead field. A Quantity must have the dimension of ``sensor_unit / dipole_unit`` (any
        prefix: fT/(nA·m) is converted). A plain array is read in ``leadfield_unit``.
    sensor_unit : Unit
        Unit of the output (default mV, as in the published API; :class:`EEGLeadFieldModel`
        uses V, :class:`MEGLeadFieldModel` T). ``u.uvolt`` or ``u.ftesla`` give µV or fT.
    dipole_unit : Unit
        Unit of the equivalent current dipole (default nA·m).
    scale : float or Quantity, optional
        Observable → dipole conversion. A Quantity such as ``2 * u.nA * u.meter / u.mV`` fixes
        the *source unit* (here mV): Quantity inputs are converted to it and plain inputs are read
        in it. A plain float (or ``None`` = 1) means the inputs are already dipole moments in
        ``dipole_unit``.
    noise_cov : array or Quantity, shape ``(M, M)``, optional
        Sensor-noise covariance (a Quantity in ``sensor_unit**2`` units, or plain numbers read in
        ``sensor_unit**2``). Noise is drawn independently for every time step and batch lane.
    reference : {None, 'average'}
        ``'average'`` re-references every sample to the mean over sensors (EEG).
    leadfield_unit : Unit, optional
        Unit of a plain ``L`` (default ``sensor_unit / dipole_unit``).
    dipole_scale : float or Quantity, optional
        Alias of ``scale`` (as written in the forward-modelling guide).
    name : str, optional

    Notes
    -----
    ``update(x, key=None)`` accepts ``(R,)``, ``(T, R)`` or ``(B, T, R)`` inputs and returns a
    Quantity in ``sensor_unit`` with the last axis replaced by ``M``. It keeps no state, so
    ``jax.vmap(model)(x)`` equals ``model(x)``. When noise is enabled, pass ``key=`` (a JAX PRNG
    key; under ``jax.vmap`` pass one key per lane, ``jax.vmap(model)(x, keys)``); without a key,
    one is taken from ``brainstate.random``. A vmapped call without keys raises an error rather
    than reuse one noise draw for every lane.

    Examples
    --------
    >>> import brainunit as u, jax.numpy as jnp
    >>> L = jnp.ones((68, 64)) * u.volt / (u.nA * u.meter)
    >>> eeg = LeadFieldModel(68, 64, L, sensor_unit=u.uvolt, scale=2 * u.nA * u.meter / u.mV)
    >>> y = eeg(jnp.ones((10, 68)) * u.mV)     # (10, 64) in µV: 68 * 2 * 1e6 = 1.36e8 µV
    """

    _default_sensor_unit = u.mV
    _sensor_kind = None   # (description, allowed dimensions) or None

    def __init__(self, in_size: int, out_size: int, L: Array, sensor_unit: Any = None,
                 dipole_unit: Any = u.nA * u.meter, scale: Array | None = None, noise_cov: Array | None = None,
                 reference: str | None = None, leadfield_unit: Any = None, dipole_scale: Array | None = None,
                 name: str | None = None) -> None:
        super().__init__(name=name)
        sensor_unit = self._default_sensor_unit if sensor_unit is None else sensor_unit
        self.sensor_unit = self._check_sensor_unit(sensor_unit)
        self.dipole_unit = dipole_unit
        self.in_size_ = int(np.prod(in_size))
        self.out_size_ = int(np.prod(out_size))
        self.L = self._convert_leadfield(L, leadfield_unit)
        if scale is not None and dipole_scale is not None:
            raise ValueError("pass either scale= or dipole_scale= (they are the same), not both.")
        self.scale = dipole_scale if scale is None else scale
        self.source_unit, self.scale_value = self._convert_scale(self.scale)
        # one matrix: source unit -> sensor unit
        self.gain = self.scale_value * self.L
        self.noise_cov = None if noise_cov is None else self._convert_cov(noise_cov)
        self.noise_factor = None if self.noise_cov is None else _psd_sqrt(self.noise_cov)
        if reference not in (None, "average"):
            raise ValueError(f"reference={reference!r} is not known; use None or 'average'.")
        self.reference = reference

    # ----------------------------------------------------------------- construction helpers
    def _check_sensor_unit(self, unit):
        if self._sensor_kind is not None:
            what, dims = self._sensor_kind
            if unit.dim not in dims:
                raise UnitMismatchError(
                    f"sensor_unit={_unit_str(unit)} is not a unit of {what}; pass e.g. "
                    f"{'u.volt or u.uvolt' if what == 'electric potential' else 'u.tesla or u.ftesla'}.")
        return unit

    def _convert_leadfield(self, L, leadfield_unit):
        target = self.sensor_unit / self.dipole_unit
        if callable(L) and not is_quantity(L) and not hasattr(L, "shape"):
            L = L()
        if is_quantity(L):
            if L.dim != target.dim:
                raise UnitMismatchError(
                    f"L has unit {u.get_unit(L)}, but a lead field for sensor_unit="
                    f"{_unit_str(self.sensor_unit)} and dipole_unit={_unit_str(self.dipole_unit)} "
                    f"must be in {_unit_str(target)} (or any prefix of it); check the lead field's "
                    f"units (EEG: V/(nA·m), MEG: T/(nA·m)).")
            mag = to_canonical(L, "L", target)
        else:
            lf_unit = target if leadfield_unit is None else leadfield_unit
            if lf_unit.dim != target.dim:
                raise UnitMismatchError(
                    f"leadfield_unit={_unit_str(lf_unit)} cannot be converted to "
                    f"{_unit_str(target)} (sensor_unit / dipole_unit).")
            mag = jnp.asarray(L, dtype=float) * unit_factor(lf_unit, target, "leadfield_unit")
        want = (self.in_size_, self.out_size_)
        if mag.shape != want:
            hint = " (it looks transposed: pass L.T)" if mag.shape == want[::-1] else ""
            raise ValueError(f"L has shape {mag.shape}, expected (in_size, out_size) = {want}{hint}.")
        return mag

    def _convert_scale(self, scale):
        """(source unit, scale magnitude in dipole_unit per source unit)."""
        if scale is None:
            return self.dipole_unit, 1.0
        if isinstance(scale, u.Unit):          # e.g. scale=u.nA * u.meter / u.mV
            scale = 1.0 * scale
        if not is_quantity(scale) or scale.dim.is_dimensionless:
            value = magnitude(scale, u.UNITLESS, "scale")
            return self.dipole_unit, jnp.asarray(value, dtype=float)
        source_unit = self.dipole_unit / u.get_unit(scale)
        if source_unit.dim not in _SOURCE_DIMS.values():
            raise UnitMismatchError(
                f"scale={scale!r} would convert sources in {_unit_str(source_unit)} to dipoles; scale "
                f"must map a neural-mass observable ({', '.join(_SOURCE_DIMS)}) to a dipole moment in "
                f"{_unit_str(self.dipole_unit)}, e.g. scale=2 * u.nA * u.meter / u.mV.")
        return source_unit, to_canonical(scale, "scale", self.dipole_unit / source_unit)

    def _convert_cov(self, cov):
        target = self.sensor_unit ** 2
        if is_quantity(cov):
            if cov.dim != target.dim:
                raise UnitMismatchError(
                    f"noise_cov has unit {u.get_unit(cov)}; it must be in sensor_unit**2 = "
                    f"{_unit_str(target)}.")
            mag = to_numpy(cov, "noise_cov", target)
        else:
            mag = np.asarray(cov, dtype=float)
        M = self.out_size_
        if mag.ndim == 1 and mag.shape == (M,):
            mag = np.diag(mag)
        if mag.shape != (M, M):
            raise ValueError(f"noise_cov has shape {mag.shape}, expected ({M}, {M}) (or ({M},) "
                             f"variances).")
        if not np.allclose(mag, mag.T, rtol=1e-6, atol=1e-12 * np.abs(mag).max()):
            raise ValueError("noise_cov must be symmetric.")
        return mag

    # ----------------------------------------------------------------- forward mapping
    def source_values(self, x) -> Array:
        """Plain magnitude of the input in the source unit (see ``scale``)."""
        if is_quantity(x):
            if x.dim != self.source_unit.dim:
                what = ("a dipole moment" if self.scale is None else f"the unit that scale={self.scale!r} "
                        f"converts from")
                raise UnitMismatchError(
                    f"nmm_obs_or_dipoles has unit {u.get_unit(x)}, but this model expects "
                    f"{_unit_str(self.source_unit)} ({what}); convert the input or change scale.")
            return to_canonical(x, "nmm_obs_or_dipoles", self.source_unit)
        return jnp.asarray(x, dtype=float)

    def update(self, nmm_obs_or_dipoles: Array, key: Array | None = None) -> Array:
        """Sensor signals ``(..., M)`` (Quantity in ``sensor_unit``) for inputs ``(..., R)``."""
        s = self.source_values(nmm_obs_or_dipoles)
        if s.shape[-1:] != (self.in_size_,):
            raise ValueError(f"nmm_obs_or_dipoles has shape {s.shape}; the last axis must be the "
                             f"{self.in_size_} regions ((R,), (T, R) or (B, T, R)).")
        y = s @ self.gain
        if self.noise_factor is not None:
            if key is None:
                if _is_batch_tracer(s):
                    raise ValueError(
                        "sensor noise under jax.vmap needs one key per lane: call "
                        "jax.vmap(model)(x, jax.random.split(key, n)) so that each lane (time "
                        "step) draws its own noise.")
                key = brainstate.random.split_key()
            eps = jax.random.normal(key, y.shape, dtype=y.dtype) @ self.noise_factor.T
            y = y + eps
        if self.reference == "average":
            y = average_reference(y)
        return u.Quantity(y, unit=self.sensor_unit)

    def __call__(self, nmm_obs_or_dipoles, key=None):
        return self.update(nmm_obs_or_dipoles, key=key)

    # ----------------------------------------------------------------- vertex → region
    @staticmethod
    def build_fixed_orientation_weights(normals_V3, parcel_VxR, area_weights_V=None):
        r"""Vertex → region weights for fixed (surface-normal) dipole orientations.

        Parameters
        ----------
        normals_V3 : array (V, 3)
            Unit surface normals.
        parcel_VxR : array (V, R)
            Vertex-to-region assignment (one-hot or soft).
        area_weights_V : array (V,), optional
            Vertex areas (default ones).

        Returns
        -------
        array (3V, R) with ``W[3 v + k, r] = area[v] * parcel[v, r] * normals[v, k]`` (x, y, z
        components of each vertex adjacent, the layout of an ``(M, 3V)`` free-orientation lead
        field).
        """
        n = jnp.asarray(normals_V3, dtype=float)
        P = jnp.asarray(parcel_VxR, dtype=float)
        if n.ndim != 2 or n.shape[1] != 3:
            raise ValueError(f"normals_V3 must have shape (V, 3), got {n.shape}.")
        if P.ndim != 2 or P.shape[0] != n.shape[0]:
            raise ValueError(f"parcel_VxR must have shape (V, R) with V = {n.shape[0]}, got {P.shape}.")
        a = jnp.ones(n.shape[0]) if area_weights_V is None else jnp.asarray(area_weights_V, dtype=float)
        if a.shape != (n.shape[0],):
            raise ValueError(f"area_weights_V must have shape ({n.shape[0]},), got {a.shape}.")
        W = a[:, None, None] * n[:, :, None] * P[:, None, :]
        return W.reshape(3 * n.shape[0], P.shape[1])

    @staticmethod
    def compress_vertex_leadfield(L_vertex_3V, W_vertex_to_region_3VxR):
        r"""Region-level lead field :math:`(L_{vertex} W)^\top`, shape ``(R, M)``.

        ``L_vertex_3V`` is ``(M, 3V)``, ``W`` is ``(3V, R)`` (from
        :meth:`build_fixed_orientation_weights`). Units multiply when either is a Quantity.
        """
        Lv, W = L_vertex_3V, W_vertex_to_region_3VxR
        if Lv.shape[1] != W.shape[0]:
            raise ValueError(f"L_vertex_3V has {Lv.shape[1]} columns but W has {W.shape[0]} rows; "
                             f"expected (M, 3V) and (3V, R).")
        if is_quantity(Lv) or is_quantity(W):
            return u.math.matmul(Lv, W).T
        return (jnp.asarray(Lv) @ jnp.asarray(W)).T


def _psd_sqrt(cov: np.ndarray) -> jnp.ndarray:
    """A factor ``A`` with ``A @ A.T = cov`` (eigen-decomposition; cov may be singular)."""
    w, Q = np.linalg.eigh(cov)
    if w.min() < -1e-8 * max(abs(w.max()), 1e-300):
        raise ValueError(f"noise_cov is not positive semi-definite (smallest eigenvalue {w.min():g}).")
    return jnp.asarray(Q * np.sqrt(np.clip(w, 0.0, None)), dtype=float)


class EEGLeadFieldModel(LeadFieldModel):
    """EEG lead field: ``sensor_unit`` defaults to V (``u.uvolt`` for µV); ``reference='average'``
    re-references to the common average. See :class:`LeadFieldModel`."""

    _default_sensor_unit = u.volt
    _sensor_kind = ("electric potential", (u.volt.dim,))


class MEGLeadFieldModel(LeadFieldModel):
    """MEG lead field: ``sensor_unit`` defaults to T (``u.ftesla`` for fT; T/m for planar
    gradiometers). See :class:`LeadFieldModel`."""

    _default_sensor_unit = u.tesla
    _sensor_kind = ("magnetic flux density", (u.tesla.dim, (u.tesla / u.meter).dim))


# --------------------------------------------------------------------------- region lead fields
@dataclass(frozen=True, eq=False)
class RegionLeadField:
    """A region-level lead field with its sensors.

    Attributes
    ----------
    L : brainunit.Quantity, shape (regions, sensors)
        Sensor signal per unit region dipole moment (µV/(nA·m) for EEG, fT/(nA·m) for MEG),
        shaped as :class:`neuralmass.LeadFieldModel` expects.
    modality : str
        ``'EEG'`` or ``'MEG'``.
    sensor_names : ndarray of str
    sensor_positions : brainunit.Quantity (sensors, 3) in mm, or None
        For tvb-data: as listed in its sensor file, **not** in the frame of the cortex and the
        connectome centres (see ``metadata['sensor_frame_note']``); None for MEG, whose tvb-data
        sensor file has unusable coordinates. For :func:`neuralmass.forward.from_mne`: the
        channel positions of the forward's ``info`` (head frame).
    region_labels : ndarray of str
    region_areas_mm2 : ndarray
        Cortical surface area of each region on ``cortex_16384``.
    vertices_per_region : ndarray of int
    weighting : str
        The vertex → region reduction (``'area'``, ``'mean'``, ``'sum'``, or an MNE mode).
    metadata : dict
    sensor_types : ndarray of str, optional
        MNE channel types (``'eeg'``, ``'mag'``, ``'grad'``) when known.
    """

    L: Any
    modality: str
    sensor_names: Any
    sensor_positions: Any
    region_labels: Any
    region_areas_mm2: Any
    vertices_per_region: Any
    weighting: str
    name: str = ""
    metadata: dict = field(default_factory=dict)
    sensor_types: Any = None

    @property
    def leadfield(self):
        """Alias of :attr:`L`."""
        return self.L

    @property
    def sensor_unit(self):
        """Unit of the sensor signal (V-type for EEG, T-type for MEG) per nA·m."""
        return u.get_unit(self.L)

    @property
    def n_regions(self) -> int:
        return int(self.L.shape[0])

    @property
    def n_sensors(self) -> int:
        return int(self.L.shape[1])

    @property
    def connectome(self):
        """The connectivity whose regions index the rows of :attr:`L` (lead fields read from
        tvb-data, :func:`neuralmass.datasets.load_dataset`, know theirs)."""
        raise AttributeError(f"the lead field {self.name!r} does not come with a connectivity; "
                                 f"its rows are the regions {list(self.region_labels[:3])} ... "
                             f"(use your own Connectome with these labels).")

    def __repr__(self) -> str:
        return (f"RegionLeadField(name={self.name!r}, modality={self.modality}, "
                f"regions={self.n_regions}, sensors={self.n_sensors}, unit={self.sensor_unit}, "
                f"weighting={self.weighting!r})")


class LeadfieldReadout(brainstate.nn.Module):
    r"""A light sensor readout with brainmass's arguments: :math:`y = c\,(\hat L x) - y_0`.

    :math:`\hat L` is the lead field ``lm`` (``(sensors, sources)``) with each row divided by its
    L1 norm (``normalize=True`` or ``'l1'``) or L2 norm (``'l2'``), then, with ``demean=True``,
    re-referenced to the common average (:func:`average_reference` over sensors, i.e. each column's
    mean over sensors removed — the same as re-referencing the output). ``x`` is source activity
    whose last axis is the sources; inputs and outputs are plain arrays. ``y0`` and ``cy0`` may be
    numbers, arrays, ``brainstate.nn.Param`` or callables returning a value.

    For a unit-aware forward model with sensor noise use :class:`LeadFieldModel`.
    """

    def __init__(self, lm: Array, y0: Array, cy0: Array, normalize: bool | str = True,
                 demean: bool = True) -> None:
        super().__init__()
        if normalize is True:
            normalize = "l1"
        if normalize is False:
            normalize = None
        if normalize not in (None, "l1", "l2"):
            raise ValueError(f"normalize={normalize!r} is not known; use True/'l1', 'l2' or False.")
        lm = jnp.asarray(magnitude(lm), dtype=float)
        if lm.ndim != 2:
            raise ValueError(f"lm has shape {lm.shape}; it must be (sensors, sources).")
        self.lm_raw, self.y0, self.cy0 = lm, y0, cy0
        self.normalize, self.demean = normalize, bool(demean)

    @property
    def lm(self):
        """The lead field as applied (normalised rows, average reference)."""
        L = self.lm_raw
        if self.normalize == "l1":
            L = L / jnp.sum(jnp.abs(L), axis=1, keepdims=True)
        elif self.normalize == "l2":
            L = L / jnp.sqrt(jnp.sum(L ** 2, axis=1, keepdims=True))
        return average_reference(L, axis=0) if self.demean else L

    @staticmethod
    def _value(p):
        from ..units import _unwrap_param

        p = _unwrap_param(p)
        return jnp.asarray(magnitude(p() if callable(p) else p), dtype=float)

    def update(self, x: Array) -> Array:
        x = jnp.asarray(magnitude(x), dtype=float)
        L = self.lm
        if x.shape[-1] != L.shape[1]:
            raise ValueError(f"x has shape {x.shape}; its last axis must be the {L.shape[1]} sources.")
        return self._value(self.cy0) * (x @ L.T) - self._value(self.y0)

    def __call__(self, x):
        return self.update(x)


# --------------------------------------------------------------------------- dipole geometry
def dipole_potentials(sensors: Array, positions: Array, moments: Array, conductivity: float | None = None) -> np.ndarray:
    r"""Potentials of current dipoles in an infinite homogeneous conductor, shape (dipoles, sensors).

    .. math::

        \phi_{rm} = \frac{\mathbf p_r\cdot(\mathbf s_m - \mathbf q_r)}
                         {4\pi\sigma\,|\mathbf s_m - \mathbf q_r|^3}

    (Nunez & Srinivasan 2006, ch. 6). The one definition of this geometry in the library: the
    synthetic lead fields below and the tvb-data sensor registration
    (:func:`neuralmass.datasets.tvb.register_tvb_eeg_sensors`) call it.

    Parameters
    ----------
    sensors : array (M, 3)
        Sensor positions.
    positions : array (R, 3)
        Dipole positions, in the unit of ``sensors``.
    moments : array (R, 3)
        Dipole moments (orientation times strength).
    conductivity : float, optional
        :math:`\sigma`. With ``None`` the factor :math:`1/(4\pi\sigma)` is left out (a shape only);
        with SI inputs (m, A·m, S/m) the result is in V.

    Returns
    -------
    np.ndarray (R, M)
    """
    s = np.asarray(sensors, dtype=float)
    q = np.asarray(positions, dtype=float)
    p = np.asarray(moments, dtype=float)
    if s.ndim != 2 or s.shape[1] != 3:
        raise ValueError(f"sensors must have shape (M, 3), got {s.shape}.")
    if q.ndim != 2 or q.shape[1] != 3 or p.shape != q.shape:
        raise ValueError(f"positions and moments must both have shape (R, 3); got {q.shape} and {p.shape}.")
    if conductivity is not None and not conductivity > 0:
        raise ValueError(f"conductivity={conductivity!r} must be positive (S/m; scalp ≈ 0.33).")
    d = s[None, :, :] - q[:, None, :]
    v = np.matmul(d, p[:, :, None])[..., 0] / np.linalg.norm(d, axis=-1) ** 3
    if conductivity is not None:
        v = v / (4 * np.pi * conductivity)
    return v


def region_leadfield_from_vertices(gain: np.ndarray, region_mapping: np.ndarray, n_regions: int,
                                   areas: np.ndarray | None = None,
                                   weighting: str = "area") -> np.ndarray:
    r"""Collapse a vertex gain matrix (sensors, V) into a region lead field (regions, sensors).

    ``weighting='area'``:

    .. math::

        L_{rm} = \frac{\sum_{v\in r} a_v G_{mv}}{\sum_{v\in r} a_v},

    the field of a region's total dipole moment spread with uniform surface density over its
    cortex (so ``L`` does not depend on how finely the region is meshed); ``'mean'``: the plain
    average over the region's vertices; ``'sum'``: the plain sum, as The Virtual Brain's region
    monitors use it (Sanz Leon et al. 2013, Front. Neuroinform. 7:10). Regions without vertices get
    a zero row; a channel whose gain row holds NaN stays NaN.

    Parameters
    ----------
    gain : array (M, V)
        Vertex gain: the sensor signals of a unit dipole at each vertex, normal to the cortex.
    region_mapping : int array (V,)
        The region of each vertex, in ``[0, n_regions)``.
    n_regions : int
    areas : array (V,), optional
        Vertex areas (:func:`neuralmass.surface.mesh.vertex_areas`); needed for ``'area'``.
    weighting : {'area', 'mean', 'sum'}

    Returns
    -------
    np.ndarray (n_regions, M)
    """
    g = np.asarray(gain, dtype=float)
    rm = np.asarray(region_mapping, dtype=int)
    if g.shape[1] != rm.size:
        raise ValueError(f"gain has {g.shape[1]} vertex columns but region_mapping has {rm.size} "
                         f"entries; they must describe the same surface.")
    if rm.min() < 0 or rm.max() >= n_regions:
        raise ValueError(f"region_mapping values must lie in [0, {n_regions}); got "
                         f"[{rm.min()}, {rm.max()}].")
    if weighting == "area":
        if areas is None:
            raise ValueError("weighting='area' needs the vertex areas (areas=...).")
        w = np.asarray(areas, dtype=float)
    elif weighting in ("mean", "sum"):
        w = np.ones(rm.size)
    else:
        raise ValueError(f"weighting={weighting!r}; use 'area', 'mean' or 'sum'.")
    m = np.zeros((rm.size, n_regions))
    m[np.arange(rm.size), rm] = w
    if weighting != "sum":
        tot = m.sum(axis=0)
        m = np.divide(m, tot, out=np.zeros_like(m), where=tot > 0)
    # NaN rows (unusable channels) stay NaN; finite rows use an exact product
    return (g @ m).T


def hemisphere_electrodes(n_sensors: int = 64, radius: float = 1.0, phase: float = 0.0) -> np.ndarray:
    r"""``n_sensors`` points on the upper half of a sphere of ``radius`` (Fibonacci lattice).

    Point :math:`i` has height :math:`z_i = 1 - (i + \tfrac12)/n` and azimuth
    :math:`\pi(1 + \sqrt5)(i + \tfrac12) + \mathrm{phase}`, so the points cover the hemisphere
    evenly; ``phase`` rotates the lattice. Returns an array (n_sensors, 3).
    """
    if n_sensors < 2:
        raise ValueError(f"n_sensors={n_sensors} must be at least 2.")
    i = np.arange(n_sensors) + 0.5
    z = 1.0 - i / n_sensors  # upper hemisphere z in (0, 1)
    phi = np.pi * (1 + 5 ** 0.5) * i + phase
    rho = np.sqrt(1 - z ** 2)
    return radius * np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


#: Orientation of the synthetic lead fields' radial dipole (under the left temporo-parietal scalp).
SYNTHETIC_DIPOLE_DIRECTION = np.array([-0.6, -0.3, 0.74]) / np.linalg.norm([-0.6, -0.3, 0.74])


def _synthetic_column(n_sensors, radius, conductivity, phase=0.0):
    """Average-referenced potential of the synthetic radial dipole at half the ``radius``."""
    el = hemisphere_electrodes(n_sensors, radius, phase)
    u_ = SYNTHETIC_DIPOLE_DIRECTION
    g = dipole_potentials(el, 0.5 * radius * u_[None], u_[None], conductivity)[0]
    return average_reference(g)


def synthetic_gain(n_sensors: int = 64, seed: int = 0) -> np.ndarray:
    r"""A documented synthetic EEG lead-field column (unit RMS, average reference).

    Electrodes lie on the upper half of a unit sphere (:func:`hemisphere_electrodes`, rotated by
    ``seed`` radians); the source is a radial current dipole at depth 0.5 under a point of the
    left temporo-parietal scalp (:data:`SYNTHETIC_DIPOLE_DIRECTION`), its potential that of
    :func:`dipole_potentials`. The column is re-referenced to the average and scaled to unit
    RMS, so sensor values are in mV of source activity times a dimensionless gain.

    Parameters
    ----------
    n_sensors : int
        Number of electrodes (at least 2).
    seed : int
        Rotation of the electrode lattice (radians).

    Returns
    -------
    np.ndarray (n_sensors,)
    """
    g = _synthetic_column(n_sensors, 1.0, None, seed)
    return g / np.sqrt(np.mean(g ** 2))


def synthetic_leadfield(n_sensors: int = 64, head_radius_m: float = 0.09, conductivity: float = 0.33) -> np.ndarray:
    r"""The synthetic column of :func:`synthetic_gain` in physical units, µV/(nA·m).

    Potential of a current dipole in an infinite homogeneous conductor
    (:func:`dipole_potentials`), with the electrodes on a sphere of radius ``head_radius_m``
    (0.09 m), the dipole at half that radius and scalp conductivity ``conductivity`` (0.33 S/m);
    average reference. It ignores the skull, which attenuates scalp potentials several-fold, so it
    overestimates real lead fields; use a real head model (e.g. tvb-data's, through
    :func:`neuralmass.inference.eeg_leadfield`) for realistic amplitudes.

    Returns
    -------
    np.ndarray (n_sensors,) in µV/(nA·m)
    """
    g = _synthetic_column(n_sensors, head_radius_m, conductivity)   # V/(A·m)
    return g * 1e-3   # V/(A·m) -> µV/(nA·m)
