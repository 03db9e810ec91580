"""quirktape as one import: the cassettes, replay and the oracle (``recorder``) and the sans-IO translator
(``translator``), so ``import quirktape`` names everything the two packages make public.

The code stays in ``recorder`` and ``translator`` (existing imports keep working); this package adds
``python -m quirktape``, the version, and carries the shipped cassette library in a wheel
(``quirktape/cassettes/``, see ``library_root``).

Every name is read from its package on first use (PEP 562), as those packages read theirs from their
modules: ``import quirktape`` (and ``python -m quirktape``) loads nothing it is not asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import recorder
import translator
from recorder.library import LibraryMissing as LibraryMissing
from recorder.library import library_root as library_root

if TYPE_CHECKING:
    from recorder import *  # noqa: F403
    from translator import *  # noqa: F403

__all__ = sorted({*recorder.__all__, *translator.__all__, "LibraryMissing", "library_root", "__version__"})


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib import metadata

        try:
            value = metadata.version("quirktape")
        except metadata.PackageNotFoundError:  # run from a checkout that was never installed
            value = "0+unknown"
    elif name in recorder.__all__:
        value = getattr(recorder, name)
    elif name in translator.__all__:
        value = getattr(translator, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
