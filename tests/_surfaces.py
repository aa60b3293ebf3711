"""Small meshes for the surface tests (generated, no data files)."""

import numpy as np


def icosphere(subdivisions: int = 2, radius: float = 50.0):
    """Vertices (mm) and outward-wound triangles of a geodesic icosphere of ``radius`` mm
    (12, 42, 162, 642 vertices for 0..3 subdivisions)."""
    t = (1.0 + 5 ** 0.5) / 2.0
    v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
         (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    f = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
         (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5),
         (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    verts = [np.array(p, float) / np.linalg.norm(p) for p in v]
    faces = list(f)
    for _ in range(subdivisions):
        cache, new = {}, []

        def mid(a, b):
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[key] = len(verts) - 1
            return cache[key]

        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    return np.array(verts) * radius, np.array(faces, dtype=np.int64)


def hemisphere_mapping(vertices, n_regions: int = 4):
    """Region of each vertex: ``n_regions`` sectors by azimuth (regions 0..n_regions-1)."""
    az = np.arctan2(vertices[:, 1], vertices[:, 0])
    return np.minimum(((az + np.pi) / (2 * np.pi) * n_regions).astype(int), n_regions - 1)


def strip(length: float = 100.0, width: float = 2.0, h: float = 1.0):
    """Vertices (mm) and triangles of a flat ``length`` x ``width`` strip on a square grid of
    spacing ``h`` (each square split into two triangles)."""
    xs, ys = np.arange(0, length + h / 2, h), np.arange(0, width + h / 2, h)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    verts = np.c_[X.ravel(), Y.ravel(), np.zeros(X.size)]
    idx = np.arange(X.size).reshape(X.shape)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    return verts, np.r_[np.c_[a, b, c], np.c_[a, c, d]]
