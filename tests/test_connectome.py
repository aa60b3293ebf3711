"""Connectome: validation, explicit normalisations, delays with units, subsets."""

import brainunit as u
import numpy as np
import pytest

from neuralmass.network.connectome import Connectome
from neuralmass.units import UnitMismatchError

W3 = np.array([[0.0, 2.0, 6.0],
               [1.0, 0.0, 3.0],
               [0.0, 4.0, 0.0]])
L3 = np.array([[0.0, 50.0, 20.0],
               [50.0, 0.0, 10.0],
               [20.0, 10.0, 0.0]])


def make(**kw):
    args = dict(weights=W3, lengths=L3, labels=["a", "b", "c"])
    args.update(kw)
    return Connectome(**args)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kw, arg", [
    (dict(weights=np.ones((2, 3))), "weights"),
    (dict(weights=np.array([[0.0, np.nan, 0], [0, 0, 0], [0, 0, 0]])), "weights"),
    (dict(weights=-W3), "weights"),
    (dict(lengths=np.ones((2, 2))), "lengths"),
    (dict(lengths=-L3), "lengths"),
    (dict(lengths=np.where(L3 == 50.0, np.inf, L3)), "lengths"),
    (dict(labels=["a", "b"]), "labels"),
    (dict(centres=np.zeros((3, 2))), "centres"),
    (dict(hemispheres=["L"]), "hemispheres"),
])
def test_validation_errors_name_the_argument(kw, arg):
    with pytest.raises(ValueError, match=arg):
        make(**kw)


def test_negative_weight_error_reports_value_and_position():
    w = W3.copy()
    w[2, 1] = -0.5
    with pytest.raises(ValueError, match=r"weights\[2, 1\] = -0.5"):
        make(weights=w)


def test_lengths_with_wrong_unit_raise_unit_error():
    with pytest.raises(UnitMismatchError, match="lengths"):
        make(lengths=L3 * u.ms)


def test_lengths_quantity_converted_to_mm():
    c = make(lengths=L3 * u.cmeter)  # 50 cm -> 500 mm
    assert c.lengths_mm[0, 1] == pytest.approx(500.0)
    assert c.distances.to_decimal(u.meter)[0, 1] == pytest.approx(0.5)


def test_arrays_are_read_only_and_copied():
    src = W3.copy()
    c = make(weights=src)
    src[0, 1] = 99.0
    assert c.weights[0, 1] == 2.0
    with pytest.raises(ValueError):
        c.weights[0, 1] = 5.0


def test_lengths_default_to_euclidean_centre_distances():
    centres = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 12.0]])
    c = Connectome(weights=W3, centres=centres)
    assert c.lengths_mm[0, 1] == pytest.approx(5.0)
    assert c.lengths_mm[1, 2] == pytest.approx(13.0)


# ----------------------------------------------------------------------------- normalisations
def test_normalized_max_exact():
    c = make().normalized("max")
    np.testing.assert_allclose(c.weights, W3 / 6.0, rtol=0, atol=1e-15)
    assert c.weights.max() == 1.0
    np.testing.assert_array_equal(c.lengths_mm, L3)  # lengths untouched


def test_normalized_rowsum_exact():
    c = make().normalized("rowsum")
    expected = np.array([[0.0, 0.25, 0.75],
                         [0.25, 0.0, 0.75],
                         [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(c.weights, expected, rtol=0, atol=1e-15)


def test_normalized_rowsum_keeps_zero_rows_zero():
    w = W3.copy()
    w[1] = 0.0
    c = make(weights=w).normalized("rowsum")
    np.testing.assert_array_equal(c.weights[1], 0.0)
    np.testing.assert_allclose(c.weights.sum(axis=1), [1.0, 0.0, 1.0])


def test_normalized_log_exact():
    c = make().normalized("log")
    expected = np.log1p(W3) / np.log(7.0)
    np.testing.assert_allclose(c.weights, expected, rtol=1e-14)
    assert c.weights[1, 0] == pytest.approx(np.log(2) / np.log(7))


def test_normalized_none_and_unknown():
    np.testing.assert_array_equal(make().normalized("none").weights, W3)
    with pytest.raises(ValueError, match="rowsum"):
        make().normalized("zscore")


def test_normalization_returns_new_object_of_same_class():
    c = make()
    n = c.normalized("max")
    assert n is not c and type(n) is Connectome
    np.testing.assert_array_equal(c.weights, W3)  # original unchanged
    assert n.metadata["normalization"] == "max"


def test_with_zero_diagonal():
    w = W3 + np.eye(3)
    c = make(weights=w).with_zero_diagonal()
    np.testing.assert_array_equal(np.diag(c.weights), 0.0)
    np.testing.assert_array_equal(c.weights, W3)


# ----------------------------------------------------------------------------- delays
def test_delay_50mm_at_5_m_per_s_is_10ms():
    c = make()
    d = c.delays(5.0 * u.meter / u.second)
    assert d.to_decimal(u.ms)[0, 1] == pytest.approx(10.0)
    assert d.to_decimal(u.second)[1, 2] == pytest.approx(0.002)  # 10 mm at 5 m/s = 2 ms
    # plain numbers are read in mm/ms (= m/s)
    np.testing.assert_allclose(c.delays_ms(5.0), L3 / 5.0)
    # other speed units are converted, not just relabelled: 18 km/h = 5 m/s
    np.testing.assert_allclose(c.delays_ms(18.0 * u.kmeter / u.hour), L3 / 5.0, rtol=1e-12)


def test_delay_speed_errors():
    c = make()
    with pytest.raises(UnitMismatchError, match="speed"):
        c.delays(5.0 * u.ms)
    with pytest.raises(ValueError, match="speed"):
        c.delays(0.0)
    with pytest.raises(ValueError, match="speed"):
        c.delays(-3.0)


# ----------------------------------------------------------------------------- subsets
def test_subset_by_index_and_label():
    c = make(hemispheres=["L", "R", "L"])
    s = c.subset([2, 0])
    np.testing.assert_array_equal(s.weights, [[0.0, 0.0], [6.0, 0.0]])
    np.testing.assert_array_equal(s.lengths_mm, [[0.0, 20.0], [20.0, 0.0]])
    assert list(s.labels) == ["c", "a"] and list(s.hemispheres) == ["L", "L"]
    s2 = c.subset(["c", "a"])
    np.testing.assert_array_equal(s2.weights, s.weights)
    s3 = c.subset(np.array([True, False, True]))
    np.testing.assert_array_equal(s3.weights, W3[np.ix_([0, 2], [0, 2])])
    with pytest.raises(ValueError, match="zz"):
        c.subset(["zz"])


def test_from_arrays_distances_alias():
    c = Connectome.from_arrays(W3, distances=L3 * u.mm, source="test", licence="CC0")
    np.testing.assert_array_equal(c.lengths_mm, L3)
    assert list(c.labels) == ["R0", "R1", "R2"]
    assert c.metadata["source"] == "test"
    with pytest.raises(ValueError, match="distances"):
        Connectome.from_arrays(W3, lengths=L3, distances=L3)


# ----------------------------------------------------------------------------- implausible inputs
def test_string_weights_are_refused_even_when_numeric():
    # np.asarray(['0.5', ...], dtype=float) converts silently; a table read as text is refused
    with pytest.raises(TypeError, match="weights contain text"):
        make(weights=W3.astype(str))
    with pytest.raises(TypeError, match="weights contain text"):
        make(weights=[[0, "1"], ["1", 0]], lengths=None, labels=None)


def test_lengths_in_micrometres_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"lengths reach 50000 mm .*divided by 1000"):
        make(lengths=L3 * 1000.0)
    # centres in µm give implausible distances too
    with pytest.raises(ValueError, match=r"distances between the centres"):
        make(lengths=None, centres=np.array([[0, 0, 0], [3e5, 0, 0], [0, 3e5, 0]]))
    # a Quantity in µm is converted, not refused
    c = make(lengths=L3 * 1000.0 * u.um)
    np.testing.assert_allclose(c.lengths, L3)


def test_duplicate_labels_are_refused():
    with pytest.raises(ValueError, match="region 'a' more than once"):
        make(labels=["a", "b", "a"])


def test_has_lengths():
    assert make().has_lengths
    assert not make(lengths=None).has_lengths
