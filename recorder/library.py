"""Where the shipped fixture library is: ``quirktape check --library`` needs no clone of the repository.

The cassettes live at the repository root (``cassettes/``). A wheel carries them inside the package, as
``quirktape/cassettes/`` (pyproject.toml maps the package ``quirktape.cassettes`` onto that directory);
an editable install (``pip install -e .``) or a run from a checkout leaves them where they are, beside
the ``quirktape`` package, and setuptools' editable finder cannot import a mapped directory without an
``__init__.py`` (measured with setuptools 84), so the checkout is looked up by its ``pyproject.toml``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["LibraryMissing", "library_root"]


class LibraryMissing(LookupError):
    """The installation holds no cassette library (a wheel built without its package data, files deleted)."""


def library_root() -> Path:
    """The directory of the shipped cassette library (``<provider>/*.yaml``), as a real path.

    A real path because the library is handed to code that walks directories and opens files by name
    (``check``, ``gauntlet``, ``serve``, the pytest plugin). Raises ``LibraryMissing`` (one line, naming
    where it looked) when neither place holds a cassette.
    """
    package = resources.files("quirktape")
    places: list[Path] = []
    if isinstance(package, Path):  # a zip import has no directory to walk
        places.append(package / "cassettes")  # installed from a wheel
        checkout = package.parent
        if (checkout / "pyproject.toml").is_file():  # editable install, or run from the repository
            places.append(checkout / "cassettes")
    for place in places:
        if place.is_dir() and any(_cassettes(place)):
            return place
    where = " or ".join(str(p) for p in places) or str(package)
    raise LibraryMissing(f"the shipped cassette library is missing (no *.yaml in {where}): reinstall quirktape")


def _cassettes(root: Path):
    """The library's cassette files, lazily: finding one is enough to tell an installed library from none."""
    return (p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
