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
