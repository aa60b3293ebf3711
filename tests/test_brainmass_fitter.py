"""brainmass 0.1.1's ``Fitter(model, optimizer, predict=...)`` call form on neuralmass (issue 23).

The scenarios are those brainmass users run (three backends, the loss_fn path, transient,
callbacks and early stopping, bounds, the errors), on a model object holding a
``neuralmass.Param`` and on a one-node Hopf. Numbers come from closed forms (the optimum of the
toy is the target value), from a hand-written optax loop (the gradient backend must follow it
step for step) and from the Hopf run at a known parameter.
"""

import brainstate
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neuralmass as nm
from neuralmass import objectives
from neuralmass.fit import FitResult, Fitter
from neuralmass.fit.module_fitter import ModuleFitter, is_module_form

LO, HI = 0.5, 3.0
TARGET = jnp.full(6, 2.0)


class Toy:
    """Holds one bounded scalar ``k``; its prediction is ``k`` repeated (optimum: the target)."""

    def __init__(self, k=1.0, bounds=(LO, HI), transform=None):
        self.k = nm.Param(k, bounds=bounds, transform=transform)
        self.offset = nm.Param(0.0, fit=False)


def predict(model):
    return (model.k.value + model.offset.value) * jnp.ones(6)


# ------------------------------------------------------------------------------ the call form
def test_form_detection_keeps_neuralmass_fitter():
    assert is_module_form((Toy(), optax.adam(0.1)), {})
    assert is_module_form((Toy(), "Nelder-Mead"), {})
    assert is_module_form((Toy(), {"n_sample": 4}), {})
    assert is_module_form((Toy(),), {"predict": predict})
    assert is_module_form((Toy(),), {"loss_fn": lambda m: (m.k.value, None)})
    # neuralmass's own loss takes (sim, target); a third positional is its backend
    assert not is_module_form((Toy(), lambda sim, target: 0.0), {})
    assert not is_module_form((Toy(), None, "scipy"), {})
    assert not is_module_form((Toy(),), {"loss_fn": lambda sim, target: 0.0, "space": {"k": (0, 1)}})
    f = Fitter(Toy(), predict=predict)
    assert isinstance(f, ModuleFitter) and f.backend == "grad"


# ------------------------------------------------------------------------------ gradient backend
def _hand_rolled(tx, n_steps, k0=1.0):
    """The optax loop written out: the logit coordinate z of k in (LO, HI), RMSE to the target."""
    def loss(z):
        k = LO + jax.nn.sigmoid(z) * (HI - LO)
        return jnp.sqrt(jnp.mean((k * jnp.ones(6) - TARGET) ** 2))

    b = (k0 - LO) / (HI - LO)
    z = jnp.asarray([np.log(b) - np.log1p(-b)], jnp.float32)[0]
    state = tx.init(z)
    out = []
    for _ in range(n_steps):
        v, g = jax.value_and_grad(loss)(z)
        upd, state = tx.update(g, state, z)
        z = optax.apply_updates(z, upd)
        out.append(float(v))
    return np.array(out)


def test_grad_follows_the_hand_written_optax_loop():
    fitter = Fitter(Toy(), optax.adam(0.1), predict=predict)
    res = fitter.fit(TARGET, n_steps=25)
    hand = _hand_rolled(optax.adam(0.1), 25)
    np.testing.assert_allclose(res.history, hand, rtol=2e-6, atol=1e-6)
    assert res.history[0] == pytest.approx(1.0, rel=1e-6)        # |k0 - 2| with k0 = 1
    assert res.best_loss == pytest.approx(hand.min(), rel=1e-6)
    assert res.loss == res.best_loss and res.params is res.best_params
    # the model holds the best values after the fit
    assert abs(res.best_params["k"] - 2.0) < 0.05
    assert fitter.model.k.value == res.best_params["k"]
    assert res.n_steps == 25 and res.backend == "grad" and res.raw is None
    np.testing.assert_allclose(np.asarray(res.prediction), res.best_params["k"], rtol=1e-6)


def test_grad_default_optimizer_is_adam_1e_2():
    res = Fitter(Toy(), predict=predict).fit(TARGET, n_steps=6)
    np.testing.assert_allclose(res.history, _hand_rolled(optax.adam(1e-2), 6), rtol=2e-6, atol=1e-6)


def test_grad_takes_an_optimizer_object_carrying_tx():
    """braintools' OptaxOptimizer keeps its optax transformation as ``tx``: it is used as such."""
    class Carrier:
        tx = optax.sgd(0.5)

    opt = Carrier()
    fitter = Fitter(Toy(), opt, predict=predict)
    assert fitter.optimizer is opt
    res = fitter.fit(TARGET, n_steps=8)
    np.testing.assert_allclose(res.history, _hand_rolled(optax.sgd(0.5), 8), rtol=2e-6, atol=1e-6)
    assert res.optimizer is opt and fitter.optimizer is opt


# ------------------------------------------------------------------------------ gradient-free backends
def test_nevergrad_reaches_the_optimum_and_its_seed_reproduces():
    opts = {"method": "DE", "n_sample": 6, "seed": 3}
    res = Fitter(Toy(), opts, predict=predict, backend="nevergrad").fit(TARGET, n_steps=15)
    assert abs(res.best_params["k"] - 2.0) < 0.02 and res.best_loss < 0.02
    assert res.losses.shape == (15, 6) and res.n_simulations == 90
    assert res.raw == res.best_params
    again = Fitter(Toy(), opts, predict=predict, backend="nevergrad").fit(TARGET, n_steps=15)
    np.testing.assert_array_equal(again.losses, res.losses)
    other = Fitter(Toy(), {**opts, "seed": 4}, predict=predict, backend="nevergrad").fit(TARGET, n_steps=15)
    assert not np.array_equal(other.losses, res.losses)


@pytest.mark.parametrize("method", ["Nelder-Mead", "L-BFGS-B", None])
def test_scipy_minimize_methods(method):
    res = Fitter(Toy(), method, predict=predict, backend="scipy").fit(TARGET, n_steps=1)
    assert res.best_params["k"] == pytest.approx(2.0, abs=1e-3)
    assert res.raw.x[0] == pytest.approx(res.best_params["k"], rel=1e-6)   # SciPy's OptimizeResult
    assert res.optimizer == (method or "L-BFGS-B")


def test_scipy_differential_evolution():
    res = Fitter(Toy(), {"method": "DE", "popsize": 8}, predict=predict, backend="scipy").fit(TARGET, n_steps=12)
    assert abs(res.best_params["k"] - 2.0) < 0.02
    assert res.losses.shape == (12, 8)
    assert np.all(np.diff(res.history) <= 0)              # DE keeps a member only when it improves


# ------------------------------------------------------------------------------ bounds
def test_an_optimum_outside_the_bounds_ends_on_the_bound():
    far = jnp.full(6, 4.0)
    res = Fitter(Toy(), "Nelder-Mead", predict=predict, backend="scipy").fit(far, n_steps=2)
    assert res.best_params["k"] == pytest.approx(HI, abs=1e-6)
    assert res.best_loss == pytest.approx(1.0, abs=1e-5)                 # |3 - 4|
    ng = Fitter(Toy(), {"n_sample": 6}, predict=predict, backend="nevergrad").fit(far, n_steps=5)
    assert np.all((ng.trace >= LO) & (ng.trace <= HI))
    grad = Fitter(Toy(), optax.adam(0.3), predict=predict).fit(far, n_steps=30)
    assert 2.9 < grad.best_params["k"] < HI                           # logit: approaches, never crosses


def test_search_space_overrides_and_supplies_bounds():
    res = Fitter(Toy(), "Nelder-Mead", predict=predict, backend="scipy",
                 search_space={"k": (1.0, 1.5)}).fit(TARGET, n_steps=1)
    assert res.best_params["k"] == pytest.approx(1.5, abs=1e-6)
    free = Toy(bounds=None)
    with pytest.raises(ValueError, match=r"'k' has no bounds.*search_space=\{'k': \(low, high\)\}"):
        Fitter(free, predict=predict, backend="scipy")
    res = Fitter(free, "Nelder-Mead", predict=predict, backend="scipy",
                 search_space={"k": (0.0, 5.0)}).fit(TARGET, n_steps=1)
    assert res.best_params["k"] == pytest.approx(2.0, abs=1e-3)


def test_a_vector_parameter_in_a_nested_module():
    """A Param holding an array is fitted entry by entry and named by its path."""
    class Inner(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nm.Param(np.ones(3), bounds=(0.0, 4.0))

    class Outer(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

    truth = jnp.array([0.5, 2.0, 3.5])
    model = Outer()
    res = Fitter(model, "L-BFGS-B", predict=lambda m: m.inner.w.value, backend="scipy").fit(truth, n_steps=1)
    assert list(res.best_params) == ["inner.w"]
    np.testing.assert_allclose(res.best_params["inner.w"], truth, atol=1e-3)
    np.testing.assert_allclose(model.inner.w.value, truth, atol=1e-3)


# ------------------------------------------------------------------------------ loss paths
def test_loss_fn_of_the_model():
    def loss_fn(model):
        k = model.k.value
        return (k - 2.0) ** 2, {"k": k}

    res = Fitter(Toy(), optax.adam(0.1), loss_fn=loss_fn).fit(n_steps=60)
    assert abs(res.best_params["k"] - 2.0) < 0.02
    assert res.prediction["k"] == pytest.approx(res.best_params["k"])    # loss_fn's aux at the best point
    ng = Fitter(Toy(), {"n_sample": 6}, loss_fn=loss_fn, backend="nevergrad").fit(n_steps=12)
    assert ng.best_loss < 1e-3


def test_transient_samples_are_dropped_before_the_objective():
    def with_onset(model):                   # 4 samples of 100 before the signal k
        return jnp.concatenate([jnp.full(4, 100.0), model.k.value * jnp.ones(6)])

    res = Fitter(Toy(), "Nelder-Mead", predict=with_onset, backend="scipy", transient=4).fit(TARGET, n_steps=1)
    assert res.best_params["k"] == pytest.approx(2.0, abs=1e-3)
    assert res.prediction.shape == (10,)     # the prediction is returned whole
    with pytest.raises(ValueError, match="transient=-1"):
        Fitter(Toy(), predict=with_onset, transient=-1)


def test_a_score_objective_is_maximised():
    t = jnp.linspace(0.0, 1.0, 50)

    def wave(model):
        return jnp.sin(2 * jnp.pi * model.k.value * t)

    target = jnp.sin(2 * jnp.pi * 2.0 * t)

    def corr(sim, target):
        return jnp.corrcoef(sim, target)[0, 1]
    corr.higher_is_better = True

    res = Fitter(Toy(k=1.8, bounds=(1.5, 2.5)), "Nelder-Mead", predict=wave, objective=corr,
                 backend="scipy").fit(target, n_steps=1)
    assert res.best_params["k"] == pytest.approx(2.0, abs=1e-3)
    assert res.best_loss == pytest.approx(0.0, abs=1e-5)               # 1 - r at r = 1


def test_timeseries_rmse():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 40, 5)), rng.normal(size=(40, 5))
    got = objectives.timeseries_rmse()(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(got, np.sqrt(((a - b) ** 2).mean(axis=(1, 2))), rtol=1e-5)   # batch axis kept
    g = jax.grad(lambda x: objectives.timeseries_rmse()(x, jnp.asarray(b)))(jnp.asarray(b))
    assert np.all(np.isfinite(g)) and not np.any(g)


# ------------------------------------------------------------------------------ callbacks
def test_callbacks_see_every_step_and_can_stop():
    seen = []

    def record(info):
        seen.append((info["step"], info["loss"], info["best_loss"], info["model"]))

    model = Toy()
    res = Fitter(model, optax.adam(0.1), predict=predict, callbacks=[record]).fit(TARGET, n_steps=5)
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([s[1] for s in seen], res.history)
    np.testing.assert_allclose([s[2] for s in seen], np.minimum.accumulate(res.history))
    assert all(s[3] is model for s in seen)

    res = Fitter(Toy(), optax.adam(0.1), predict=predict,
                 callbacks=[lambda info: info["step"] >= 2]).fit(TARGET, n_steps=50)
    assert res.n_steps == 3 and len(res.history) == 3
    res = Fitter(Toy(), {"n_sample": 4}, predict=predict, backend="nevergrad",
                 callbacks=[lambda info: info["best_loss"] < 0.5]).fit(TARGET, n_steps=50)
    assert res.n_steps < 50 and res.best_loss < 0.5


# ------------------------------------------------------------------------------ a neuralmass model
def _hopf(a=-0.5):
    return nm.HopfStep(1, a=nm.Param(a, bounds=(-1.0, 1.0)), init_x=0.5, init_y=0.0)


def _pure(model):
    return nm.make_run_fn(model, 0.1, 20.0, monitors=["x"])(nm.Simulator(model).params(), 0)["x"]


def test_hopf_bifurcation_parameter_recovered():
    target = _pure(_hopf(0.2))
    node = _hopf()
    res = Fitter(node, "L-BFGS-B", predict=_pure, backend="scipy").fit(target, n_steps=1)
    assert res.best_params["a"] == pytest.approx(0.2, abs=1e-3)
    assert float(node.canonical_params["a"]) == pytest.approx(res.best_params["a"])   # the module holds it

    def simulated(model):                    # Simulator.run: NumPy out, evaluated one by one
        return nm.Simulator(model, dt=0.1).run(20.0, monitors=["x"], key=0)["x"]

    res = Fitter(_hopf(), "Nelder-Mead", predict=simulated, backend="scipy").fit(target, n_steps=1)
    assert res.best_params["a"] == pytest.approx(0.2, abs=1e-3)
    with pytest.raises(TypeError, match="make_run_fn"):
        Fitter(_hopf(), predict=simulated).fit(target, n_steps=1)


def test_brainstate_param_with_a_gradient_free_backend():
    from brainstate.nn import Param, SigmoidT

    class Module(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = Param(1.0, t=SigmoidT(LO, HI))      # bounds from its transform

    res = Fitter(Module(), {"n_sample": 6, "seed": 1}, predict=lambda m: m.k.value() * jnp.ones(6),
                 backend="nevergrad").fit(TARGET, n_steps=10)
    assert abs(res.best_params["k"] - 2.0) < 0.05
    assert float(res.model.k.value()) == pytest.approx(res.best_params["k"], abs=1e-5)
    with pytest.raises(TypeError, match="brainstate.nn.Param"):
        Fitter(Module(), predict=lambda m: m.k.value() * jnp.ones(6)).fit(TARGET, n_steps=1)


# ------------------------------------------------------------------------------ FitResult
def test_fit_result_takes_brainmass_names():
    r = FitResult(backend="grad", best_loss=0.125, best_params={"k": 2.0}, history=[1.0, 0.5, 0.125], n_steps=3)
    assert r.loss == 0.125 and r.params == {"k": 2.0} and r.names == ("k",)
    np.testing.assert_array_equal(r.best_history, [1.0, 0.5, 0.125])
    assert "grad" in repr(r) and "k=2.0" in repr(r) and "0.125" in repr(r)
    with pytest.raises(TypeError, match="both loss= and best_loss="):
        FitResult(loss=0.1, best_loss=0.2, params={})


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, err, match", [
    (dict(predict=predict, backend="adam"), ValueError, "backend='adam' is not known"),
    (dict(), ValueError, "got neither"),
    (dict(predict=predict, loss_fn=lambda m: 0.0), ValueError, "got both"),
    (dict(predict=predict, search_space={"q": (0, 1)}), ValueError, r"'q'.*trainable: k"),
    (dict(optimizer={"method": "DE"}, predict=predict), TypeError, "backend='grad' takes an optax"),
    (dict(optimizer=123, predict=predict, backend="scipy"), TypeError, "method name"),
    (dict(optimizer="BFGS", predict=predict, backend="scipy"), ValueError, "cannot search inside bounds"),
    (dict(optimizer="NoSuchOpt", predict=predict, backend="nevergrad"), ValueError, "registry"),
    (dict(optimizer={"lr": 1}, predict=predict, backend="nevergrad"), ValueError, r"\['lr'\] are not known"),
    (dict(predict=predict, callbacks=[1]), TypeError, "not callable"),
])
def test_errors_name_the_argument(kwargs, err, match):
    with pytest.raises(err, match=match):
        opt = kwargs.pop("optimizer", None)
        ModuleFitter(Toy(), opt, **kwargs)


def test_errors_at_fit_and_without_parameters():
    fitter = Fitter(Toy(), predict=predict)
    with pytest.raises(ValueError, match="n_steps=0"):
        fitter.fit(TARGET, n_steps=0)
    with pytest.raises(ValueError, match="target"):
        fitter.fit(n_steps=1)

    class Fixed:
        c = nm.Param(1.0, fit=False)

    with pytest.raises(ValueError, match="holds no trainable parameter"):
        Fitter(Fixed(), predict=predict)


def test_a_network_is_sent_to_the_neuralmass_form():
    from neuralmass.network import Network

    net = Network(_hopf(), conn=np.ones((1, 1)), coupling="diffusive", k=0.1)
    with pytest.raises(TypeError, match=r"Network.*Fitter\(net, loss_fn\(sim, target\)"):
        Fitter(net, predict=_pure)


def test_verbose_shows_a_progress_bar_not_prints(capsys):
    """brainmass's ``fit(verbose=True)`` prints a line per step; here it is a progress bar on
    stderr (library code does not print), with the step count and the best loss."""
    res = Fitter(Toy(), optax.adam(0.1), predict=predict).fit(TARGET, n_steps=4, verbose=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "fit[grad]" in err and "4/4" in err and f"{res.best_loss:.6g}" in err
