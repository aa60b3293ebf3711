"""``[[stimulus]]`` blocks of a study config: stimulation of the simulated network.

A study config may hold any number of ``[[stimulus]]`` blocks (a TOML array of tables). Each block
becomes one :class:`neuralmass.stimulus.Stimulus`, built by the waveform function of
:mod:`neuralmass.stimulus` that ``kind`` names; the other keys of the block are that function's
arguments (written with units, like the rest of the config) plus where the stimulus acts::

    [[stimulus]]
    kind = "pulse"              # constant | pulse | single_pulse | smooth_pulse | pulse_train | sinusoid | ramp
    input = "x_ext"             # a node input of the model (default: the model's coupling input)
    onset = "20 s"              # from the start of the run, transient included
    duration = "2 s"
    amplitude = "0.001 / ms"    # in the input's unit; a plain number is read in that unit
    regions = ["R0", 3]         # labels or indices, {label = weight}, "all"; or weights = [...]

Blocks driving the same input add up (and add to the coupling and noise the input receives).
Everything is checked before anything is simulated, in two steps:

* :func:`validate_stimulus_blocks` (called by :func:`neuralmass.config.validate_config`): keys,
  waveform, input name, units and signs of the arguments, and the time span against
  ``simulation.duration``; raises :class:`~neuralmass.config.ConfigError`;
* :func:`build_stimuli` (called by :func:`neuralmass.studies.plan_study`): regions resolved
  against the study's connectome (unknown labels get close matches suggested); raises
  :class:`~neuralmass.studies.preflight.PreflightError`.

A validated block holds plain numbers (times in ms, frequencies in Hz, amplitudes in the input's
unit), so validating it again gives the same block.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from .. import stimulus as st
# the schema (keys, units, validation) is the config's; the waveforms by name are the stimulus
# module's; both are re-exported here, where the study's stimulation is documented
from ..config import ARGUMENT_READERS, PLACEMENT_KEYS, validate_stimulus_blocks
from ..errors import PreflightError
from ..stimulus import WAVEFORMS, temporal_stimulus, waveform_arguments

__all__ = ["WAVEFORMS", "waveform_arguments", "validate_stimulus_blocks", "temporal_stimulus", "block_stimulus",
           "build_stimuli", "stimulus_summary", "describe_block"]

logger = logging.getLogger("neuralmass")

def block_stimulus(i: int, block: dict, labels, n: int, surface=None) -> st.Stimulus:
    """The stimulus of validated block ``i`` with its spatial pattern over ``n`` regions, or over the
    nodes of a surface network when ``surface`` (a :class:`~neuralmass.surface.Surface` whose mapping
    indexes the ``n`` regions) is given.

    Raises
    ------
    PreflightError
        An unknown region label (with the closest labels), an index out of range, or a weight
        vector whose length is not ``n``; on a surface also a vertex index out of range, a point
        far from the mesh or a profile length far below its spacing or above its size.
    """
    stim = temporal_stimulus(block)
    if surface is not None:
        return _surface_block(i, block, stim, labels, n, surface)
    if "weights" in block:
        key, pattern = "weights", np.asarray(block["weights"], dtype=float)
    elif block["regions"] == "all":
        return stim
    else:
        key, pattern = "regions", _regions_pattern(block["regions"], labels)
    try:
        return stim.at(pattern, labels=labels, n=n)
    except (ValueError, TypeError) as exc:
        raise PreflightError(f"stimulus[{i}].{key} = {block[key]!r}: {exc}") from None


def _surface_block(i: int, block: dict, stim: st.Stimulus, labels, n: int, surface) -> st.Stimulus:
    """Block ``i`` placed on the nodes of a surface network (:func:`neuralmass.surface.surface_weights`)."""
    from ..surface import surface_weights

    if block.get("regions") == "all":
        return stim
    key = next(k for k in ("weights", "regions", "vertices", "point") if k in block)
    where: dict = {}
    if key == "weights":
        where["regions"] = np.asarray(block["weights"], dtype=float)
    elif key == "regions":
        where["regions"] = _regions_pattern(block["regions"], labels)
    elif key == "vertices":
        v = block["vertices"]
        where["vertices"] = {int(k): w for k, w in v.items()} if isinstance(v, dict) else v
    else:
        where["point"] = block["point"]
    profile = dict(block.get("profile") or {})
    if profile:
        where["profile"] = profile.pop("kernel")
        where.update(profile)
    try:
        w = surface_weights(surface, labels=labels, n_regions=n, **where)
    except (ValueError, TypeError) as exc:
        bad = "profile" if profile and any(k in str(exc) for k in profile) else key
        raise PreflightError(f"stimulus[{i}].{bad} = {block[bad]!r}: {exc}") from None
    return stim.at(w)


def _regions_pattern(regions, labels):
    """TOML table keys are strings: a key of digits that is not a label is an index."""
    if not isinstance(regions, dict):
        return regions
    known = {str(x) for x in labels} if labels is not None else set()
    return {(int(k) if k.isdigit() and k not in known else k): w for k, w in regions.items()}


def build_stimuli(blocks: list[dict], labels, n: int, surface=None) -> dict:
    """The engine inputs of validated blocks: input name -> summed :class:`~neuralmass.stimulus.Stimulus`.

    Parameters
    ----------
    blocks : list of dict
        From :func:`validate_stimulus_blocks` (the config's ``stimulus`` entry).
    labels : sequence of str
        Region labels of the study's connectome.
    n : int
        Number of regions.
    surface : Surface, optional
        The mesh of a ``[surface]`` study: the patterns are then over the surface network's nodes.

    Returns
    -------
    dict
        For ``Simulator.run(inputs=...)``; empty without blocks.
    """
    inputs: dict = {}
    for i, block in enumerate(blocks or ()):
        stim = block_stimulus(i, block, labels, n, surface)
        name = block["input"]
        inputs[name] = inputs[name] + stim if name in inputs else stim
    return inputs


# ---------------------------------------------------------------------------------- records
def stimulus_summary(blocks: list[dict], spec, labels, n: int, surface=None) -> list[dict]:
    """What each block does, for ``summary.json`` and the report.

    Each entry is the validated block plus ``input_unit``, ``span_ms`` (``[start, end]``, ``None``
    for no end) and ``targets`` (region label -> weight, regions with a nonzero weight; ``"all"``
    for a stimulus acting everywhere). On a surface (``surface``, the study's mesh) a region's
    target weight is the largest in magnitude over its nodes, and ``n_vertices`` counts the
    vertices with a nonzero weight.
    """
    labels = [str(x) for x in labels]
    out = []
    for i, block in enumerate(blocks or ()):
        stim = block_stimulus(i, block, labels, n, surface)
        lo, hi = temporal_stimulus(block).span
        weights = stim.terms[0].weights if stim.terms else stim.weights
        extra = {}
        if weights is None:
            targets = "all"
        elif surface is None:
            targets = {labels[j]: float(w) for j, w in enumerate(np.asarray(weights)) if w != 0}
        else:
            targets, extra["n_vertices"] = _surface_targets(np.asarray(weights), surface, labels, n)
        unit = spec.input(block["input"]).unit
        out.append({**block, "input_unit": "1" if unit is None else str(unit),
                    "span_ms": [lo, hi if math.isfinite(hi) else None], "targets": targets, **extra})
    return out


def _surface_targets(weights: np.ndarray, surface, labels, n: int):
    """(region label -> weight of largest magnitude over its nodes, stimulated vertices)."""
    from ..surface.mesh import node_regions

    regions = node_regions(surface, n)
    targets = {}
    for r in np.unique(regions[weights != 0]):
        w = weights[regions == r]
        targets[labels[r]] = float(w[np.argmax(np.abs(w))])
    return targets, int(np.count_nonzero(weights[:surface.n_vertices]))


def describe_block(i: int, entry: dict) -> str:
    """One line of the report for an entry of :func:`stimulus_summary`."""
    skip = set(PLACEMENT_KEYS) | {"input_unit", "span_ms", "targets", "n_vertices"}
    args = ", ".join(f"{k} {_show_argument(k, v, entry['input_unit'])}"
                     for k, v in entry.items() if k not in skip)
    targets = entry["targets"]
    where = "all regions" if targets == "all" else ", ".join(f"{k} ({w:g})" for k, w in targets.items())
    if "n_vertices" in entry:
        patch = ""
        if "profile" in entry:
            p = entry["profile"]
            patch = ", ".join(f"{k} {v:g} mm" if isinstance(v, float) and k in ("cutoff", "sigma", "sigma_1",
                                                                                 "sigma_2", "lam")
                              else f"{k} {v}" for k, v in p.items())
            patch = f" ({patch})"
        centre = (f" around vertices {entry['vertices']}" if "vertices" in entry else
                  f" around the point {entry['point']} mm" if "point" in entry else "")
        where += f"; {entry['n_vertices']} vertices{centre}{patch}"
    return f"stimulus[{i}]: {entry['kind']} into `{entry['input']}`: {args}; regions: {where}"


def _show_argument(name: str, value, input_unit: str) -> str:
    what = ARGUMENT_READERS[name][0]
    unit = {"time": " ms", "frequency": " Hz", "input": f" ({input_unit})", "angle": " rad"}.get(what, "")
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"
