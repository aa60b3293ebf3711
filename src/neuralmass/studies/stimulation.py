"""``[[stimulus]]`` blocks of a study config: stimulation of the simulated network.

A study config may hold any number of ``[[stimulus]]`` blocks (a TOML array of tables). Each block
becomes one :class:`neuralmass.stimulus.Stimulus`, built by the waveform function of
:mod:`neuralmass.stimulus` that ``kind`` names; the other keys of the block are that function's
arguments (written with units, like the rest of the config) plus where the stimulus acts::

    [[stimulus]]
    kind = "pulse"              # constant | pulse | single_pulse | pulse_train | sinusoid | ramp
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

import difflib
import inspect
import logging
import math

import brainunit as u
import numpy as np

from .. import stimulus as st
from ..errors import ConfigError, PreflightError
from ..units import parse_quantity

__all__ = ["WAVEFORMS", "waveform_arguments", "validate_stimulus_blocks", "temporal_stimulus", "block_stimulus",
           "build_stimuli", "stimulus_summary", "describe_block"]

logger = logging.getLogger("neuralmass")

#: ``kind`` -> the :mod:`neuralmass.stimulus` function that builds the time course.
WAVEFORMS = {
    "constant": st.constant,
    "pulse": st.pulse,
    "single_pulse": st.single_pulse,
    "pulse_train": st.pulse_train,
    "sinusoid": st.sinusoid,
    "ramp": st.ramp,
}

#: How each waveform argument is read from the config: its quantity and an example value.
ARGUMENT_READERS = {
    "onset": ("time", '"2 s"'),
    "duration": ("time", '"100 ms"'),
    "width": ("time", '"5 ms"'),
    "rise": ("time", '"10 ms"'),
    "frequency": ("frequency", '"10 Hz"'),
    "amplitude": ("input", '"0.5"'),
    "offset": ("input", '"0.1"'),
    "phase": ("angle", "1.5708"),
    "n_pulses": ("count", "10"),
    "hold": ("flag", "true"),
}

#: Keys of a block that are not waveform arguments.
PLACEMENT_KEYS = ("kind", "input", "regions", "weights")

#: Time arguments that must be positive (``rise`` may be 0; ``onset`` any sign).
_POSITIVE_TIMES = ("duration", "width")


# ---------------------------------------------------------------------------------- schema
def waveform_arguments(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The required and optional arguments of waveform ``kind``, read from its function.

    Parameters
    ----------
    kind : str
        A key of :data:`WAVEFORMS`.

    Returns
    -------
    (required, optional) : tuples of str
        Argument names without and with a default, in the function's order.
    """
    params = inspect.signature(WAVEFORMS[kind]).parameters.values()
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    optional = tuple(p.name for p in params if p.default is not inspect.Parameter.empty)
    return required, optional


# ---------------------------------------------------------------------------------- validation
def validate_stimulus_blocks(blocks, spec, duration_ms: float, transient_ms: float = 0.0) -> list[dict]:
    """Check ``[[stimulus]]`` blocks and convert their values to plain numbers.

    Parameters
    ----------
    blocks : list of dict
        The ``stimulus`` entry of the TOML config (an array of tables).
    spec : neuralmass.models.base.NodeModel
        The study's node model (its inputs and their units).
    duration_ms, transient_ms : float
        ``simulation.duration`` and ``simulation.transient`` in ms.

    Returns
    -------
    list of dict
        One block per stimulus: ``kind``, ``input`` (filled with the default when omitted), the
        waveform arguments (times in ms, frequencies in Hz, amplitudes in the input's unit), and
        ``regions`` or ``weights``.

    Raises
    ------
    ConfigError
        Naming the block (``stimulus[i]``, counted from 0 in file order), the key, the value and
        the fix: not a table, unknown key or waveform, missing argument, unknown input, a value
        of the wrong unit or sign, no spatial pattern, or a stimulus entirely outside
        ``[0, simulation.duration)``.
    """
    if isinstance(blocks, dict):
        raise ConfigError("[stimulus] is a single table; write each stimulus as a [[stimulus]] block "
                          "(double brackets), one block per stimulus.")
    if not isinstance(blocks, list):
        raise ConfigError(f"stimulus = {blocks!r}: write each stimulus as a [[stimulus]] block.")
    return [_validate_block(i, block, spec, duration_ms, transient_ms) for i, block in enumerate(blocks)]


def _validate_block(i: int, block, spec, duration_ms: float, transient_ms: float) -> dict:
    where = f"stimulus[{i}]"
    if not isinstance(block, dict):
        raise ConfigError(f"{where} = {block!r} must be a [[stimulus]] table of keys.")
    kind = _read_kind(where, block)
    required, optional = waveform_arguments(kind)
    _check_keys(where, kind, block, required + optional)
    inp = _read_input(where, block, spec)
    out = {"kind": kind, "input": inp.name}
    for name in required + optional:
        if name in block:
            out[name] = _read_argument(f"{where}.{name}", name, block[name], inp, spec)
    out.update(_read_placement(where, block))
    _check_span(where, block, out, duration_ms, transient_ms)
    return out


def _read_kind(where: str, block: dict) -> str:
    kinds = ", ".join(f'"{k}"' for k in WAVEFORMS)
    if "kind" not in block:
        raise ConfigError(f"{where} has no kind; add kind = one of {kinds}.")
    kind = block["kind"]
    if not isinstance(kind, str) or kind not in WAVEFORMS:
        raise ConfigError(f"{where}.kind = {kind!r} is not a known waveform{_did_you_mean(kind, WAVEFORMS)}; "
                          f"choose one of {kinds}.")
    return kind


def _check_keys(where: str, kind: str, block: dict, arguments: tuple[str, ...]) -> None:
    allowed = PLACEMENT_KEYS + arguments
    for key in block:
        if key not in allowed:
            raise ConfigError(f"{where}.{key} is not a key of a {kind!r} stimulus"
                              f"{_did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}.")
    required, _ = waveform_arguments(kind)
    missing = [k for k in required if k not in block]
    if missing:
        example = ", ".join(f"{k} = {ARGUMENT_READERS[k][1]}" for k in missing)
        raise ConfigError(f"{where} ({kind}) needs {', '.join(missing)}; add e.g. {example}.")
    if kind == "pulse_train" and "n_pulses" not in block and "duration" not in block:
        raise ConfigError(f"{where} (pulse_train) needs n_pulses (e.g. n_pulses = 10) or duration "
                          f"(e.g. duration = \"1 s\") to know how many pulses to give.")


def _did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_input(where: str, block: dict, spec):
    inputs = ", ".join(spec.input_names)
    name = block.get("input", spec.coupling_input)
    if name is None:
        raise ConfigError(f"{where} needs input = one of {spec.name}'s inputs: {inputs}.")
    if not isinstance(name, str) or name not in spec.input_names:
        raise ConfigError(f"{where}.input = {name!r} is not an input of {spec.name}"
                          f"{_did_you_mean(name, spec.input_names)}; choose one of {inputs} "
                          f"(`neuralmass models {spec.name}` describes them).")
    return spec.input(name)


def _read_argument(key: str, name: str, value, inp, spec):
    """One waveform argument as a plain number (ms, Hz, the input's unit, rad) or int/bool."""
    what = ARGUMENT_READERS[name][0]
    if what == "flag":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} must be true or false.")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r} must be a number or a string with a unit, e.g. "
                          f"{key.rsplit('.', 1)[-1]} = {ARGUMENT_READERS[name][1]}.")
    if what == "count":
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} = {value!r} must be a whole number >= 1.")
        return value
    if what == "angle":
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{key} = {value!r} must be a finite number of radians, e.g. 1.5708 for 90 degrees.")
        return float(value)
    q = parse_quantity(value, key)
    if what == "time":
        return _time_ms(key, name, value, q)
    if what == "frequency":
        return _frequency_hz(key, value, q)
    return _in_input_unit(key, value, q, inp, spec)


def _time_ms(key: str, name: str, value, q) -> float:
    if isinstance(q, u.Quantity):
        if q.dim != u.ms.dim:
            raise ConfigError(f"{key} = {value!r} is not a time; write e.g. {ARGUMENT_READERS[name][1]}.")
        q = float(q.to_decimal(u.ms))
    if name in _POSITIVE_TIMES and q <= 0:
        raise ConfigError(f"{key} = {value!r} must be positive, e.g. {ARGUMENT_READERS[name][1]}.")
    if name == "rise" and q < 0:
        raise ConfigError(f"{key} = {value!r} must be >= 0 (0: sharp edges).")
    return float(q)


def _frequency_hz(key: str, value, q) -> float:
    if isinstance(q, u.Quantity):
        if q.dim != u.Hz.dim:
            raise ConfigError(f"{key} = {value!r} is not a frequency; write e.g. \"10 Hz\".")
        q = float(q.to_decimal(u.Hz))
    if q <= 0:
        raise ConfigError(f"{key} = {value!r} must be positive, e.g. \"10 Hz\".")
    return float(q)


def _in_input_unit(key: str, value, q, inp, spec) -> float:
    """An amplitude as a plain number in the unit of input ``inp`` (plain numbers are already)."""
    if not isinstance(q, u.Quantity):
        return float(q)
    if inp.unit is None:
        if not q.dim.is_dimensionless:
            raise ConfigError(f"{key} = {value!r}: {spec.name}'s input {inp.name} is dimensionless; "
                              f"write a plain number.")
        return float(q.to_decimal())
    if q.dim != inp.unit.dim:
        raise ConfigError(f"{key} = {value!r} cannot be converted to {inp.unit}, the unit of "
                          f"{spec.name}'s input {inp.name}; write e.g. {_with_unit(1, inp.unit)} "
                          f"or a plain number (read in {inp.unit}).")
    return float(q.to_decimal(inp.unit))


def _with_unit(number, unit) -> str:
    """``"1 Hz"``, ``"1 / ms"``: a value as the config writes it."""
    text = str(unit)
    if text.startswith("1 / "):
        return f'"{number:g} / {text[4:]}"'
    return f'"{number:g} {text}"'


def _read_placement(where: str, block: dict) -> dict:
    """``regions`` (labels, indices, {label = weight} or "all") or ``weights`` (one per region)."""
    has_regions, has_weights = "regions" in block, "weights" in block
    if has_regions and has_weights:
        raise ConfigError(f"{where} has both regions and weights; give one of them.")
    if not (has_regions or has_weights):
        raise ConfigError(f"{where} needs a spatial pattern: regions = [\"label\", 3] (labels or "
                          f"indices), regions = {{\"label\" = 0.5}}, regions = \"all\", or weights = "
                          f"[...] (one weight per region).")
    if has_weights:
        return {"weights": _read_weights(f"{where}.weights", block["weights"])}
    return {"regions": _read_regions(f"{where}.regions", block["regions"])}


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _read_weights(key: str, weights) -> list[float]:
    if not isinstance(weights, list) or not weights or not all(_is_number(w) for w in weights):
        raise ConfigError(f"{key} = {weights!r} must be a list of finite numbers, one per region.")
    return [float(w) for w in weights]


def _read_regions(key: str, regions):
    if regions == "all":
        return "all"
    if isinstance(regions, dict):
        if not regions or not all(_is_number(w) for w in regions.values()):
            raise ConfigError(f"{key} = {regions!r} must map region labels (or indices) to numbers, "
                              f"e.g. {{\"rHC\" = 1.0, \"lHC\" = 0.5}}.")
        return {str(k): float(w) for k, w in regions.items()}
    items = regions if isinstance(regions, list) else [regions]
    if not items or not all(isinstance(r, (str, int)) and not isinstance(r, bool) for r in items):
        raise ConfigError(f"{key} = {regions!r} must be region labels (strings) or indices (integers), "
                          f"e.g. [\"rHC\", 3], or \"all\".")
    return list(items)


def _check_span(where: str, block: dict, parsed: dict, duration_ms: float, transient_ms: float) -> None:
    """Refuse a stimulus that never acts during the run; warn if it acts only in the transient."""
    stim = _temporal_or_error(where, parsed)
    lo, hi = stim.span
    onset = f"{where}.onset = {block['onset']!r}" if "onset" in block else f"{where} (onset 0 ms)"
    if lo >= duration_ms or hi <= 0:
        raise ConfigError(
            f"{onset}: the {parsed['kind']} acts during [{lo:.10g}, {hi:.10g}) ms, outside the simulated "
            f"time span [0, {duration_ms:.10g}) ms (simulation.duration, transient included); move its onset "
            f"into the run or lengthen simulation.duration.")
    if hi <= transient_ms:
        logger.warning("%s: the %s ends at %.10g ms, within the transient (%.10g ms), which is not recorded; "
                       "its effect is seen only in what it leaves behind.", onset, parsed["kind"], hi,
                       transient_ms)


def _temporal_or_error(where: str, parsed: dict):
    try:
        return temporal_stimulus(parsed)
    except ValueError as exc:  # the waveform function's own checks (e.g. width >= period)
        raise ConfigError(f"{where} ({parsed['kind']}): {exc}") from None


# ---------------------------------------------------------------------------------- building
def temporal_stimulus(block: dict) -> st.Stimulus:
    """The time course of a validated block (the same in every region).

    Parameters
    ----------
    block : dict
        A block returned by :func:`validate_stimulus_blocks`.

    Returns
    -------
    neuralmass.stimulus.Stimulus
    """
    required, optional = waveform_arguments(block["kind"])
    kwargs = {k: block[k] for k in required + optional if k in block}
    return WAVEFORMS[block["kind"]](**kwargs)


def block_stimulus(i: int, block: dict, labels, n: int) -> st.Stimulus:
    """The stimulus of validated block ``i`` with its spatial pattern over ``n`` regions.

    Raises
    ------
    PreflightError
        An unknown region label (with the closest labels), an index out of range, or a weight
        vector whose length is not ``n``.
    """
    stim = temporal_stimulus(block)
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


def _regions_pattern(regions, labels):
    """TOML table keys are strings: a key of digits that is not a label is an index."""
    if not isinstance(regions, dict):
        return regions
    known = {str(x) for x in labels} if labels is not None else set()
    return {(int(k) if k.isdigit() and k not in known else k): w for k, w in regions.items()}


def build_stimuli(blocks: list[dict], labels, n: int) -> dict:
    """The engine inputs of validated blocks: input name -> summed :class:`~neuralmass.stimulus.Stimulus`.

    Parameters
    ----------
    blocks : list of dict
        From :func:`validate_stimulus_blocks` (the config's ``stimulus`` entry).
    labels : sequence of str
        Region labels of the study's connectome.
    n : int
        Number of regions.

    Returns
    -------
    dict
        For ``Simulator.run(inputs=...)``; empty without blocks.
    """
    inputs: dict = {}
    for i, block in enumerate(blocks or ()):
        stim = block_stimulus(i, block, labels, n)
        name = block["input"]
        inputs[name] = inputs[name] + stim if name in inputs else stim
    return inputs


# ---------------------------------------------------------------------------------- records
def stimulus_summary(blocks: list[dict], spec, labels, n: int) -> list[dict]:
    """What each block does, for ``summary.json`` and the report.

    Each entry is the validated block plus ``input_unit``, ``span_ms`` (``[start, end]``, ``None``
    for no end) and ``targets`` (region label -> weight, regions with a nonzero weight; ``"all"``
    for a stimulus acting everywhere).
    """
    labels = [str(x) for x in labels]
    out = []
    for i, block in enumerate(blocks or ()):
        stim = block_stimulus(i, block, labels, n)
        lo, hi = temporal_stimulus(block).span
        weights = stim.terms[0].weights if stim.terms else stim.weights
        targets = "all" if weights is None else {
            labels[j]: float(w) for j, w in enumerate(np.asarray(weights)) if w != 0}
        unit = spec.input(block["input"]).unit
        out.append({**block, "input_unit": "1" if unit is None else str(unit),
                    "span_ms": [lo, hi if math.isfinite(hi) else None], "targets": targets})
    return out


def describe_block(i: int, entry: dict) -> str:
    """One line of the report for an entry of :func:`stimulus_summary`."""
    skip = set(PLACEMENT_KEYS) | {"input_unit", "span_ms", "targets"}
    args = ", ".join(f"{k} {_show_argument(k, v, entry['input_unit'])}"
                     for k, v in entry.items() if k not in skip)
    targets = entry["targets"]
    where = "all regions" if targets == "all" else ", ".join(f"{k} ({w:g})" for k, w in targets.items())
    return f"stimulus[{i}]: {entry['kind']} into `{entry['input']}`: {args}; regions: {where}"


def _show_argument(name: str, value, input_unit: str) -> str:
    what = ARGUMENT_READERS[name][0]
    unit = {"time": " ms", "frequency": " Hz", "input": f" ({input_unit})", "angle": " rad"}.get(what, "")
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"
