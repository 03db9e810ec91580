"""Packages whose public names are imported on first use (PEP 562), so that a command loads what it needs.

``lazy_package(__name__, {".submodule": ("name", ...), ...})`` at the end of a package's ``__init__``
(its ``TYPE_CHECKING`` block holds the same imports, for readers and type checkers): each name is read
from its submodule (``"other as name"`` for one the submodule holds under another name) the first
time it is asked for, and kept. Several packages export a function named like one of their
submodules (``recorder.replay``, ``recorder.judge.report``, ``recorder.capture.record``): the import
system binds a submodule on its package when it is first imported, which would hide the function;
here that binding is skipped, so the name stays the function whichever is imported first (the
submodule itself is always in ``sys.modules``, and ``from package.submodule import x`` works as ever).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _LazyPackage(ModuleType):
    _lazy: dict[str, tuple[str, str]]  # exported name -> (relative module, its name there)

    def __getattr__(self, name: str) -> Any:
        where = self.__dict__.get("_lazy", {}).get(name)
        if where is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = where
        value = getattr(_submodule(self.__name__ + module), attribute)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}" and name in self._lazy:
            return  # the import system binding the submodule over the export of the same name
        ModuleType.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._lazy})


def _submodule(name: str) -> ModuleType:
    """The module ``name``, imported by the import statement's own path (``python -X importtime`` times it)."""
    __import__(name)
    return sys.modules[name]


def lazy_package(name: str, exports: dict[str, tuple[str, ...]]) -> None:
    """Make the package ``name`` import the names ``exports`` lists under each submodule (``".tape"``) on first use."""
    lazy = {}
    for module, names in exports.items():
        for spec in names:
            attribute, _, exported = spec.partition(" as ")
            lazy[exported or attribute] = (module, attribute)
    package = sys.modules[name]
    package.__dict__["_lazy"] = lazy
    package.__class__ = _LazyPackage
