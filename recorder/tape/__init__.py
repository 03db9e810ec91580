"""The tape: the cassette and everything that reads or writes one, with no judging and no network.

- ``cassette``: the model (a vcrpy cassette plus read boundaries, timing, ending, dialect and
  ``metadata``), load/save, and the YAML it is written as;
- ``redact``: credentials kept off disk (headers, query strings, known secrets);
- ``sniff``: which dialect a body, a payload or a URL speaks, and how a body is framed (the
  cassette loader uses it to name a dialect the file leaves out);
- ``markdown``: a cassette embedded in a Markdown bug report, and read back.

The bottom of ``recorder``: it imports only ``translator``, never another group.
"""

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
    dumps,
    iter_cassette_paths,
    load,
    parse_cassette,
    save,
    save_expect,
    write_atomic,
)
from .markdown import MARKER, cassette_from_report, embed
from .redact import REDACTED, SECRET_HEADERS, SECRET_QUERY, find_secrets, redact_headers, redact_url
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
    "dumps",
    "embed",
    "exchange_dialect",
    "find_secrets",
    "is_snake_gemini",
    "iter_cassette_paths",
    "json_payloads",
    "load",
    "parse_cassette",
    "payload_dialect",
    "payloads_dialect",
    "redact_headers",
    "redact_url",
    "save",
    "save_expect",
    "sse_payloads",
    "to_wire_keys",
    "translatable",
    "url_dialect",
    "write_atomic",
]
