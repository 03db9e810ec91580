"""Shared setup for the pytest-plugin tests: real cassettes and broken variants in a pytester dir."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import broken_translators
import httpx  # noqa: F401 - kept loaded across pytester's in-process runs (see below)
from helpers import CASSETTES

# pytester's in-process runs drop the modules a run imported. recorder.transport caches its stream
# class per library *name*, so an httpx imported afresh by a later run would not match it: httpx
# stays imported here, for the whole session.

VLLM = "vllm/report-empty-tool-calls-text-lost.yaml"
MLX = "mlx-lm/report-parallel-tool-calls-one-delta.yaml"
RESET = "groq/err-06-connection-reset-mid-stream.yaml"

# A translator with the mlx_lm.server bug (the second of several tool calls is lost), as the source
# of a module the pytester projects import: the same function the other tests use.
DROP_SECOND_TOOL = "\n".join(
    ["from translator import translate_stream", "", "", inspect.getsource(broken_translators.drop_second_tool)]
).replace("def drop_second_tool(", "def translate(")


def copy_cassette(pytester, name: str, dest: str | None = None) -> Path:
    """Copy a bundled cassette into the pytester dir (default: cassettes/<file name>)."""
    target = pytester.path / (dest or f"cassettes/{Path(name).name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CASSETTES / name, target)
    return target


def break_expectation(path: Path, old: str, new: str) -> None:
    """Edit a cassette's text (e.g. its expect) in place; the edit must apply exactly once."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
