"""Results folders: written whole or not at all, and nothing of the user's moved or deleted.

A study writes into a hidden *partial* folder next to its destination and moves it into place when
it is done. The rules for the destination ``out``:

* ``out`` does not exist: the partial folder becomes ``out``;
* ``out`` is an empty folder: the results are moved into it;
* ``out`` holds earlier neuralmass results (it carries the marker file :data:`MARKER`): those are
  kept, renamed to the timestamped sibling ``out.<YYYYmmdd-HHMMSS>`` (never deleted);
* ``out`` is any other non-empty folder: refused with :class:`OutputError`, unless
  ``overwrite=True``, in which case the results are written *into* it, replacing only files of the
  same names; nothing else in it is touched;
* ``out`` is a file: refused.

Partial folders carry a marker with the process id that made them; :func:`sweep_partials` removes
those whose process no longer runs (killed runs), and only those: a folder without the marker is
never touched. Folders and files are created with the default permissions of the user's umask
(``tempfile`` would make them private: 0700/0600).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from ..io import apply_umask, process_alive, umask  # noqa: F401  (apply_umask, umask: re-exported)

__all__ = ["OutputError", "ResultsFolder", "MARKER", "PARTIAL_MARKER", "sweep_partials"]

logger = logging.getLogger("neuralmass")

#: File that marks a folder as neuralmass results (JSON: tool, version, created).
MARKER = ".neuralmass-results"
#: File that marks a partial folder (JSON: pid, host, created).
PARTIAL_MARKER = ".neuralmass-partial"


class OutputError(OSError):
    """The results folder cannot be used as given (raised before anything is simulated)."""


def _partial_prefix(final: Path) -> str:
    return f".{final.name}.partial-"


def sweep_partials(parent: Path, name: str | None = None) -> list[Path]:
    """Remove partial folders under ``parent`` left by neuralmass runs that were killed.

    Only folders that carry :data:`PARTIAL_MARKER`, were made on this host, and whose process is
    gone are removed; returns them.
    """
    removed = []
    parent = Path(parent)
    if not parent.is_dir():
        return removed
    pattern = f".{name}.partial-*" if name else ".*.partial-*"
    host = socket.gethostname()
    for p in parent.glob(pattern):
        marker = p / PARTIAL_MARKER
        if not p.is_dir() or p.is_symlink() or not marker.is_file():
            continue
        try:
            info = json.loads(marker.read_text())
            pid, where = int(info["pid"]), info.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if where != host or pid == os.getpid() or process_alive(pid):
            continue
        shutil.rmtree(p, ignore_errors=True)
        logger.info("removed %s, left by an interrupted neuralmass run (process %d)", p, pid)
        removed.append(p)
    return removed


def _is_ours(path: Path) -> bool:
    return (path / MARKER).is_file()


@dataclass
class ResultsFolder:
    """A results destination, checked when made; :meth:`commit` moves the partial folder into place.

    Parameters
    ----------
    out : path
        Destination folder (``"."`` and ``"~"`` allowed).
    overwrite : bool
        Allow writing into a non-empty folder that neuralmass did not make (same-name files are
        replaced; nothing else is touched).

    Attributes
    ----------
    final : Path
        The resolved destination.
    work : Path
        The partial folder to write into (created by :meth:`open`).
    mode : str
        ``'new'`` (``final`` absent), ``'keep'`` (earlier results renamed aside) or ``'into'``
        (write into an empty folder, or into a non-empty one with ``overwrite=True``).
    """

    out: str | os.PathLike
    overwrite: bool = False

    def __post_init__(self):
        if str(self.out).strip() == "":
            raise OutputError("the results folder is empty (''); give a folder name, e.g. --out results.")
        self.final = Path(self.out).expanduser().resolve()
        self.work: Path | None = None
        self.kept: Path | None = None
        self._foreign = False
        self.mode = self._check()

    # ---------------------------------------------------------------- checks (before simulating)
    def _check(self) -> str:
        f = self.final
        if f.exists() and not f.is_dir():
            raise OutputError(f"results folder {str(self.out)!r} is an existing file ({f}); give a folder "
                              f"name that does not exist.")
        anc = f
        while not anc.exists():
            anc = anc.parent
        if not anc.is_dir():
            raise OutputError(f"cannot create results folder {str(f)!r}: {str(anc)!r} is a file.")
        if f.is_dir():
            sweep_partials(f)  # our own leftovers from a killed run that wrote into ``f``
            if not any(f.iterdir()):
                mode = "into"  # an empty folder is used as it is (never removed and recreated)
            elif _is_ours(f):
                mode = "keep"
            elif self.overwrite:
                mode = "into"
                self._foreign = True  # never marked as ours: a later run must not move it aside
            else:
                raise OutputError(
                    f"results folder {str(f)!r} exists, is not empty and was not made by neuralmass; "
                    f"nothing was changed. Choose another --out, or pass --overwrite to write the "
                    f"results into it (only files of the same names are replaced).")
        else:
            mode = "new"
        # where the partial folder goes, and what must be writable
        # the partial folder is made in ``f`` (into) or next to it; that folder must be writable
        host = f if mode == "into" else f.parent
        need = [f] if mode == "into" else [f.parent if f.parent.exists() else anc]
        for d in need:
            if d.exists() and not os.access(d, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write the results: folder {str(d)!r} is not writable "
                                  f"(permission denied); choose another --out.")
        self._host = host
        return mode

    def open(self) -> Path:
        """Sweep stale partial folders, create this run's partial folder and return it."""
        host = self._host
        host.mkdir(parents=True, exist_ok=True)
        sweep_partials(host, self.final.name if self.mode != "into" else None)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for i in range(1000):
            p = host / f"{_partial_prefix(self.final)}{stamp}-{os.getpid()}-{i}"
            try:
                p.mkdir()  # default permissions: 0777 minus the umask
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover
            raise OutputError(f"cannot create a partial folder in {host}")
        (p / PARTIAL_MARKER).write_text(json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "created": stamp}))
        self.work = p
        return p

    # ---------------------------------------------------------------- moving into place
    def commit(self, version: str = "") -> Path:
        """Move the finished partial folder into place; return the destination.

        Earlier neuralmass results at the destination are renamed to a timestamped sibling (kept);
        on any failure the partial folder is left where it is and the error names it.
        """
        work = self.work
        assert work is not None, "open() first"
        (work / PARTIAL_MARKER).unlink(missing_ok=True)
        if not self._foreign:
            (work / MARKER).write_text(json.dumps(
                {"tool": "neuralmass", "version": version,
                 "created": _dt.datetime.now().isoformat(timespec="seconds")}))
        f = self.final
        try:
            if self.mode == "into":
                for item in work.iterdir():
                    dest = f / item.name
                    if dest.is_dir() and not dest.is_symlink() and item.is_dir():
                        _merge_dir(item, dest)
                    else:
                        os.replace(item, dest)
                work.rmdir()
            else:
                if f.is_dir() and any(f.iterdir()):
                    if not _is_ours(f):  # appeared while we simulated
                        raise OutputError(f"{str(f)!r} was filled by something else while the study ran")
                    self.kept = _free_sibling(f, _mtime_stamp(f))
                    os.rename(f, self.kept)
                    logger.info("earlier results in %s kept as %s", f, self.kept)
                os.rename(work, f)
        except OSError as exc:
            raise OutputError(f"the results are complete in {str(work)!r} but could not be moved to "
                              f"{str(f)!r}: {exc}. Move that folder yourself; nothing was deleted.") from exc
        self.work = None
        return f

    def abandon(self) -> None:
        """Remove this run's partial folder (only when it holds nothing worth keeping)."""
        if self.work is not None and (self.work / PARTIAL_MARKER).is_file():
            shutil.rmtree(self.work, ignore_errors=True)
        self.work = None


def _merge_dir(src: Path, dest: Path) -> None:
    for item in src.iterdir():
        d = dest / item.name
        if item.is_dir() and d.is_dir() and not d.is_symlink():
            _merge_dir(item, d)
        else:
            os.replace(item, d)
    src.rmdir()


def _mtime_stamp(path: Path) -> str:
    try:
        info = json.loads((path / MARKER).read_text())
        t = _dt.datetime.fromisoformat(info["created"])
    except (OSError, ValueError, KeyError, TypeError):
        t = _dt.datetime.fromtimestamp(path.stat().st_mtime)
    return t.strftime("%Y%m%d-%H%M%S")


def _free_sibling(path: Path, stamp: str) -> Path:
    cand = path.with_name(f"{path.name}.{stamp}")
    i = 1
    while cand.exists():
        cand = path.with_name(f"{path.name}.{stamp}-{i}")
        i += 1
    return cand
