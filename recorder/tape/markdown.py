"""A cassette inside a Markdown bug report, and back.

The report's format: a ``MARKER`` comment that says "this is a quirktape report", and the cassette
in a collapsible block (YAML, or gzip + base64 when large) that ``cassette_from_report`` reads back
exactly as it was, so ``quirktape import report.md -o c.yaml`` reproduces the bug. What the report
says about the cassette (the verdict, the difference event by event) is written by
``recorder.judge.report``.
"""

from __future__ import annotations

import base64
import gzip
import re

from .cassette import Cassette, CassetteError, dumps, loads

MARKER = "<!-- quirktape-report v1 -->"
INLINE_LIMIT = 20_000
"""Cassettes larger than this (characters of YAML) are embedded gzip-compressed and base64-encoded."""


def _fenced(info: str, text: str) -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"


def embed(cassette: Cassette) -> str:
    """The cassette as a collapsible Markdown block: YAML, or gzip + base64 beyond ``INLINE_LIMIT``."""
    text = dumps(cassette)
    if len(text) <= INLINE_LIMIT:
        return f"<details><summary>cassette (YAML)</summary>\n\n{_fenced('yaml', text)}\n\n</details>"
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(packed[i : i + 100] for i in range(0, len(packed), 100))
    block = _fenced("quirktape-gzip-base64", lines)
    return f"<details><summary>cassette (YAML, gzip + base64)</summary>\n\n{block}\n\n</details>"


_YAML_BLOCK = re.compile(r"^(`{3,})yaml\n(.*?)^\1$", re.S | re.M)
_PACKED_BLOCK = re.compile(r"^(`{3,})quirktape-gzip-base64\n(.*?)^\1$", re.S | re.M)


def cassette_from_report(text: str) -> Cassette:
    """The cassette embedded in a report, exactly as it was (whatever line ends the report got on the way)."""
    text = text.replace("\r\n", "\n")
    if MARKER not in text:
        raise CassetteError("not a quirktape report (no report marker)")
    packed = _PACKED_BLOCK.search(text)
    if packed:
        try:
            body = gzip.decompress(base64.b64decode("".join(packed.group(2).split()))).decode()
        except (ValueError, OSError, EOFError) as exc:
            raise CassetteError(f"the embedded cassette is damaged: {exc}") from None
    else:
        blocks = _YAML_BLOCK.findall(text)
        if not blocks:
            raise CassetteError("the report holds no cassette block")
        body = blocks[-1][1]
    return loads(body, "embedded cassette")
