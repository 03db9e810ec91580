"""Bytes off the wire: a response's content-coding undone read by read, and no state carried between calls.

``record`` and ``proxy`` read the raw bytes (``iter_raw``) and decode them here rather than letting
httpx do it, so that a body whose coding is broken (an upstream that gzips although asked for
``identity``, and gets it wrong) is not lost: the reads that arrived are kept as they arrived, and
``Decoder.error`` says in one line what failed. quirktape asks upstreams for ``identity``, so
normally there is nothing to undo and the reads pass through untouched.

``no_cookies`` is the cookie jar every capturing client uses: a ``Set-Cookie`` from one exchange
must never ride on the next request (``record --both``'s twin, another client's proxied call).
"""

from __future__ import annotations

import zlib
from http.cookiejar import CookieJar, DefaultCookiePolicy

DEFAULT_TIMEOUT = 300.0
"""Seconds of silence ``record`` allows before a read (the first byte included) gives up; connecting gets 10."""

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing (every domain is blocked)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def codings(headers: list[tuple[str, str]]) -> list[str]:
    """The response's content-codings, in the order they were applied (``identity`` left out)."""
    return [
        coding.strip().lower()
        for name, value in headers
        if name.lower() == "content-encoding"
        for coding in value.split(",")
        if coding.strip() and coding.strip().lower() != "identity"
    ]


class _Inflate:
    """One gzip or deflate coding, incrementally; gzip members may follow one another."""

    def __init__(self, coding: str) -> None:
        self.coding, self.wbits = coding, _WBITS[coding]
        self.decoder = zlib.decompressobj(self.wbits)
        self.started = False

    def feed(self, data: bytes) -> bytes:
        out = []
        while data:
            try:
                out.append(self.decoder.decompress(data))
            except zlib.error:
                if self.coding != "deflate" or self.started:
                    raise
                self.wbits = -zlib.MAX_WBITS  # deflate without its zlib wrapper, as servers send it too
                self.decoder = zlib.decompressobj(self.wbits)
                self.started = True
                continue
            self.started = True
            data = b""
            if self.decoder.eof and self.decoder.unused_data:
                data, self.decoder = self.decoder.unused_data, zlib.decompressobj(self.wbits)
        return b"".join(out)

    def flush(self) -> bytes:
        return self.decoder.flush()


class Decoder:
    """The body under its content-codings, read by read. After the first failure it decodes no
    more, and ``error`` says what failed; the caller then keeps the raw reads."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.codings = codings(headers)
        self.error: str | None = None
        unknown = [c for c in self.codings if c not in _WBITS]
        self.stages = [] if unknown else [_Inflate(c) for c in reversed(self.codings)]
        if unknown:
            self.error = f"content-encoding {unknown[0]!r} cannot be decoded (quirktape decodes gzip and deflate)"

    @property
    def active(self) -> bool:
        """Whether there is anything to undo at all."""
        return bool(self.codings)

    def feed(self, data: bytes) -> bytes:
        if self.error is not None:
            return b""
        try:
            for stage in self.stages:
                data = stage.feed(data)
        except zlib.error as exc:
            self.error = f"content-encoding {', '.join(self.codings)} does not decode ({exc})"
            return b""
        return data

    def flush(self) -> bytes:
        if self.error is not None:
            return b""
        out = b""
        try:
            for n, stage in enumerate(self.stages):
                out = stage.feed(out) + stage.flush() if n else stage.flush()
        except zlib.error as exc:
            self.error = f"content-encoding {', '.join(self.codings)} does not decode ({exc})"
            return b""
        return out


class Reads:
    """A response body as it arrives: every raw read with its time, and the body decoded read by read.

    ``finish`` gives the reads to record: the decoded ones, or, when the coding is broken, the raw
    ones as they arrived, with the one line saying what failed.
    """

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.decoder = Decoder(headers)
        self.raw: list[bytes] = []
        self.t_raw: list[float] = []
        self.decoded: list[bytes] = []
        self.t_decoded: list[float] = []
        self.size = 0

    def add(self, piece: bytes, t_ms: float) -> None:
        self.raw.append(piece)
        self.t_raw.append(t_ms)
        self.size += len(piece)
        chunk = self.decoder.feed(piece) if self.decoder.active else piece
        if chunk:
            self.decoded.append(chunk)
            self.t_decoded.append(t_ms)

    def finish(self) -> tuple[list[bytes], list[float], str | None]:
        if self.decoder.active and (tail := self.decoder.flush()):
            self.decoded.append(tail)
            self.t_decoded.append(self.t_raw[-1] if self.t_raw else 0.0)
        if self.decoder.error:
            return self.raw, self.t_raw, f"{self.decoder.error}; the {self.size} bytes are kept as received"
        return self.decoded, self.t_decoded, None
