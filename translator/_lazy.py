"""Packages whose public names are imported on first use (PEP 562), so that a command loads what it needs.

``lazy_package(__name__)`` at the end of a package's ``__init__``: each name its ``TYPE_CHECKING``
block imports is read from its submodule the first time it is asked for, and kept. ``translator`` and
every package of ``recorder`` are made so. Several export a function named like one of their submodules
(``translator.accumulate``, ``recorder.replay``, ``recorder.judge.report``, ``recorder.capture.record``):
the import system binds a submodule on its package when it is first imported, which would hide the
function; here that binding is skipped, so the name stays the function whichever is imported first
(the submodule itself is always in ``sys.modules``, and ``from package.submodule import x`` works as ever).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


class _LazyPackage(ModuleType):
    _lazy: dict[str, tuple[str, str]]  # exported name -> (relative module, its name there)

    def __getattr__(self, name: str) -> Any:
        where = self.__dict__.get("_lazy", {}).get(name)
        if where is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = where
        value = getattr(submodule(self.__name__ + module), attribute)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and value.__name__ == f"{self.__name__}.{name}" and name in self._lazy:
            return  # the import system binding the submodule over the export of the same name
        ModuleType.__setattr__(self, name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._lazy})


def submodule(name: str) -> ModuleType:
    """The module ``name``, imported by the import statement's own path (``python -X importtime`` times it)."""
    __import__(name)
    return sys.modules[name]


def lazy_package(name: str) -> None:
    """Make the package ``name`` import, on first use, each name its ``if TYPE_CHECKING:`` block imports.

    That block is the one table: readers and type checkers see real imports, and this reads the same
    lines (``from .module import a, b as c``) off the package's source, so the two cannot drift.
    """
    package = sys.modules[name]
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    lazy = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.level == 1 and statement.module:
                    for alias in statement.names:
                        lazy[alias.asname or alias.name] = ("." + statement.module, alias.name)
    package.__dict__["_lazy"] = lazy
    package.__class__ = _LazyPackage
