"""Deprecated: the comparison on the reference's simulator moved to
:mod:`neuralmass.studies.erp_paper_comparison` (same names: :class:`PaperComparisonConfig`,
:func:`run_paper_comparison`). This module keeps the old import path and warns; it will be
removed."""

import warnings

from ..studies.erp_paper_comparison import PaperComparisonConfig, run_paper_comparison

__all__ = ["PaperComparisonConfig", "run_paper_comparison"]

warnings.warn("neuralmass.inference.paper_study is deprecated: use neuralmass.studies.erp_paper_comparison.",
              DeprecationWarning, stacklevel=2)
