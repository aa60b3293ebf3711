"""The compiled CPU product of the surface kernels (neuralmass.surface.native) against SciPy, its
JAX fallback, and inside a surface network."""

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

from neuralmass.surface import native
from neuralmass.surface.local import sparse_product



@pytest.fixture(autouse=True)
def _needs_the_kernel():
    # checked when a test runs, not at collection (building it takes a few seconds the first time)
    if not native.available():
        pytest.skip("the compiled sparse product could not be built here (no C++ compiler?); the "
                    "JAX product is used and tested elsewhere")


def _random_coo(n, m, density, seed, empty_rows=()):
    a = sp.random(n, m, density=density, random_state=seed, format="coo", dtype=np.float64)
    keep = ~np.isin(a.row, empty_rows)
    rows, cols, vals = a.row[keep], a.col[keep], a.data[keep] - 0.5
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], vals[order]


@pytest.mark.parametrize("n, m", [(300, 300), (7, 300), (300, 70_000)],
                         ids=["square", "regions x nodes", "int32 columns"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_equals_scipy_one_and_several_lanes(n, m, dtype):
    """One lane, lanes under vmap with shared weights and with a weight vector per lane; rows with
    no entries give 0; more than 2^16 columns take the int32 index path."""
    rows, cols, vals = _random_coo(n, m, min(0.05, 2000 / (n * m) * 10), seed=n + m, empty_rows=(0, 3))
    plan = native.csr_plan(rows, cols, n)
    assert plan[2].dtype == (np.int32 if m > 2 ** 16 else np.uint16)
    prod = sparse_product(rows, cols, n, n_cols=m)
    rng = np.random.default_rng(0)
    with jax.enable_x64(dtype == np.float64):
        x = rng.standard_normal((5, m)).astype(dtype)
        W = (vals[None] * (1.0 + rng.random((5, vals.size)))).astype(dtype)
        ref = np.stack([sp.csr_matrix((W[i], (rows, cols)), shape=(n, m)) @ x[i] for i in range(5)])
        tol = 1e-5 if dtype == np.float32 else 1e-12
        y1 = jax.jit(prod)(x[0], W[0])
        assert y1.dtype == dtype
        np.testing.assert_allclose(np.asarray(y1), ref[0], rtol=tol, atol=tol)
        assert np.all(np.asarray(y1)[[0, 3]] == 0)
        shared = sp.csr_matrix((W[0], (rows, cols)), shape=(n, m)) @ x.T
        np.testing.assert_allclose(np.asarray(jax.jit(jax.vmap(prod, in_axes=(0, None)))(x, W[0])), shared.T,
                                   rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(jax.jit(jax.vmap(prod))(x, W)), ref, rtol=tol, atol=tol)
        # only the weights batched: one x, a weight vector per lane
        per_w = np.stack([sp.csr_matrix((W[i], (rows, cols)), shape=(n, m)) @ x[0] for i in range(5)])
        np.testing.assert_allclose(np.asarray(jax.jit(jax.vmap(prod, in_axes=(None, 0)))(x[0], W)), per_w,
                                   rtol=tol, atol=tol)
        # the program really calls the compiled kernel on this CPU
        assert "csr_product" in jax.jit(prod).lower(x[0], W[0]).as_text()


def test_gradients_equal_the_jax_product():
    rows, cols, vals = _random_coo(200, 200, 0.05, seed=1)
    fast = sparse_product(rows, cols, 200)
    slow = sparse_product(rows, cols, 200, layout="segment_sum")
    x = jnp.asarray(np.random.default_rng(1).standard_normal(200), jnp.float32)
    w = jnp.asarray(vals, jnp.float32)

    def loss(f):
        return lambda x, w: jnp.sum(jnp.tanh(f(x, w)) * jnp.arange(200.0))

    gf = jax.grad(loss(fast), argnums=(0, 1))(x, w)
    # the backward pass's transposed product runs in the kernel too (forward + transpose)
    assert jax.jit(jax.grad(loss(fast), argnums=(0, 1))).lower(x, w).as_text().count("csr_product") >= 2
    gs = jax.grad(loss(slow), argnums=(0, 1))(x, w)
    for a, b in zip(gf, gs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def test_turned_off_or_unbuildable_falls_back_to_jax(monkeypatch, caplog):
    rows, cols, vals = _random_coo(50, 50, 0.1, seed=2)
    x = np.random.default_rng(2).standard_normal(50).astype(np.float32)
    ref = sp.csr_matrix((vals, (rows, cols)), shape=(50, 50)) @ x
    monkeypatch.setenv(native.ENV_VAR, "0")
    prod = sparse_product(rows, cols, 50)
    text = jax.jit(prod).lower(x, vals.astype(np.float32)).as_text()
    assert "csr_product" not in text
    np.testing.assert_allclose(np.asarray(prod(x, vals.astype(np.float32))), ref, rtol=1e-5, atol=1e-6)
    monkeypatch.delenv(native.ENV_VAR)
    # with a GPU as the default backend the CPU kernel is neither built nor called
    monkeypatch.setattr(native.jax, "default_backend", lambda: "gpu")
    monkeypatch.setattr(native, "available", lambda: pytest.fail("the CPU kernel was asked for"))
    assert "csr_product" not in jax.jit(sparse_product(rows, cols, 50)).lower(x, vals.astype(np.float32)).as_text()
    monkeypatch.undo()
    # a build that fails (no compiler): one log message, and the JAX product
    import brainevent

    def no_compiler(*a, **k):
        raise RuntimeError("C++ compiler not found (the CPU backend requires g++/clang++).")

    monkeypatch.setattr(brainevent, "load_cpp_inline", no_compiler)
    monkeypatch.setattr(native, "_STATE", {})
    with caplog.at_level(logging.INFO, logger="neuralmass"):
        assert not native.available()
    assert "could not be built (C++ compiler not found" in caplog.text
    np.testing.assert_allclose(np.asarray(jax.jit(sparse_product(rows, cols, 50))(x, vals.astype(np.float32))), ref,
                               rtol=1e-5, atol=1e-6)


_SHARDED = r"""
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import json, sys
import jax, numpy as np, scipy.sparse as sp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from neuralmass.surface.local import sparse_product
a = sp.random(300, 300, density=0.03, random_state=5, format="coo")
order = np.lexsort((a.col, a.row))
rows, cols, vals = a.row[order], a.col[order], a.data[order].astype(np.float32)
prod = jax.jit(jax.vmap(sparse_product(rows, cols, 300), in_axes=(0, None)))
x = np.random.default_rng(0).standard_normal((8, 300)).astype(np.float32)
mesh = Mesh(np.array(jax.devices()), ("lanes",))
xs = jax.device_put(x, NamedSharding(mesh, P("lanes")))
hlo = prod.lower(xs, vals).compile().as_text()
calls = [l for l in hlo.splitlines() if "csr_product" in l and "custom-call(" in l]
ref = (sp.csr_matrix((vals, (rows, cols)), shape=(300, 300)) @ x.T).T
print(json.dumps({"err": float(np.abs(np.asarray(prod(xs, vals)) - ref).max()),
                  "calls": calls, "devices": len(jax.devices())}))
"""


def test_lanes_sharded_over_devices_run_split():
    """Lanes placed split over two CPU devices (a NamedSharding): each device's compiled call
    gets its own 4 of the 8 lanes (custom partitioning), not all 8, and the result is right."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _SHARDED], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["devices"] == 2 and res["err"] < 1e-5
    assert res["calls"] and all("[300,4]" in c and "[300,8]" not in c for c in res["calls"]), res["calls"]


def test_indices_and_shapes_outside_the_matrix_are_refused():
    """An index outside the matrix would be read or written out of bounds by the compiled kernel
    (and dropped or clamped by JAX): refused when the product is made, with the range; a vector
    of the wrong length is refused when traced. Rows in any order give the right product on both
    paths (the JAX fallback only assumes sorted rows when they are)."""
    with pytest.raises(ValueError, match=r"rows must lie in \[0, 5\).*got values from 0 to 5"):
        sparse_product([0, 5], [1, 2], 5)
    with pytest.raises(ValueError, match=r"cols must lie in \[0, 7\).*from -1 to 2"):
        sparse_product([0, 1], [-1, 2], 5, n_cols=7)
    with pytest.raises(ValueError, match="rows has 2 entries but cols has 3"):
        sparse_product([0, 1], [1, 2, 3], 5)
    prod = sparse_product([4, 0, 2], [1, 3, 3], 5)
    with pytest.raises(ValueError, match=r"x of shape \(5,\).*got x \(4,\)"):
        prod(jnp.ones(4), jnp.ones(3))
    x, w = jnp.arange(5.0), jnp.array([2.0, 3.0, 5.0])
    ref = np.array([9.0, 0.0, 15.0, 0.0, 2.0])
    np.testing.assert_allclose(np.asarray(jax.jit(prod)(x, w)), ref)
    np.testing.assert_allclose(np.asarray(jax.jit(sparse_product([4, 0, 2], [1, 3, 3], 5, "segment_sum"))(x, w)), ref)
