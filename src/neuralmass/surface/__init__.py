"""Cortical-surface simulation: meshes, region mapping, sparse local kernels, surface networks.

==========================  ================================================================
:mod:`.mesh`                :class:`Surface` (vertices in mm, triangles, normals, areas,
                            region mapping; tvb-data, TVB zip, GIFTI, FreeSurfer)
:mod:`.local`               :class:`LocalCoupling`, the sparse vertex kernel (tvb-data or a
                            named kernel of geodesic/Euclidean distances)
:mod:`.network`             :class:`SurfaceNetwork`, a system of the engine (TVB's scheme)
:mod:`.monitors`            :class:`RegionAverage`, :class:`SensorProjection` (EEG/MEG)
:mod:`.stimulus`            :func:`surface_weights`, :func:`on_surface`: where a stimulus acts
                            (regions, vertices, a patch with a spatial profile)
==========================  ================================================================

See docs/surface.md.
"""

from .local import KERNELS, LocalCoupling, geodesic_distances, euclidean_distances, kernel_values
from .mesh import Surface, mesh_edges, vertex_areas, vertex_normals
from .monitors import REGION_SUFFIX, RegionAverage, SensorProjection
from .network import SurfaceNetwork
from .stimulus import PROFILES, on_surface, surface_weights

__all__ = ["Surface", "LocalCoupling", "SurfaceNetwork", "RegionAverage", "SensorProjection",
           "REGION_SUFFIX", "KERNELS", "kernel_values", "geodesic_distances", "euclidean_distances",
           "vertex_areas", "vertex_normals", "mesh_edges", "surface_weights", "on_surface", "PROFILES"]
