r"""Neural point estimators of Jansen–Rit parameters from sensor-level ERPs (equinox + optax).

All networks map one ERP ``x`` of shape ``(n_channels, n_times)`` to ``n_out`` numbers (the
parameters min-max scaled to [0, 1] by the prior ranges) and are trained with the mean squared
error (Tilwani & O'Reilly 2025):

* :class:`EEGTransformer` — channels as tokens (each channel's time course is linearly embedded
  into ``d_model`` = 256), learned token embeddings, one pre-norm encoder layer (8 heads,
  feed-forward 1024), mean pooling over tokens, linear head. ``tokens='patches'`` gives the
  time-patch variant: tokens are non-overlapping windows of ``patch`` samples across all channels,
  which keeps temporal order explicit (positional embedding per patch).
* :class:`LSTMRegressor` — two stacked LSTM layers of 64 units over time (channels as features),
  last hidden state to a linear head.
* :class:`CNNBiLSTM` — three Conv1D layers (32/64/128 filters, kernel 5, ReLU, max-pool 2) over time,
  then a bidirectional LSTM of 128 units per direction, final states to a linear head.
* :class:`SourceMLP` — uses the known forward model. The sensors see one source through the lead
  field :math:`g` under white noise, :math:`x = g\,s^\top + \varepsilon`, so the least-squares
  source estimate (spatial matched filter, :func:`matched_filter`)
  :math:`\hat s = g^\top x / \lVert g\rVert^2` is a sufficient statistic for :math:`s` (and hence
  for the parameters): nothing is lost by reducing the ``(M, T)`` sensor array to the length-``T``
  time course, whose noise variance is :math:`\sigma^2/\lVert g\rVert^2` (an SNR gain of
  :math:`10\log_{10}\lVert g\rVert^2/M + 10\log_{10} M` dB). (Strictly, the orthogonal residual
  also tells the noise level, which the SNR convention ties to the signal power; :math:`\hat s`
  gives that power far more precisely.) A multilayer perceptron maps features of
  :math:`u = \hat s / c` (``c`` a fixed scale) — the signed-log course
  :math:`\operatorname{asinh}(u)`, the shape :math:`u/\mathrm{rms}(u)` and the log amplitude
  :math:`\log\mathrm{rms}(u)` — to the parameters; it trains in a minute or two on a CPU.
  :class:`SourceEmbedding` is the same network used as the NPE summary.

:func:`fit` trains any of them (or any loss) with Adam, mini-batches, early stopping on a
validation loss, a fixed seed, optional checkpoints (:func:`save_model` / :func:`load_model`,
equinox serialisation) and a progress bar.

Inputs are transformed by :class:`InputScaler`: :math:`\tilde x = \operatorname{asinh}(x / s)`
with :math:`s` a tenth of the median sensor RMS of the training set; ERP amplitudes span two orders
of magnitude across the prior and the signed log-like transform keeps small responses visible while
preserving amplitude information.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["EEGTransformer", "LSTMRegressor", "CNNBiLSTM", "ConvEmbedding", "SourceMLP", "SourceEmbedding",
           "matched_filter", "source_features", "InputScaler",
           "make_estimator", "fit", "FitResult", "predict", "save_model", "load_model", "ESTIMATORS"]


@dataclass(frozen=True)
class InputScaler:
    """``asinh(x / scale)`` (see module docstring), or ``x / scale`` with ``transform='linear'``."""

    scale: float
    transform: str = "asinh"

    @classmethod
    def from_data(cls, x, transform: str = "asinh") -> "InputScaler":
        if transform not in ("asinh", "linear"):
            raise ValueError(f"transform={transform!r}; use 'asinh' or 'linear'.")
        rms = np.sqrt(np.mean(np.asarray(x, dtype=float) ** 2, axis=tuple(range(1, np.ndim(x)))))
        return cls(float(max(0.1 * np.median(rms), 1e-12)), transform)

    def __call__(self, x):
        return jnp.arcsinh(x / self.scale) if self.transform == "asinh" else x / self.scale


class _EncoderLayer(eqx.Module):
    attn: eqx.nn.MultiheadAttention
    ln1: eqx.nn.LayerNorm
    ln2: eqx.nn.LayerNorm
    ff1: eqx.nn.Linear
    ff2: eqx.nn.Linear

    def __init__(self, d, heads, d_ff, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.attn = eqx.nn.MultiheadAttention(heads, d, key=k1)
        self.ln1, self.ln2 = eqx.nn.LayerNorm(d), eqx.nn.LayerNorm(d)
        self.ff1, self.ff2 = eqx.nn.Linear(d, d_ff, key=k2), eqx.nn.Linear(d_ff, d, key=k3)

    def __call__(self, h):
        z = jax.vmap(self.ln1)(h)
        h = h + self.attn(z, z, z)
        z = jax.vmap(self.ln2)(h)
        return h + jax.vmap(self.ff2)(jax.nn.gelu(jax.vmap(self.ff1)(z)))


class EEGTransformer(eqx.Module):
    """EEG transformer (channels as tokens, or time patches), mean pooling, linear head.

    Parameters
    ----------
    n_channels, n_times, n_out : int
    d_model, n_heads, d_ff, n_layers : int
        256, 8, 1024, 1 as in the reference.
    tokens : {'channels', 'patches'}
    patch : int
        Samples per patch (``tokens='patches'``).
    key : PRNG key
    """

    embed: eqx.nn.Linear
    pos: jax.Array
    layers: list
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear
    tokens: str = eqx.field(static=True)
    patch: int = eqx.field(static=True)

    def __init__(self, n_channels, n_times, n_out, *, d_model=256, n_heads=8, d_ff=1024, n_layers=1,
                 tokens="channels", patch=10, key):
        if tokens not in ("channels", "patches"):
            raise ValueError(f"tokens={tokens!r}; use 'channels' or 'patches'.")
        keys = jax.random.split(key, n_layers + 3)
        self.tokens, self.patch = tokens, int(patch)
        if tokens == "channels":
            n_tok, d_in = n_channels, n_times
        else:
            n_tok, d_in = n_times // self.patch, n_channels * self.patch
        self.embed = eqx.nn.Linear(d_in, d_model, key=keys[0])
        self.pos = 0.02 * jax.random.normal(keys[1], (n_tok, d_model))
        self.layers = [_EncoderLayer(d_model, n_heads, d_ff, k) for k in keys[3:]]
        self.norm = eqx.nn.LayerNorm(d_model)
        self.head = eqx.nn.Linear(d_model, n_out, key=keys[2])

    def __call__(self, x):
        if self.tokens == "channels":
            tok = x
        else:
            c, t = x.shape
            n = t // self.patch
            tok = x[:, : n * self.patch].reshape(c, n, self.patch).transpose(1, 0, 2).reshape(n, -1)
        h = jax.vmap(self.embed)(tok) + self.pos
        for layer in self.layers:
            h = layer(h)
        return self.head(self.norm(h.mean(0)))


def _run_lstm(cell, xs, reverse=False):
    hidden = cell.hidden_size
    init = (jnp.zeros(hidden), jnp.zeros(hidden))

    def step(carry, x):
        carry = cell(x, carry)
        return carry, carry[0]
    (h, _), hs = jax.lax.scan(step, init, xs, reverse=reverse)
    return h, hs


class LSTMRegressor(eqx.Module):
    """Stacked LSTM over time (input ``(n_channels, n_times)``), last hidden state → linear head."""

    cells: list
    head: eqx.nn.Linear

    def __init__(self, n_channels, n_times, n_out, *, hidden=64, n_layers=2, key):
        keys = jax.random.split(key, n_layers + 1)
        sizes = [n_channels] + [hidden] * n_layers
        self.cells = [eqx.nn.LSTMCell(sizes[i], sizes[i + 1], key=keys[i]) for i in range(n_layers)]
        self.head = eqx.nn.Linear(hidden, n_out, key=keys[-1])

    def __call__(self, x):
        hs = x.T
        for cell in self.cells:
            h, hs = _run_lstm(cell, hs)
        return self.head(h)


class _ConvStack(eqx.Module):
    convs: list

    def __init__(self, n_channels, filters=(32, 64, 128), kernel=5, *, key):
        keys = jax.random.split(key, len(filters))
        sizes = (n_channels,) + tuple(filters)
        self.convs = [eqx.nn.Conv1d(sizes[i], sizes[i + 1], kernel, padding="SAME", key=keys[i])
                      for i in range(len(filters))]

    def __call__(self, x):
        for conv in self.convs:
            x = jax.nn.relu(conv(x))
            t = x.shape[1] // 2 * 2
            x = x[:, :t].reshape(x.shape[0], t // 2, 2).max(-1)
        return x


class CNNBiLSTM(eqx.Module):
    """Conv1D 32/64/128 (kernel 5, ReLU, max-pool 2) → BiLSTM(128) → linear head."""

    conv: _ConvStack
    fwd: eqx.nn.LSTMCell
    bwd: eqx.nn.LSTMCell
    head: eqx.nn.Linear

    def __init__(self, n_channels, n_times, n_out, *, filters=(32, 64, 128), hidden=128, key):
        k = jax.random.split(key, 4)
        self.conv = _ConvStack(n_channels, filters, key=k[0])
        self.fwd = eqx.nn.LSTMCell(filters[-1], hidden, key=k[1])
        self.bwd = eqx.nn.LSTMCell(filters[-1], hidden, key=k[2])
        self.head = eqx.nn.Linear(2 * hidden, n_out, key=k[3])

    def __call__(self, x):
        z = self.conv(x).T
        hf, _ = _run_lstm(self.fwd, z)
        hb, _ = _run_lstm(self.bwd, z, reverse=True)
        return self.head(jnp.concatenate([hf, hb]))


class ConvEmbedding(eqx.Module):
    """Summary network for NPE: the Conv1D stack, mean and max over time, an MLP to ``n_out``."""

    conv: _ConvStack
    mlp: eqx.nn.MLP

    def __init__(self, n_channels, n_times, n_out=64, *, filters=(32, 64, 128), key):
        k1, k2 = jax.random.split(key)
        self.conv = _ConvStack(n_channels, filters, key=k1)
        self.mlp = eqx.nn.MLP(2 * filters[-1], n_out, 256, 2, activation=jax.nn.gelu, key=k2)

    def __call__(self, x):
        z = self.conv(x)
        return self.mlp(jnp.concatenate([z.mean(1), z.max(1)]))


def matched_filter(x, gain):
    r"""Least-squares source time course :math:`\hat s = g^\top x / \lVert g\rVert^2`.

    ``x`` has shape ``(..., M, T)``; returns ``(..., 1, T)`` (a one-channel signal).
    """
    g = jnp.asarray(gain, dtype=jnp.asarray(x).dtype)
    return jnp.einsum("m,...mt->...t", g, x)[..., None, :] / jnp.sum(g * g)


def source_features(u):
    """``[asinh(u)/3, u/rms(u), log(rms(u))/3]`` of a scaled source course ``u`` (length T → 2T+1)."""
    u = u.reshape(-1)
    rms = jnp.sqrt(jnp.mean(u ** 2) + 1e-12)
    return jnp.concatenate([jnp.arcsinh(u) / 3.0, u / rms, jnp.log(rms)[None] / 3.0])


class SourceMLP(eqx.Module):
    """MLP on the features (:func:`source_features`) of a linearly scaled one-channel source
    estimate ``(1, n_times)`` (see :func:`matched_filter`)."""

    mlp: eqx.nn.MLP

    def __init__(self, n_channels, n_times, n_out, *, width=512, depth=3, key):
        if n_channels != 1:
            raise ValueError(f"SourceMLP takes the matched-filter output (1 channel); got n_channels="
                             f"{n_channels}. Apply matched_filter(x, gain) first.")
        self.mlp = eqx.nn.MLP(2 * n_times + 1, n_out, width, depth, activation=jax.nn.gelu, key=key)

    def __call__(self, x):
        return self.mlp(source_features(x))


class SourceEmbedding(SourceMLP):
    """:class:`SourceMLP` used as the NPE summary network (``n_out`` features)."""


ESTIMATORS = {
    "transformer": lambda c, t, o, key, **kw: EEGTransformer(c, t, o, key=key, **kw),
    "transformer_patch": lambda c, t, o, key, **kw: EEGTransformer(c, t, o, tokens="patches", key=key, **kw),
    "lstm": lambda c, t, o, key, **kw: LSTMRegressor(c, t, o, key=key, **kw),
    "cnn_bilstm": lambda c, t, o, key, **kw: CNNBiLSTM(c, t, o, key=key, **kw),
    "source_mlp": lambda c, t, o, key, **kw: SourceMLP(c, t, o, key=key, **kw),
}

#: Estimators whose input is the matched-filter source estimate rather than the sensor array.
SOURCE_ESTIMATORS = ("source_mlp",)


def make_estimator(name: str, n_channels: int, n_times: int, n_out: int, *, seed: int = 0, **kw):
    """Build an estimator by name: ``'transformer'``, ``'transformer_patch'``, ``'lstm'``,
    ``'cnn_bilstm'``, ``'source_mlp'`` (keyword arguments go to the class)."""
    if name not in ESTIMATORS:
        raise ValueError(f"estimator {name!r} is unknown; use one of {sorted(ESTIMATORS)}.")
    return ESTIMATORS[name](n_channels, n_times, n_out, jax.random.PRNGKey(seed), **kw)


# ----------------------------------------------------------------------------- training
@dataclass
class FitResult:
    """Trained model and its history."""

    model: object
    train_loss: list
    val_loss: list
    best_epoch: int
    stopped_early: bool
    seconds: float
    steps: int = 0


def save_model(path, model) -> None:
    """Write the model's arrays with :func:`equinox.tree_serialise_leaves`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    eqx.tree_serialise_leaves(str(path), model)


def load_model(path, like):
    """Read arrays saved by :func:`save_model` into a model with the structure of ``like``."""
    return eqx.tree_deserialise_leaves(str(path), like)


def _trainable(model):
    try:
        import paramax
        is_leaf = lambda leaf: isinstance(leaf, paramax.NonTrainable)  # noqa: E731
    except ImportError:  # pragma: no cover
        is_leaf = None
    return eqx.partition(model, eqx.is_inexact_array, is_leaf=is_leaf)


def fit(model, loss_fn: Callable, train: tuple, val: tuple, *, epochs: int = 50, batch_size: int = 64,
        lr: float = 1e-3, patience: int = 8, seed: int = 0, checkpoint=None, progress: bool = True,
        desc: str = "training", max_steps: int | None = None) -> FitResult:
    """Mini-batch Adam with early stopping on the validation loss.

    Parameters
    ----------
    model : equinox Module
    loss_fn : callable
        ``loss_fn(model, batch, key) -> scalar`` where ``batch`` is a tuple of arrays sliced like
        ``train`` along axis 0 and ``key`` drives on-the-fly augmentation (e.g. sensor noise).
    train, val : tuple of arrays
    epochs, batch_size, lr : training schedule (cosine decay from ``lr``).
    patience : int
        Stop after this many epochs without a better validation loss; the best model is returned.
    seed : int
        Shuffling and augmentation stream.
    checkpoint : path, optional
        The best model is written there (:func:`save_model`) whenever it improves.
    max_steps : int, optional
        Budget in optimizer steps (mini-batches) over the whole run; training stops after that
        step (the partial epoch is validated and kept if best). Budgets are counts, never seconds,
        so the same call gives the same model on any machine (up to float reassociation).
    """
    import time

    if max_steps is not None and int(max_steps) < 1:
        raise ValueError(f"max_steps={max_steps} must be a positive number of optimizer steps (or None).")

    n = len(train[0])
    if n < batch_size:
        batch_size = n
    steps = max(1, n // batch_size)
    total = steps * epochs if max_steps is None else min(steps * epochs, int(max_steps))
    sched = optax.cosine_decay_schedule(lr, total, alpha=0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=1e-4))
    params, static = _trainable(model)
    opt_state = opt.init(params)

    @eqx.filter_jit
    def step(params, opt_state, batch, key):
        def lf(p):
            return loss_fn(eqx.combine(p, static), batch, key)
        loss, grads = eqx.filter_value_and_grad(lf)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return eqx.apply_updates(params, updates), opt_state, loss

    @eqx.filter_jit
    def eval_loss(params, batch, key):
        return loss_fn(eqx.combine(params, static), batch, key)

    val_key = jax.random.PRNGKey(10_000 + seed)
    nv = len(val[0])
    vb = min(nv, 512)

    def validate(params):
        tot = 0.0
        for i in range(0, nv - vb + 1, vb):
            tot += float(eval_loss(params, tuple(a[i:i + vb] for a in val), jax.random.fold_in(val_key, i))) * vb
        return tot / (nv // vb * vb)

    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    best, best_params, best_epoch, bad = np.inf, params, 0, 0
    tl, vl = [], []
    it = range(epochs)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        it = bar = tqdm(it, desc=desc, unit="epoch", leave=False)
    t0 = time.time()
    stopped = False
    n_steps = 0
    for ep in it:
        perm = rng.permutation(n)
        losses = []
        out_of_budget = False
        for s in range(steps):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            key, sub = jax.random.split(key)
            params, opt_state, loss = step(params, opt_state, tuple(a[idx] for a in train), sub)
            losses.append(loss)
            n_steps += 1
            if max_steps is not None and n_steps >= max_steps:
                out_of_budget = True
                break
        tl.append(float(np.mean(jax.device_get(losses))))
        vl.append(validate(params))
        if vl[-1] < best:
            best, best_params, best_epoch, bad = vl[-1], params, ep, 0
            if checkpoint is not None:
                save_model(checkpoint, eqx.combine(params, static))
        else:
            bad += 1
        if bar is not None:
            bar.set_postfix(train=f"{tl[-1]:.4f}", val=f"{vl[-1]:.4f}")
        if bad >= patience:
            stopped = True
            break
        if out_of_budget:
            stopped = True
            break
    if bar is not None:
        bar.close()
    return FitResult(eqx.combine(best_params, static), tl, vl, best_epoch, stopped, time.time() - t0, n_steps)


def predict(model, x, batch_size: int = 512) -> np.ndarray:
    """Apply ``model`` to each row of ``x`` (already preprocessed), in batches."""
    f = eqx.filter_jit(lambda m, xb: jax.vmap(m)(xb))
    return np.concatenate([np.asarray(f(model, jnp.asarray(x[i:i + batch_size])))
                           for i in range(0, len(x), batch_size)])
