"""Unit conversion at the API boundary goes through :mod:`neuralmass.units` only.

A wrong unit at any of these entry points raises units.py's :class:`UnitMismatchError` (a
``ValueError``) naming the argument, and a right unit in another prefix gives the same number as
the plain value in the documented unit.
"""

import brainunit as u
import numpy as np
import pytest

from neuralmass import units
from neuralmass.forward.bold import bold_coefficients
from neuralmass.forward.hrf import gamma_hrf
from neuralmass.network.connectome import Connectome
from neuralmass.params import Parameter
from neuralmass.stimulus import pulse_train, sinusoid
from neuralmass.units import UnitMismatchError


@pytest.mark.parametrize("call, name", [
    (lambda: pulse_train(0.0, 5.0 * u.ms, 1.0, 1.0, n_pulses=2), "frequency"),
    (lambda: sinusoid(3.0 * u.mV, 1.0), "frequency"),
    (lambda: Connectome.from_arrays(np.ones((2, 2)) - np.eye(2), lengths=np.ones((2, 2)) * u.second),
     "lengths"),
    (lambda: gamma_hrf(np.arange(3.0) * u.mV), "t_s"),
    (lambda: bold_coefficients("revised", B0=3.0 * u.ms), "B0"),
    (lambda: units.unit_factor(u.mV, u.ms, "leadfield_unit"), "leadfield_unit"),
])
def test_wrong_unit_raises_the_units_error_naming_the_argument(call, name):
    with pytest.raises(UnitMismatchError, match=rf"(?s)^{name}=.*cannot be converted") as info:
        call()
    assert type(info.value) is UnitMismatchError          # units.py's, not brainunit's


def test_conversions_agree_with_plain_values_in_the_documented_unit():
    # a pulse train at 0.04 kHz is the one at 40 Hz (plain frequencies are read in Hz)
    ts = np.arange(0.0, 100.0, 0.5)
    np.testing.assert_array_equal(pulse_train(0.0, 0.04 * u.kHz, 5.0, 1.0, n_pulses=3).sample(ts),
                                  pulse_train(0.0, 40.0, 5.0, 1.0, n_pulses=3).sample(ts))
    # a stimulus sampled on a grid in seconds equals the one sampled on the same grid in ms
    s = sinusoid(10.0, 1.0)
    np.testing.assert_allclose(s.sample(ts / 1000.0 * u.second), s.sample(ts), rtol=0, atol=1e-12)
    # gamma_hrf: times in ms as a Quantity are the same as plain seconds
    t = np.linspace(0.0, 20.0, 41)
    np.testing.assert_allclose(gamma_hrf(t * 1000.0 * u.ms), gamma_hrf(t), rtol=1e-6)
    # tract lengths in cm are 10x the same numbers in mm
    w = np.array([[0.0, 1.0], [1.0, 0.0]])
    c = Connectome.from_arrays(w, lengths=np.array([[0.0, 4.0], [4.0, 0.0]]) * u.cmeter)
    assert c.lengths[0, 1] == 40.0
    # the revised BOLD coefficients at 3000 mT are those at 3 T
    a, b = bold_coefficients("revised", B0=3000.0 * u.mtesla), bold_coefficients("revised", B0=3.0)
    assert {k: float(v) for k, v in a.items()} == {k: float(v) for k, v in b.items()}


def test_unit_factor_and_param_factor():
    assert units.unit_factor(u.second, u.ms) == 1000.0
    spec = Parameter("f", 1.0, unit=u.Hz, canonical=u.kHz)
    assert spec.factor == pytest.approx(1e-3, rel=1e-15)


def test_to_numpy_keeps_float64_and_reads_plain_values_in_unit():
    x = units.to_numpy([1.0, 2.0], "x", u.second, u.ms)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, [1000.0, 2000.0])
    with pytest.raises(TypeError, match="x='1 s' is a string"):
        units.to_numpy("1 s", "x", u.second)
