"""One reader of parameter names and one range type, shared by networks, fitting and sweeps."""

import numpy as np
import pytest

from neuralmass.explore.space import Axis
from neuralmass.fit.space import Dimension
from neuralmass.params import Interval, known_names, resolve_path

TREE = {"node": {"a": 0.0, "omega": 1.0}, "k": 0.1, "speed": 5.0, "conn": {"w": np.ones(3)},
        "noise": {"x": {"sigma": 0.01}}}


@pytest.mark.parametrize("name, path", [
    ("a", ("node", "a")), ("node.a", ("node", "a")), ("k", ("k",)), ("coupling.k", ("k",)),
    ("speed", ("speed",)), ("conn.w", ("conn", "w")), ("noise.x.sigma", ("noise", "x", "sigma"))])
def test_every_spelling_of_a_name_reaches_its_value(name, path):
    assert resolve_path(name, TREE) == path


def test_unknown_group_and_ambiguous_names_are_refused_with_the_known_names():
    with pytest.raises(KeyError, match=r"'kk' is not a parameter.*k, speed, a, omega, conn.w, noise.x.sigma"):
        resolve_path("kk", TREE)
    with pytest.raises(KeyError, match="names a group"):
        resolve_path("noise.x", TREE)
    with pytest.raises(KeyError, match="not a parameter"):
        resolve_path("node", TREE)
    both = {**TREE, "a": 1.0}
    with pytest.raises(KeyError, match=r"both a node and a network.*'node.a' or 'coupling.a'"):
        resolve_path("a", both)
    assert resolve_path("node.a", both) == ("node", "a") and resolve_path("coupling.a", both) == ("a",)
    assert known_names(TREE) == ["k", "speed", "a", "omega", "conn.w", "noise.x.sigma"]


def test_interval_maps_the_unit_interval_onto_a_linear_or_geometric_range():
    lin, log = Interval(2.0, 6.0), Interval(1.0, 100.0, "log")
    b = np.array([0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(lin.from_unit(b), [2.0, 3.0, 4.0, 6.0])
    np.testing.assert_allclose(log.from_unit(b), [1.0, 100 ** 0.25, 10.0, 100.0])   # geometric mean at 0.5
    np.testing.assert_allclose(log.to_unit(log.from_unit(b)), b, atol=1e-12)
    np.testing.assert_allclose(log.grid(3), [1.0, 10.0, 100.0])
    for bad in [dict(low=1.0, high=1.0), dict(low=0.0, high=1.0, scale="log"), dict(low=0, high=1, scale="exp")]:
        with pytest.raises(ValueError):
            Interval(**bad)


def test_fitting_and_sweeps_read_a_range_the_same_way():
    b = np.linspace(0.0, 1.0, 7)
    dim = Dimension("speed", ("speed",), 1.0, 20.0, transform="log")
    axis = Axis("speed", 1.0, 20.0, scale="log")
    np.testing.assert_allclose(np.asarray(dim.box_to_user(b)), axis.from_unit(b), rtol=1e-6)
    np.testing.assert_allclose(dim.user_to_box(axis.from_unit(b)), b, atol=1e-6)
