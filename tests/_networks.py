"""Networks shared by several test modules."""

import brainunit as u

import neuralmass as nm


def seed_pipeline_simulator(k: float = 1.5, progress=None) -> "nm.Simulator":
    """The seeds' resting-state network: Wilson–Cowan nodes with OU noise on E on the bundled
    example connectome, diffusive coupling of ``rE`` with conduction delays, dt = 0.1 ms."""
    conn = nm.datasets.load_dataset("example_connectome")
    n = conn.n_regions
    node = nm.WilsonCowanStep(n, noise_E=nm.OUProcess(n, sigma=0.01, tau=20 * u.ms))
    net = nm.Network(node, conn=conn.weights, distance=conn.distances, speed=10 * u.mm / u.ms,
                     coupling="diffusive", coupled_var="rE", k=k)
    return nm.Simulator(net, dt=0.1 * u.ms, progress=progress)


def small_delayed_hopf(traced_speed: bool = False):
    """4 noisy Hopf nodes (0.1 Hz, a = -0.5 /s) with random weights and 20-60 mm tracts: a static
    speed of 2 mm/ms (delays 10-30 ms) or a traced speed in (1, 5) mm/ms."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = 4
    W = rng.uniform(0.2, 1.0, (n, n))
    np.fill_diagonal(W, 0.0)
    L = rng.uniform(20.0, 60.0, (n, n))
    L = (L + L.T) / 2
    node = nm.HopfStep(n, a=-0.5 / u.second, omega=2 * np.pi * 0.1 * u.Hz,
                       noise_x=nm.WhiteNoise(n, sigma=0.001), noise_y=nm.WhiteNoise(n, sigma=0.001))
    if traced_speed:
        return nm.Network(node, conn=W, distance=L, speed_range=(1.0, 5.0), k=0.002)
    return nm.Network(node, conn=W, distance=L, speed=2.0 * u.mm / u.ms, k=0.002)
