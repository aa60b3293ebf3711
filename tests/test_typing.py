"""Public signatures carry type hints with the one array alias, neuralmass.typing.Array."""

import typing

import pytest

import neuralmass as nm
from neuralmass import analysis
from neuralmass.typing import Array

# (callable, parameters that take arrays)
CASES = [
    (nm.Simulator.__init__, ["dt"]), (nm.Simulator.run, ["duration", "transient"]),
    (nm.make_run_fn, ["dt", "duration", "transient"]), (nm.Network.__init__, ["k"]),
    (nm.Fitter.__init__, ["duration", "transient"]),
    (nm.BOLDSignal.__init__, []), (nm.BOLDSignal.update, []), (nm.BOLDMonitor.__init__, ["tr"]),
    (nm.simulate_bold, ["activity", "dt"]), (nm.hrf_bold, ["signal", "dt"]),
    (nm.LeadFieldModel.__init__, ["L"]), (nm.LeadFieldModel.update, ["nmm_obs_or_dipoles"]),
    (analysis.functional_connectivity, ["x"]), (analysis.fcd, ["x"]), (analysis.bandpass, ["x", "fs"]),
    (analysis.welch, ["x", "fs"]), (analysis.kuramoto_order, ["x"]), (analysis.hilbert, ["x"]),
]


@pytest.mark.parametrize("fn, arrays", CASES, ids=lambda c: getattr(c, "__qualname__", ""))
def test_public_signatures_are_annotated(fn, arrays):
    hints = typing.get_type_hints(fn)               # every annotation resolves
    assert "return" in hints
    for name in arrays:
        assert hints[name] == Array, (fn.__qualname__, name, hints[name])
