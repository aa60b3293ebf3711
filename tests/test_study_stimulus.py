"""``[[stimulus]]`` blocks of a study config: what they do to the simulation, what they record,
and the errors a bad block gives before anything is simulated.

The simulations run the main job on the 8-region example connectome with BOLD and EEG/MEG off
(about ten seconds each, mostly compilation); the same seed with and without a stimulus gives the
same noise, so any difference is the stimulus's doing.
"""

import json
import re

import numpy as np
import pytest

import neuralmass
from neuralmass.cli import main
from neuralmass.config import ConfigError, load_config
from neuralmass.studies import plan_study, run_study
from neuralmass.studies.preflight import PreflightError
from neuralmass.studies.stimulation import (ARGUMENT_READERS, WAVEFORMS, build_stimuli,
                                            validate_stimulus_blocks, waveform_arguments)

BASE = """
[study]
seed = 5
[data]
dataset = "example_connectome"
[simulation]
duration = "30 s"
transient = "2 s"
[network]
k = 0.0002                   # weak coupling: the driven region stands out from its neighbours
[bold]
enabled = false
baseline = 0.0               # no resting-level run (it only serves BOLD)
[meg_eeg]
enabled = false
"""

ONSET_MS = 16_000.0

PULSE = BASE + """
[[stimulus]]
kind = "pulse"
onset = "16 s"
duration = "3 s"
amplitude = "2 Hz"          # = 0.002 / ms, converted to the unit of Hopf's x_ext
regions = ["R2"]
"""

SINE_HZ = 3.0

SINE = BASE + """
[[stimulus]]
kind = "sinusoid"
input = "x_ext"
frequency = "3 Hz"
amplitude = "0.003 / ms"
onset = "16 s"
regions = [5]
"""


def _run(tmp_path_factory, name, toml):
    tmp = tmp_path_factory.mktemp(name)
    (tmp / "study.toml").write_text(toml)
    summary = run_study(load_config(tmp / "study.toml", {"study": {"output": str(tmp / "out")}}), quiet=True)
    return summary, tmp / "out"


def _neural(folder):
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(folder / "neural.nc") as ds:
        return ds["time"].values, ds["neural"].values.astype(float), [str(r) for r in ds["regions"].values]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return _run(tmp_path_factory, "baseline", BASE)


@pytest.fixture(scope="module")
def pulsed(tmp_path_factory):
    return _run(tmp_path_factory, "pulse", PULSE)


# ------------------------------------------------------------------ what a stimulus does
def test_pulse_changes_its_region_from_onset_not_before(baseline, pulsed):
    t, x0, labels = _neural(baseline[1])
    t1, x1, _ = _neural(pulsed[1])
    assert np.array_equal(t, t1)
    before, during = t <= ONSET_MS, (t > ONSET_MS) & (t <= ONSET_MS + 3000.0)
    # same seed, same noise: identical until the pulse starts
    np.testing.assert_allclose(x1[before], x0[before], rtol=0, atol=1e-6)
    diff = np.abs(x1 - x0)[during].max(axis=0)
    r2 = labels.index("R2")
    # the driven region moves (x^3 ~ input: about 0.13), the others only through the weak coupling
    assert diff[r2] > 0.1
    assert diff[r2] > 3 * np.delete(diff, r2).max()
    # in the direction of the (positive) input
    assert (x1 - x0)[during, r2].mean() > 0.1
    # from the first sample after the onset (times count from the start of the run, transient included)
    first = t[np.argmax(np.abs(x1 - x0)[:, r2] > 1e-3)]
    assert ONSET_MS < first <= ONSET_MS + 50.0


def test_sinusoid_gives_a_spectral_peak_at_its_frequency(baseline, tmp_path_factory):
    _, out = _run(tmp_path_factory, "sine", SINE)
    t, x, _ = _neural(out)
    _, x0, _ = _neural(baseline[1])
    during = t > ONSET_MS + 2000.0
    fs = 1000.0 / np.diff(t).mean()

    def spectrum(sig):
        sig = sig[during, 5] - sig[during, 5].mean()
        p = np.abs(np.fft.rfft(sig * np.hanning(len(sig)))) ** 2
        return np.fft.rfftfreq(len(sig), 1 / fs), p

    f, p = spectrum(x)
    band = f > 1.0                                 # above the slow noise-driven Hopf fluctuations
    assert f[band][np.argmax(p[band])] == pytest.approx(SINE_HZ, abs=0.15)
    _, p0 = spectrum(x0)
    at = np.argmin(np.abs(f - SINE_HZ))
    assert p[at] > 100 * p0[at]                    # the peak is the stimulus's, not the network's


def test_blocks_on_one_input_add_up():
    """Two pulses on one region give the input of one pulse with the summed amplitude; blocks on
    different regions give the sum of their input arrays."""
    spec = neuralmass.MODELS["Hopf"]
    labels = ["A", "B", "C"]
    pulse = {"kind": "pulse", "onset": "100 ms", "duration": "50 ms"}
    two = validate_stimulus_blocks([{**pulse, "amplitude": 0.2, "regions": ["B"]},
                                    {**pulse, "amplitude": 0.3, "regions": [1]}], spec, 1000.0)
    one = validate_stimulus_blocks([{**pulse, "amplitude": 0.5, "regions": "B"}], spec, 1000.0)
    ts = np.arange(0.0, 300.0, 5.0)
    s_two = build_stimuli(two, labels, 3)["x_ext"].sample(ts)
    s_one = build_stimuli(one, labels, 3)["x_ext"].sample(ts)
    np.testing.assert_allclose(s_two, s_one, atol=1e-12)
    assert s_one.shape == (len(ts), 3) and s_one[:, 1].max() == pytest.approx(0.5)

    sine = {"kind": "sinusoid", "frequency": "10 Hz", "amplitude": 0.1, "weights": [0.0, 1.0, 0.5]}
    ramp = {"kind": "ramp", "onset": 0, "duration": "200 ms", "amplitude": 0.4, "regions": {"A": 1.0, "2": 2.0}}
    both = build_stimuli(validate_stimulus_blocks([sine, ramp], spec, 1000.0), labels, 3)["x_ext"].sample(ts)
    parts = [build_stimuli(validate_stimulus_blocks([b], spec, 1000.0), labels, 3)["x_ext"].sample(ts)
             for b in (sine, ramp)]
    np.testing.assert_allclose(both, parts[0] + parts[1], atol=1e-12)


def test_outputs_record_the_stimuli(pulsed):
    summary, out = pulsed
    on_disk = json.loads((out / "summary.json").read_text())
    for record in (summary, on_disk):
        [s] = record["stimulus"]
        assert s["kind"] == "pulse" and s["input"] == "x_ext" and s["input_unit"] == "1 / ms"
        assert s["amplitude"] == pytest.approx(0.002) and s["onset"] == ONSET_MS
        assert s["span_ms"] == [ONSET_MS, ONSET_MS + 3000.0] and s["targets"] == {"R2": 1.0}
    assert json.loads((out / "config.json").read_text())["stimulus"][0]["regions"] == ["R2"]
    report = (out / "report.md").read_text()
    assert "## Stimulation" in report and "pulse into `x_ext`" in report and "R2 (1)" in report


# ------------------------------------------------------------------ reading the blocks
def test_every_waveform_argument_has_a_reader():
    """The block keys are the arguments of neuralmass.stimulus's functions: none is unreadable."""
    for kind in WAVEFORMS:
        required, optional = waveform_arguments(kind)
        assert set(required + optional) <= set(ARGUMENT_READERS), kind


def test_defaults_units_and_idempotence():
    spec = neuralmass.MODELS["JansenRit"]
    blocks = [{"kind": "pulse_train", "onset": "1 s", "frequency": "20 Hz", "width": "5 ms",
               "n_pulses": 4, "amplitude": "0.05 kHz", "rise": "1 ms", "regions": "all"}]
    [b] = validate_stimulus_blocks(blocks, spec, 5000.0)
    assert b["input"] == "p"                                # the coupling input by default
    assert (b["onset"], b["frequency"], b["width"], b["amplitude"], b["rise"]) == (1000.0, 20.0, 5.0, 50.0, 1.0)
    assert validate_stimulus_blocks([b], spec, 5000.0) == [b]
    s = build_stimuli([b], None, 4)["p"]
    assert s.n_regions is None and s.span == (1000.0, 1155.0)


def _load(blocks, **sections):
    return load_config(overrides={"stimulus": blocks, **sections})


GOOD = {"kind": "pulse", "onset": "2 s", "duration": "100 ms", "amplitude": "0.5", "regions": ["rHC"]}


@pytest.mark.parametrize("block, expected", [
    ({**GOOD, "amplitud": 1.0}, [r"stimulus\[1\]\.amplitud is not a key", "did you mean 'amplitude'",
                                  "allowed: kind, input, regions, weights, onset, duration, amplitude"]),
    ({**GOOD, "kind": "puls"}, [r"stimulus\[1\]\.kind = 'puls' is not a known waveform", "'pulse'",
                                '"sinusoid"']),
    ({**GOOD, "input": "z_ext"}, [r"stimulus\[1\]\.input = 'z_ext' is not an input of Hopf",
                                  "choose one of x_ext, y_ext"]),
    ({**GOOD, "amplitude": "0.5 mV"}, [r"stimulus\[1\]\.amplitude = '0.5 mV' cannot be converted to 1 / ms",
                                       "Hopf's input x_ext", 'e.g. "1 / ms"']),
    ({**GOOD, "onset": "2 Hz"}, [r"stimulus\[1\]\.onset = '2 Hz' is not a time", 'e.g. "2 s"']),
    ({**GOOD, "onset": "1000 s"}, [r"stimulus\[1\]\.onset = '1000 s'", r"\[1000000, 1000100\) ms",
                                   r"outside the simulated time span \[0, 900000\) ms",
                                   "lengthen simulation.duration"]),
    ({**GOOD, "onset": "-5 s", "duration": "1 s"}, [r"stimulus\[1\]\.onset = '-5 s'", "outside"]),
    ({k: v for k, v in GOOD.items() if k != "duration"}, [r"stimulus\[1\] \(pulse\) needs duration",
                                                          'duration = "100 ms"']),
    ({k: v for k, v in GOOD.items() if k != "regions"}, [r"stimulus\[1\] needs a spatial pattern",
                                                         'regions = "all"']),
    ({**GOOD, "weights": [1.0]}, [r"stimulus\[1\] has both regions and weights"]),
    ({**GOOD, "duration": "-1 ms"}, [r"stimulus\[1\]\.duration = '-1 ms' must be positive"]),
    ({**GOOD, "kind": "sinusoid", "frequency": "10 ms"},
     [r"stimulus\[1\]\.frequency = '10 ms' is not a frequency"]),
    ({"kind": "pulse_train", "onset": 0, "frequency": "10 Hz", "width": "5 ms", "amplitude": 1.0,
      "regions": [0]}, [r"stimulus\[1\] \(pulse_train\) needs n_pulses"]),
    ({"kind": "pulse_train", "onset": 0, "frequency": "10 Hz", "width": "200 ms", "amplitude": 1.0,
      "n_pulses": 3, "regions": [0]}, [r"stimulus\[1\] \(pulse_train\): width=200.0 must be positive "
                                       r"and shorter than the period 100 ms"]),
    ({**GOOD, "regions": [True]}, [r"stimulus\[1\]\.regions = \[True\] must be region labels"]),
])
def test_each_bad_block_names_its_index_key_value_and_fix(block, expected):
    first = {"kind": "constant", "amplitude": 0.0, "regions": "all"}   # a good block before it
    with pytest.raises(ConfigError) as err:
        _load([first, block])
    for pattern in expected:
        assert re.search(pattern, str(err.value)), (pattern, str(err.value))
    assert "\n" not in str(err.value)


def test_a_single_stimulus_table_is_refused():
    with pytest.raises(ConfigError, match=r"\[stimulus\] is a single table; write each stimulus as a "
                                          r"\[\[stimulus\]\] block"):
        _load(dict(GOOD))


def test_a_stimulus_only_in_the_transient_warns(caplog):
    _load([{**GOOD, "onset": "1 s"}], simulation={"transient": "36 s"})
    assert "within the transient" in caplog.text


# ------------------------------------------------------------------ regions, before any simulation
@pytest.mark.parametrize("placement, expected", [
    ('regions = ["R10"]', r"stimulus\[0\]\.regions = \['R10'\]: unknown region label 'R10'\. Did you "
                          r"mean 'R1'.*Known labels: R0, R1"),
    ("regions = [8]", r"stimulus\[0\]\.regions = \[8\]: region index 8 is out of range for 8 regions"),
    ("regions = {R1 = 1.0, Rx = 2.0}", r"stimulus\[0\]\.regions = .*unknown region label 'Rx'"),
    ("weights = [1.0, 0.5]", r"stimulus\[0\]\.weights = \[1\.0, 0\.5\]: .*one value per region \(8\)"),
])
def test_regions_are_checked_against_the_connectome_before_simulating(placement, expected, tmp_path):
    block = f'[[stimulus]]\nkind = "constant"\namplitude = 0.001\n{placement}\n'
    (tmp_path / "s.toml").write_text(BASE + block)
    cfg = load_config(tmp_path / "s.toml", {"study": {"output": str(tmp_path / "r")}})
    with pytest.raises(PreflightError, match=expected):
        plan_study(cfg)
    assert not (tmp_path / "r").exists()


class _CountingSimulator:
    calls = 0

    def __init__(self, *a, **k):
        pass

    def run(self, *a, **k):
        _CountingSimulator.calls += 1
        raise AssertionError("nothing should be simulated")


def test_cli_prints_one_line_and_simulates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(neuralmass, "Simulator", _CountingSimulator)
    cfg = tmp_path / "s.toml"
    cfg.write_text(BASE + '\n[[stimulus]]\nkind = "pulse"\nonset = "1 s"\nduration = "1 s"\n'
                          'amplitude = 1.0\nregions = ["R00"]\n')
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("neuralmass: error")]
    assert len(err) == 1 and "stimulus[0].regions = ['R00']" in err[0] and "'R0'" in err[0]
    assert _CountingSimulator.calls == 0 and not (tmp_path / "r").exists()


def test_print_config_documents_the_stimulus_blocks():
    from neuralmass.config import default_config_toml

    text = default_config_toml()
    assert "# [[stimulus]]" in text and "pulse_train" in text


def test_sweeps_refuse_stimulus_blocks():
    from neuralmass.studies.build import sweep_model_from_config as model_from_config

    with pytest.raises(ConfigError, match=r"\[\[stimulus\]\] blocks are not supported by sweeps"):
        model_from_config({"stimulus": [GOOD]})
