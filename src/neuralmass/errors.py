"""The errors a study raises before it runs, in the lowest layer so that every layer may raise them.

:class:`ConfigError` (a configuration value is invalid) and :class:`PreflightError` (a study cannot
run as configured) are re-exported by :mod:`neuralmass.config` and
:mod:`neuralmass.studies.preflight`, where they are documented for users.
"""

from __future__ import annotations

__all__ = ["ConfigError", "PreflightError"]


class ConfigError(ValueError):
    """A study configuration is invalid."""

    __module__ = "neuralmass.config"


class PreflightError(ValueError):
    """A study cannot run as configured (raised before anything is simulated)."""

    __module__ = "neuralmass.studies.preflight"
