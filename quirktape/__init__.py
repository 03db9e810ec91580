"""quirktape as one import: the cassettes, replay and the oracle (``recorder``) and the sans-IO translator
(``translator``), so ``import quirktape`` names everything the two packages make public.

The code stays in ``recorder`` and ``translator`` (existing imports keep working); this package adds
``python -m quirktape``, the version, and carries the shipped cassette library in a wheel
(``quirktape/cassettes/``, see ``library_root``).
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

import recorder
import translator
from recorder.library import LibraryMissing as LibraryMissing
from recorder.library import library_root as library_root

if TYPE_CHECKING:
    from recorder.judge import check_cassette as check_cassette

try:
    __version__ = metadata.version("quirktape")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

_LAZY = frozenset({"check_cassette"})  # loaded on first use (below), as recorder does
for _package in (recorder, translator):
    globals().update({name: getattr(_package, name) for name in _package.__all__ if name not in _LAZY})

__all__ = sorted({*recorder.__all__, *translator.__all__, "LibraryMissing", "library_root", "__version__"})


def __getattr__(name: str) -> Any:
    """``check_cassette`` on first use, as in ``recorder``: importing quirktape does not load the judge."""
    if name == "check_cassette":
        from recorder.judge import check_cassette as check_cassette

        globals()[name] = check_cassette
        return check_cassette
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
