"""Model gallery: one figure per model of the zoo (time series + phase portrait or spectrum).

Writes ``docs/images/models/<Model>.png`` and ``docs/models.md`` (the page lists every model with
its states, coupling, reference, parameter table and figure). Everything is deterministic (fixed
seeds) and runs on a laptop CPU in a few minutes::

    python scripts/model_gallery.py            # all models
    python scripts/model_gallery.py Epileptor  # some
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import neuralmass as nm  # noqa: E402
from neuralmass import stimulus as st  # noqa: E402
from neuralmass.models import MODELS, make_node_module  # noqa: E402
from neuralmass.network.coupling import KuramotoCoupling  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "images" / "models"

# name -> (what the figure shows, run settings, phase-plane pair or None for a spectrum)
GALLERY = {
    "Hopf": dict(title="limit cycle, a = 0.09 ms⁻¹, f = 10 Hz", params=dict(a=0.09), duration=1000.0,
                 plot=["x"], phase=("x", "y")),
    "JansenRit": dict(title="alpha rhythm, p = 220 Hz", inputs={"p": 220.0}, duration=3000.0,
                      transient=1000.0, plot=["eeg"], spectrum="eeg"),
    "WilsonCowan": dict(title="E/I oscillation (Wilson & Cowan 1972 values), drive 1.2",
                        params=dict(wEE=16.0, wEI=12.0, wIE=15.0, wII=3.0, a_E=1.5, a_I=1.5, theta_E=3.0,
                                    theta_I=3.0, tau_E=2.5, tau_I=3.75),
                        inputs={"rE_inp": 1.2}, duration=300.0, plot=["rE", "rI"], phase=("rE", "rI")),
    "WongWang": dict(title="relaxation to the 3 Hz state", duration=1000.0, plot=["H_E"], phase=("S_E", "S_I")),
    "Linear": dict(title="response to a 30 ms pulse (tau = 10 ms)", duration=100.0, plot=["x"],
                   inputs={"x_ext": st.pulse(20.0, 30.0, 0.5)}, phase=None),
    "MontbrioPazoRoxin": dict(title="bistability: a 5 ms current pulse at 30 ms switches low -> high",
                              dt=0.01, duration=100.0, inputs={"I_ext": st.pulse(30.0, 5.0, 3.0)},
                              plot=["r"], phase=("r", "V")),
    "CoombesByrne": dict(title="population rhythm at TVB's defaults", dt=0.01, duration=200.0,
                         transient=100.0, plot=["r"], phase=("r", "V")),
    "FitzHughNagumo": dict(title="relaxation oscillations, I = 0.5", duration=300.0, plot=["v", "w"],
                           phase=("v", "w")),
    "Kuramoto": dict(title="100 oscillators, all-to-all, K = 2 K_c (Lorentzian frequencies)",
                     network=True, duration=3000.0, plot=["order"], phase=None),
    "Generic2dOscillator": dict(title="limit cycle at a = 2 (TVB Table 1)", params=dict(a=2.0),
                                duration=1000.0, plot=["V", "W"], phase=("V", "W")),
    "Epileptor": dict(title="recurrent seizures, x0 = -1.6", dt=0.05, duration=20000.0, period=1.0,
                      plot=["lfp", "z"], phase=("x1", "z")),
    "Epileptor2D": dict(title="recurrent seizures, x0 = -1.6", dt=0.05, duration=20000.0, period=1.0,
                        plot=["x1", "z"], phase=("x1", "z")),
    "LarterBreakspear": dict(title="chaotic oscillation, d_V = d_Z = 0.69, a_ee = 0.36, C = 0",
                             params=dict(d_V=0.69, d_Z=0.69, aee=0.36, C=0.0), method="rk4",
                             duration=3000.0, transient=1000.0, plot=["V"], phase=("V", "Z")),
    "Wendling": dict(title="sustained rhythmic spikes, A = 5, B = 25, G = 15 mV (noisy input)",
                     params=dict(A=5.0, B=25.0, G=15.0), noise=30.0 * math.sqrt(2.0), duration=4000.0,
                     transient=1000.0, period=1.0, plot=["eeg"], spectrum="eeg"),
}


def _mag(x):
    return np.asarray(getattr(x, "mantissa", x))


def simulate(name, cfg):
    spec = MODELS[name]
    dt = cfg.get("dt", spec.default_dt)
    period = cfg.get("period", max(dt, 0.1))
    mons = sorted(set(cfg["plot"]) | set(cfg.get("phase") or ()) | ({cfg["spectrum"]} if "spectrum" in cfg else set()))
    if cfg.get("network"):
        n, delta = 100, 0.01
        q = (np.arange(n) + 0.5) / n
        omega = delta * np.tan(np.pi * (q - 0.5)) * 1000.0
        node = nm.KuramotoStep(n, omega=omega, theta_init=np.random.default_rng(0).uniform(0, 2 * np.pi, n))
        sys_ = nm.Network(node, conn=np.ones((n, n)) / n, coupling=KuramotoCoupling(), k=2 * 2 * delta)
        mons = ["order", "sin_theta"]
        period = 5.0
    else:
        kw = dict(cfg.get("params", {}))
        if "noise" in cfg:
            kw["noise_p"] = nm.WhiteNoise(1, sigma=cfg["noise"])
        sys_ = make_node_module(spec, spec.name)(1, method=cfg.get("method", "heun"), **kw)
    res = nm.Simulator(sys_, dt=dt, progress=False).run(
        cfg["duration"], monitors=mons, transient=cfg.get("transient", 0.0), period=period,
        inputs=cfg.get("inputs"), key=0)
    return res, period


def figure(name, cfg, res, period):
    spec = MODELS[name]
    t = _mag(res["ts"])
    side = cfg.get("phase") or cfg.get("spectrum") or cfg.get("network")
    fig, axes = plt.subplots(1, 2 if side else 1, figsize=(10 if side else 6.5, 3.0),
                             gridspec_kw={"width_ratios": [2.2, 1]} if side else None)
    axes = np.atleast_1d(axes)
    ax = axes[0]
    tscale, tlabel = (1e-3, "time (s)") if t[-1] > 5000 else (1.0, "time (ms)")
    for v in cfg["plot"]:
        y = _mag(res[v])[:, 0]
        unit = spec.variable_unit(v)
        ax.plot(t * tscale, y, lw=0.8, label=f"{v}" + (f" [{unit}]" if unit is not None else ""))
    ax.set_xlabel(tlabel)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{name}: {cfg['title']}", fontsize=9)
    if cfg.get("network"):
        s = _mag(res["sin_theta"])
        axes[1].plot(t, s[:, ::20], lw=0.6)
        axes[1].set_xlim(t[-1] - 300, t[-1])
        axes[1].set_xlabel("time (ms)")
        axes[1].set_title("sin θ of 5 oscillators", fontsize=9)
    elif cfg.get("phase"):
        a, b = cfg["phase"]
        axes[1].plot(_mag(res[a])[:, 0], _mag(res[b])[:, 0], lw=0.6)
        axes[1].set_xlabel(a)
        axes[1].set_ylabel(b)
        axes[1].set_title("phase portrait", fontsize=9)
    elif cfg.get("spectrum"):
        y = _mag(res[cfg["spectrum"]])[:, 0]
        y = y - y.mean()
        f = np.fft.rfftfreq(len(y), period * 1e-3)
        p = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
        keep = (f > 0) & (f < 60)
        axes[1].semilogy(f[keep], p[keep], lw=0.8)
        axes[1].set_xlabel("frequency (Hz)")
        axes[1].set_title(f"spectrum of {cfg['spectrum']} (peak {f[keep][np.argmax(p[keep])]:.1f} Hz)",
                          fontsize=9)
    fig.tight_layout()
    out = IMG / f"{name}.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


BEHAVIOUR = {
    "MontbrioPazoRoxin": "bistability: two stable states that solve the fixed-point equation (Montbrió et al. 2015, Fig. 2)",
    "CoombesByrne": "oscillation at TVB's defaults; a fast synapse (large α) removes it",
    "FitzHughNagumo": "periodic firing exactly between the Hopf currents 0.331 and 1.419 (FitzHugh 1961)",
    "Kuramoto": "order parameter √(1 − K_c/K) above K_c = 2Δ (Kuramoto 1975; Strogatz 2000)",
    "Generic2dOscillator": "excitable at a = −2, limit cycle at a = 2 (TVB's Table 1)",
    "Epileptor": "seizures recur for x0 above x0_c ≈ −2.062, none below; stable interictal point (Jirsa et al. 2014)",
    "Epileptor2D": "the same threshold (Proix et al. 2014)",
    "LarterBreakspear": "largest Lyapunov exponent > 0 at δ_V = 0.69, ≈ 0 at 0.65 (Breakspear et al. 2003)",
    "Wendling": "background, sporadic spikes, rhythmic ~4 Hz spikes as B falls (Wendling et al. 2002, Fig. 4)",
    "WongWang": "feedback inhibition control: every HCP region at 3 ± 0.5 Hz (Deco et al. 2014)",
}
TVB = {"MontbrioPazoRoxin": "MontbrioPazoRoxin", "CoombesByrne": "CoombesByrne",
       "Generic2dOscillator": "Generic2dOscillator", "Kuramoto": "Kuramoto", "Epileptor": "Epileptor",
       "Epileptor2D": "Epileptor2D", "LarterBreakspear": "LarterBreakspear", "WongWang": "ReducedWongWangExcInh"}


def write_page(names):
    lines = [
        "# Model zoo",
        "",
        "Every model is one file in `src/neuralmass/models/`: a parameter table (unit, default, plausible",
        "range, meaning), one pure drift `drift(state, params, inputs)` in ms-based units, observables,",
        "the coupled variable and input, and noise inputs. `neuralmass models` lists them,",
        "`neuralmass models NAME` prints the table, `neuralmass simulate NAME` runs one, and",
        "`nm.<Name>Step(n, ...)` is the stateful module used by `Simulator`, `Network` and the Fitter.",
        "",
        "**Checked against The Virtual Brain.** `scripts/make_tvb_fixture.py` (run in a separate",
        "environment with tvb-library 2.10.0) evaluated TVB's `dfun` at 200 random states, coupling",
        "values and parameter sets per model and stored only the numbers in",
        "`tests/fixtures/tvb_dfun.npz` (271 kB); `tests/test_tvb_fixture.py` maps the names and",
        "requires agreement to 1e-9 (relative to the largest derivative). All eight models TVB also",
        "has agree: " + ", ".join(f"`{k}`" + (f" (TVB `{v}`)" if v != k else "") for k, v in TVB.items()) + ".",
        "FitzHugh–Nagumo (a special case of TVB's Generic2dOscillator) and Wendling are not in TVB.",
        "",
        "**Published behaviour.** Each model has a test in `tests/test_zoo.py` (the figure it",
        "reproduces is named in the test's docstring).",
        "",
        "| model | states | coupling (variable → input) | behaviour test | reference |",
        "|---|---|---|---|---|",
    ]
    for name in MODELS:
        m = MODELS[name]
        lines.append(f"| `{name}` | {', '.join(m.state_names)} | `{m.coupled_var}` → `{m.coupling_input}` | "
                     f"{BEHAVIOUR.get(name, '(tests/test_models.py)')} | {m.reference} |")
    lines += [
        "",
        "## Coupling notes",
        "",
        "- **Montbrió–Pazó–Roxin**: two coupling inputs, both currents into dV/dt as in TVB: `r_ext`",
        "  (rates, gain `cr`; linear coupling of `r`) and `V_ext` (potentials, gain `cv`; typically",
        "  diffusive coupling of `V`). With one coupling per network use `coupled_var='r'` into",
        "  `r_ext` (the default).",
        "- **Kuramoto**: `coupling=KuramotoCoupling()` (`neuralmass.network.coupling`, or `coupling=\"kuramoto\"`) gives",
        "  k Σ w_ij sin(θ_j(t − τ_ij) − θ_i): sources send e^{iθ}, the target takes",
        "  k Im(z e^{−iθ_i}). The same coupling as two linear ones: `sin_theta` → `sin_ext` and",
        "  `cos_theta` → `cos_ext`.",
        "- **Epileptor**: TVB's convention: `c_pop1` is the (usually difference) coupling of `x1`,",
        "  entering dx1/dt with `Kvf` and dz/dt with `Ks` (permittivity coupling, Proix et al. 2014);",
        "  `c_pop2` the coupling of `x2` with `Kf`.",
        "- **Larter–Breakspear**: `QV_ext` is the mean firing ⟨Q_V⟩ of the other regions (linear",
        "  coupling of the observable `QV`, row-normalised weights); `C` balances it against self.",
        "- **Wong–Wang FIC**: `feedback_inhibition_control(W, k=G)` returns per-region `J_i` for",
        "  `WongWangModel(n, J_i=...)` so every region sits at 3 Hz; on the HCP connectome the 3 Hz",
        "  state is stable up to G ≈ 0.56 (see the function's docstring).",
        "",
        "## Gallery",
        "",
        "Generated by `python scripts/model_gallery.py` (deterministic).",
        "",
    ]
    for name in names:
        lines += [f"### {name}", "", f"![{name}](images/models/{name}.png)", "",
                  "```", MODELS[name].describe(), "```", ""]
    (ROOT / "docs" / "models.md").write_text("\n".join(lines))


def main(argv) -> int:
    IMG.mkdir(parents=True, exist_ok=True)
    names = argv or list(GALLERY)
    for name in names:
        t0 = time.perf_counter()
        res, period = simulate(name, GALLERY[name])
        out = figure(name, GALLERY[name], res, period)
        print(f"{name:<22} {time.perf_counter() - t0:6.1f} s  {out.relative_to(ROOT)}", flush=True)
    write_page(list(GALLERY))
    print(f"wrote {(ROOT / 'docs' / 'models.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
