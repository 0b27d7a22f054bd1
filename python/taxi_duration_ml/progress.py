"""Progress bars (tqdm) for the slow steps: downloads, loading trips into PostgreSQL, training.

Bars go to stderr and are shown only when stderr is a terminal (tqdm's ``disable=None``), so
logs, pipes and tests never see them.  :func:`set_quiet` turns them off altogether (the command
line's ``--quiet``).  tqdm is imported only when a bar is made.
"""

from __future__ import annotations

import sys

_quiet = False


def set_quiet(quiet: bool = True) -> None:
    """Turn every progress bar of this process off (True) or back to automatic (False)."""
    global _quiet
    _quiet = bool(quiet)


def quiet() -> bool:
    return _quiet


def bar(iterable=None, **kw):
    """A tqdm bar on stderr: off under :func:`set_quiet`, else only when stderr is a terminal.
    Keyword arguments are tqdm's (``total``, ``desc``, ``unit``, ...)."""
    from tqdm import tqdm

    kw.setdefault("file", sys.stderr)
    kw.setdefault("leave", False)
    kw.setdefault("dynamic_ncols", True)
    kw.setdefault("mininterval", 0.2)
    return tqdm(iterable, disable=True if _quiet else None, **kw)
