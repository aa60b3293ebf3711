"""Where the user's installed ``tvb-data`` package lives (The Virtual Brain's data, GPL-3).

Its files are read at run time from the user's installation and never copied into neuralmass.
This module sits at the bottom of the layers so that both :mod:`neuralmass.surface` (meshes,
local connectivity) and :mod:`neuralmass.datasets.tvb` (connectivities, lead fields) can find it.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata as _md
from pathlib import Path

__all__ = ["TVBDataMissingError", "tvb_data_path", "tvb_data_version"]


class TVBDataMissingError(ImportError):
    """The optional ``tvb-data`` package is needed but not installed."""


def tvb_data_path() -> Path:
    """Folder of the installed ``tvb_data`` package.

    Raises
    ------
    TVBDataMissingError
        With installation instructions when ``tvb-data`` is absent.
    """
    spec = importlib.util.find_spec("tvb_data")
    if spec is None or not spec.submodule_search_locations:
        raise TVBDataMissingError(
            "This dataset is read from the 'tvb-data' package (The Virtual Brain's data, GPL-3), "
            "which is not installed. Install it with `pip install tvb-data` (about 50 MB) or "
            "`pip install neuralmass[data]`, then load the dataset again.")
    return Path(list(spec.submodule_search_locations)[0])


def tvb_data_version() -> str:
    """Version of the installed ``tvb-data`` (``'unknown'`` without package metadata)."""
    try:
        return _md.version("tvb-data")
    except _md.PackageNotFoundError:  # pragma: no cover - installed without metadata
        return "unknown"
