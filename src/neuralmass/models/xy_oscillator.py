r"""Base of two-variable :math:`(x, y)` oscillators written as two derivative methods
(brainmass's ``XY_Oscillator``).

A subclass defines

.. math::

    \dot x = \mathrm{dx}(x, y, x_{ext}), \qquad \dot y = \mathrm{dy}(y, x, y_{ext})

as the methods ``dx(self, x, y, x_ext)`` and ``dy(self, y, x, y_ext)`` (per ms; plain numbers, or
Quantities in 1/time that are converted), with its parameters as attributes set in ``__init__``.
Each instance turns the two methods into the one pure drift of a node model (the table
:data:`XY_OSCILLATOR` with that drift), so the instance is stepped by hand (``update(x_inp,
y_inp)``, with the chosen integrator), runs in :class:`~neuralmass.Simulator`, and is a node of a
:class:`~neuralmass.Network` (coupling into ``x_ext``, noise ``noise_x``/``noise_y`` into
``x_ext``/``y_ext``), like the registered models. Stuart–Landau
(:data:`~neuralmass.models.STUART_LANDAU`), Hopf, Van der Pol and FitzHugh–Nagumo are such planar
oscillators with their own tables.

The base itself has no dynamics: ``XY_Oscillator(n).update()`` raises ``NotImplementedError`` as
brainmass's does. It is not in :data:`~neuralmass.models.REGISTRY`, which lists runnable models.

References
----------
Strogatz, S. H. (2015). *Nonlinear Dynamics and Chaos*, 2nd ed., ch. 6–8 (two-dimensional flows
and limit cycles). Westview Press.
Pikovsky, A., Rosenblum, M., & Kurths, J. (2001). *Synchronization: A Universal Concept in
Nonlinear Sciences*. Cambridge University Press.
"""

from __future__ import annotations

import dataclasses

import brainunit as u

from ..units import magnitude
from .base import InputVar, NodeModel, StateVar
from .module import NodeModule

__all__ = ["XY_OSCILLATOR", "XY_Oscillator"]

PER_MS = u.ms ** -1


def _undefined_drift(state, params, inputs):
    raise NotImplementedError(
        "XY_Oscillator is a base class: subclass it and define dx(self, x, y, x_ext) and "
        "dy(self, y, x, y_ext) (derivatives per ms).")


#: the table of every XY_Oscillator subclass (an instance replaces the drift with its dx, dy)
XY_OSCILLATOR = NodeModel(
    name="XY_Oscillator",
    doc="two-variable oscillator defined by dx and dy methods",
    category="phenomenological",
    states=(
        StateVar("x", 0.0, None, (0.0, 0.05), "first variable"),
        StateVar("y", 0.0, None, (0.0, 0.05), "second variable"),
    ),
    params=(),
    inputs=(
        InputVar("x_ext", PER_MS, PER_MS, "x", "input to dx (coupling, noise)"),
        InputVar("y_ext", PER_MS, PER_MS, "y", "input to dy (noise)"),
    ),
    drift=_undefined_drift,
    coupled_var="x",
    coupling_input="x_ext",
    noise_inputs=("x_ext", "y_ext"),
    output="x",
    default_dt=0.1,
    reference="Strogatz (2015) Nonlinear Dynamics and Chaos, ch. 6-8",
    extra={"noise_slots": {"x": "x_ext", "y": "y_ext"}, "positional_inputs": ("x_ext", "y_ext")},
)


def _per_ms(value):
    """A derivative returned by ``dx``/``dy``: a plain number (per ms) or a Quantity in 1/time."""
    return magnitude(value, PER_MS, "the derivative returned by dx/dy")


class XY_Oscillator(NodeModule):
    """Base of two-variable oscillators defined by ``dx``/``dy`` methods (module docstring).

    Parameters
    ----------
    in_size : int
        Number of nodes.
    noise_x, noise_y : WhiteNoise or OUProcess, optional
        Noise added to ``x_ext`` and ``y_ext``.
    init_x, init_y : number, array or callable ``f(shape)``, default 0
        Initial values (also spelt ``x_init``, ``y_init``).
    method : str, default 'heun'
        Integrator (``'exp_euler'``, brainmass's default, is available).
    """

    model = XY_OSCILLATOR

    def __init__(self, in_size=1, noise_x=None, noise_y=None, init_x=None, init_y=None,
                 method: str | None = None, *, name: str | None = None, **kwargs):
        # the instance's own table: the base table with dx, dy as its drift
        object.__setattr__(self, "model", dataclasses.replace(
            XY_OSCILLATOR, name=type(self).__name__, drift=self._drift))
        # brainmass's positional order (in_size, noise_x, noise_y, init_x, init_y, method)
        given = {"noise_x": noise_x, "noise_y": noise_y, "init_x": init_x, "init_y": init_y}
        kwargs.update({k: v for k, v in given.items() if v is not None})
        super().__init__(in_size, method=method, name=name, **kwargs)

    def _drift(self, state, params, inputs):
        x, y = state["x"], state["y"]
        return {"x": _per_ms(self.dx(x, y, inputs["x_ext"])), "y": _per_ms(self.dy(y, x, inputs["y_ext"]))}

    def dx(self, x, y, x_ext):
        """dx/dt (per ms); defined by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must define dx(self, x, y, x_ext) (dx/dt per ms).")

    def dy(self, y, x, y_ext):
        """dy/dt (per ms); defined by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must define dy(self, y, x, y_ext) (dy/dt per ms).")

    def derivative(self, state, t, x_ext, y_ext):
        """brainmass's call: ``(dx/dt, dy/dt)`` at ``state = (x, y)`` (``t`` is not used)."""
        x, y = state
        d = self._drift({"x": x, "y": y}, {}, {"x_ext": x_ext, "y_ext": y_ext})
        return d["x"], d["y"]

    def update(self, x_inp=None, y_inp=None):
        """One step of ``brainstate.environ`` dt; returns ``(x, y)`` as brainmass's does."""
        super().update(x_inp, y_inp)
        return self.x.value, self.y.value
