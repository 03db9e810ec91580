"""The tape: the cassette and everything that reads or writes one, with no judging and no network.

- ``cassette``: the model (a vcrpy cassette plus read boundaries, timing, ending, dialect and
  ``metadata``), load/save, and the YAML it is written as;
- ``redact``: the one credential detector for every file written and line printed (by position and by
  shape; known secrets refuse a write);
- ``sniff``: which dialect a body, a payload or a URL speaks, and how a body is framed (the
  cassette loader uses it to name a dialect the file leaves out);
- ``markdown``: a cassette embedded in a Markdown bug report, and read back.

The names below are imported from their modules on first use (``translator._lazy``): printing, which
scrubs credentials, loads ``redact`` alone; loading a cassette loads ``cassette`` (pydantic, PyYAML).

The bottom of ``recorder``: it imports only ``translator``, never another group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from translator._lazy import lazy_package

if TYPE_CHECKING:
    from .cassette import (
        Body,
        Cassette,
        CassetteError,
        Expect,
        Interaction,
        Metadata,
        Request,
        Response,
        Status,
        Tape,
        body_of,
        dumps,
        iter_cassette_paths,
        load,
        output_path,
        parse_cassette,
        safe_dumps,
        save,
        save_expect,
        write_atomic,
    )
    from .markdown import MARKER, cassette_from_report, embed
    from .redact import (
        REDACTED,
        SECRET_HEADERS,
        SECRET_QUERY,
        SHAPES,
        find_secrets,
        has_userinfo,
        is_secret_name,
        redact_headers,
        redact_url,
        request_secrets,
        scrub_cassette,
        scrub_data,
        scrub_text,
        url_secrets,
    )
    from .sniff import (
        FOREIGN,
        UPSTREAMS,
        NotTranslatable,
        body_dialect,
        body_framing,
        exchange_dialect,
        is_snake_gemini,
        json_payloads,
        payload_dialect,
        payloads_dialect,
        sse_payloads,
        to_wire_keys,
        translatable,
        url_dialect,
    )

__all__ = [
    "FOREIGN",
    "MARKER",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY",
    "SHAPES",
    "UPSTREAMS",
    "Body",
    "Cassette",
    "CassetteError",
    "Expect",
    "Interaction",
    "Metadata",
    "NotTranslatable",
    "Request",
    "Response",
    "Status",
    "Tape",
    "body_dialect",
    "body_framing",
    "cassette_from_report",
    "body_of",
    "dumps",
    "embed",
    "exchange_dialect",
    "find_secrets",
    "has_userinfo",
    "is_secret_name",
    "is_snake_gemini",
    "iter_cassette_paths",
    "json_payloads",
    "load",
    "output_path",
    "parse_cassette",
    "payload_dialect",
    "payloads_dialect",
    "redact_headers",
    "redact_url",
    "request_secrets",
    "safe_dumps",
    "save",
    "save_expect",
    "scrub_cassette",
    "scrub_data",
    "scrub_text",
    "sse_payloads",
    "to_wire_keys",
    "translatable",
    "url_dialect",
    "url_secrets",
    "write_atomic",
]

lazy_package(__name__)
