"""Shared setup for the pytest-plugin tests: real cassettes and broken variants in a pytester dir."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import broken_translators
import httpcore  # noqa: F401 - these stay loaded across pytester's in-process runs (see below)
import httpcore2  # noqa: F401
import httpx  # noqa: F401
import httpx2  # noqa: F401
import yaml
from helpers import CASSETTES

from recorder.tape import load, save

# pytester's in-process runs drop the modules a run imported. recorder.replay.transport caches its stream
# class per library *name*, so an httpx imported afresh by a later run would not match it; and httpx
# imports httpcore on its first transport and keeps a map of its exception classes, so an httpcore
# dropped and imported afresh raises classes that map stops translating: httpx, httpx2 and their
# httpcore stay imported here, for the whole session.

VLLM = "vllm/report-empty-tool-calls-text-lost.yaml"
MLX = "mlx-lm/report-parallel-tool-calls-one-delta.yaml"
RESET = "groq/err-06-connection-reset-mid-stream.yaml"
GEMINI = "gemini/gem-02-thought-then-signed-call.yaml"

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


def without_expect(path: Path) -> None:
    """Drop a cassette's expect block (the cassette is written back as quirktape writes it)."""
    cassette = load(path)
    cassette.metadata.expect = None
    save(cassette, path)


def vcrpy_yaml(interactions: list[dict], metadata: dict | None = None) -> str:
    """A cassette as vcrpy 9 writes it: keys sorted, top-level ``metadata`` only when there is some."""
    data = {"interactions": interactions, "version": 1}
    if metadata:
        data["metadata"] = metadata
    return yaml.safe_dump(data, sort_keys=True)


def vcrpy_interaction(uri: str, body: str, content_type: str, method: str = "GET") -> dict:
    """One interaction as vcrpy records it."""
    return {
        "request": {"body": "", "headers": {}, "method": method, "uri": uri},
        "response": {
            "body": {"string": body},
            "headers": {"content-type": [content_type]},
            "status": {"code": 200, "message": "OK"},
        },
    }


def as_plain_vcrpy(path: Path, metadata: dict | None = None, before: tuple[dict, ...] = ()) -> None:
    """Rewrite a quirktape cassette as vcrpy would have recorded it: no quirktape data at all, the
    interactions ``before`` ahead of its own, and vcrpy's own ``metadata`` when given."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        del interaction["response"]["quirktape"]
    path.write_text(vcrpy_yaml([*before, *data["interactions"]], metadata), encoding="utf-8")
