"""Which implementation runs the engine's inner loops: compiled (Numba) or pure NumPy.

Both give the same numbers, bit for bit: the compiled kernels (:mod:`simulation.kernels`) do
the very floating-point operations of the NumPy passes, element by element and in the same
order (sums of the sensitivity pass are exact integers either way).  So the choice is a matter
of speed only:

* ``numba``: the fused kernels; needs the ``numba`` package (imported on first use, never at
  import of :mod:`simulation`, so a process that does not simulate does not pay for it).
* ``numpy``: the level-wise NumPy passes; no compiler, works everywhere.
* ``auto`` (the default): ``numba`` when it can be imported and the run is big enough for
  the kernels to pay for loading them (``AUTO_NUMBA_MIN_WORK`` task-iterations, or they are
  loaded already), else ``numpy``.  So small runs (tests, a CLI run of a small plan) never
  import Numba.

``PLANNER_ENGINE`` (``auto``, ``numba`` or ``numpy``) sets the default of a process; a
``backend=`` argument of :func:`simulation.montecarlo.simulate` and friends overrides it.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType
from typing import Literal

Backend = Literal["numba", "numpy"]
BackendChoice = Literal["auto", "numba", "numpy"]
BACKEND_CHOICES: tuple[BackendChoice, ...] = ("auto", "numba", "numpy")
ENV_VAR = "PLANNER_ENGINE"
#: Tasks x iterations from which ``auto`` loads the compiled kernels (about a second, once per
#: process, from Numba's cache): below it the NumPy path is done in well under a second anyway.
AUTO_NUMBA_MIN_WORK = 1_000_000


class BackendUnavailableError(RuntimeError):
    """``numba`` was asked for explicitly but cannot be loaded."""


def _choice(requested: str | None) -> BackendChoice:
    value = (requested if requested is not None else os.environ.get(ENV_VAR, "auto")).strip().lower() or "auto"
    for choice in BACKEND_CHOICES:
        if value == choice:
            return choice
    source = "backend" if requested is not None else ENV_VAR
    raise ValueError(f"{source} must be one of {', '.join(BACKEND_CHOICES)}, not {value!r}")


@functools.cache
def _kernels() -> ModuleType | None:
    """The compiled kernels, or None when numba is not installed (loaded once per process)."""
    try:
        import numba  # noqa: F401  (only probing that it exists)
    except ImportError:
        return None
    from simulation import kernels

    return kernels


def resolve(requested: str | None = None, work: int | None = None) -> Backend:
    """The backend a run of ``work`` task-iterations uses: ``requested``, else
    ``PLANNER_ENGINE``, else ``auto`` (``work`` None: a big run)."""
    choice = _choice(requested)
    if choice == "numpy":
        return "numpy"
    small = work is not None and work < AUTO_NUMBA_MIN_WORK and _kernels.cache_info().currsize == 0
    if choice == "auto" and small:
        return "numpy"
    if _kernels() is None:
        if choice == "numba":
            raise BackendUnavailableError("the numba engine backend was asked for, but numba is not installed")
        return "numpy"
    return "numba"


def kernels_for(requested: str | None = None, work: int | None = None) -> ModuleType | None:
    """The kernels module when the run uses ``numba``, else None (the NumPy path)."""
    return _kernels() if resolve(requested, work) == "numba" else None


def numba_available() -> bool:
    return _kernels() is not None
