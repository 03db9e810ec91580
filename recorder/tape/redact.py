"""Credentials never leave the machine: one detector for every file written and every line printed.

Cassettes (``save``), Markdown reports, the messages commands print and the proxy's and gateway's
log lines all go through the same rules. A credential is found two ways:

- **by position**: headers, query keys and JSON keys whose name says they carry one
  (``is_secret_name``: ``authorization``, ``x-api-key``, ``api-key``, ``cookie``, ``X-Custom-Token``,
  ``"api_key"``, ``client_secret``, ``?key=``, …), the userinfo of a URL (``http://user:PASS@host``),
  any header or query value holding a known secret, and, in text, ``Authorization:``-style lines
  (``curl -v``), ``"api_key": "…"`` pairs (escaped ones too) and ``api_key=…`` assignments; a
  header or query value that is one long high-entropy token (not under a name that says
  "identifier": ``x-request-id``, ``etag``, trace headers);
- **by shape**, in any string: known key prefixes (``sk-``, ``sk-ant-``, ``AIza``, ``gsk_``,
  ``xai-``, ``hf_``, ``ghp_``, ``github_pat_``, ``glpat-``, ``xox?-``, ``pplx-``, ``r8_``,
  ``sk_live_``), AWS key ids (``AKIA…``), JWTs, ``Bearer``/``Basic`` values (``SHAPES`` names all
  the rules). Random tokens in bodies are data (tool-call ids, signatures, encrypted reasoning).

A finding is replaced by ``REDACTED`` where it sits; ``allow`` keeps a value that only looks like a
credential (``--allow-value``). Known secrets (the credential a command was given, its base64 forms,
a URL's password or ``?key=``, what a proxied request carried) are the second line: redacted where
credentials travel, and anywhere else in a response refused (``echoes``, ``KnownSecretFound``),
never silently edited, since only an upstream's echo puts them there; ``find_secrets`` scans the
final text once more. The rules are tuned so that the bundled cassettes and the shared corpus hold
no finding at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie"}
)
SECRET_QUERY = frozenset({"key", "api_key", "apikey", "access_token", "token", "sig", "signature"})
"""Query keys that carry a credential (``?key=`` is Gemini's, ``sig=`` Azure's SAS)."""

_SECRET_NAME = re.compile(
    r"""(?:.*[-_.])?(?:
        (?:x[-_]?)?api[-_]?key | apikey | access[-_]?key(?:[-_]?id)? | secret[-_]?(?:access[-_]?)?key |
        private[-_]?key | master[-_]?key | subscription[-_]?key | functions[-_]?key | license[-_]?key |
        secret | client[-_]?secret | password | passwd | passphrase | credentials? |
        authorization | auth | cookie | set[-_]?cookie | session[-_]?(?:id|key|token) |
        [a-z0-9]*[-_]?token
    )""",
    re.I | re.X | re.A,
)
_NOT_SECRET_NAME = re.compile(
    r"""token |  # logprobs' "token": the text of one token
    (?:.*[-_.])?(?:eos|bos|pad|unk|sep|cls|mask|stop|start|end|special|image|audio|video|vision|think|thinking|
        reasoning|tool|eot|eom|bot|next|page|next[-_]?page|last|first|max|min|num|n)[-_]?token |  # tokenizer, paging
    (?:.*[-_.])?(?:idempotency|cache|prompt[-_]?cache)[-_]?key""",
    re.I | re.X | re.A,
)
_HEADERISH = re.compile(r"(?:x-)?[a-z0-9]+(?:-[a-z0-9]+)*", re.I | re.A)


def is_secret_name(name: str) -> bool:
    """A header name or a query/JSON key that carries a credential (``X-Custom-Token``, ``api_key``, …)."""
    name = name.strip().strip("\"'")
    if name.lower() in SECRET_HEADERS:
        return True
    return bool(_SECRET_NAME.fullmatch(name)) and not _NOT_SECRET_NAME.fullmatch(name)


def _is_secret_query(name: str) -> bool:
    return name.lower() in SECRET_QUERY or is_secret_name(name)


# --- the shapes of a credential --------------------------------------------------------------------

_PREFIXED = {
    "anthropic key (sk-ant-)": r"sk-ant-[A-Za-z0-9_-]{20,}",
    "OpenAI-style key (sk-)": r"sk-[A-Za-z0-9_-]{20,}",
    "Stripe-style key (sk_live_)": r"[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}",
    "Google API key (AIza)": r"AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",
    "Groq key (gsk_)": r"gsk_[A-Za-z0-9]{20,}",
    "xAI key (xai-)": r"xai-[A-Za-z0-9]{20,}",
    "Hugging Face token (hf_)": r"hf_[A-Za-z0-9]{30,}",
    "GitHub token (ghp_)": r"gh[pousr]_[A-Za-z0-9]{30,}",
    "GitHub token (github_pat_)": r"github_pat_[A-Za-z0-9_]{22,}",
    "GitLab token (glpat-)": r"glpat-[A-Za-z0-9_-]{20,}",
    "Slack token (xox?-)": r"xox[abposr]-[A-Za-z0-9-]{10,}",
    "Perplexity key (pplx-)": r"pplx-[A-Za-z0-9]{20,}",
    "Replicate token (r8_)": r"r8_[A-Za-z0-9]{20,}",
    "AWS access key id (AKIA)": r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}(?![A-Z0-9])",
    "JWT": r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
}
_PREFIX = re.compile(
    "|".join(f"(?P<p{n}>{rx})" for n, rx in enumerate(_PREFIXED.values())).join(["(?<![A-Za-z0-9])(?:", ")"]),
    re.A,
)
_ANY_BODY = {"Google API key (AIza)", "AWS access key id (AKIA)", "JWT"}  # exact lengths or structure tell these
_NEEDS_DIGIT = frozenset(n for n, name in enumerate(_PREFIXED) if name not in _ANY_BODY)
"""Random keys hold digits; prose that happens to start with a prefix (``sk-learn-compatible-…``) does not."""
_BEARER = re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]{8,}=*)", re.I | re.A)
_BASIC = re.compile(r"\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", re.I | re.A)
_USERINFO = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/?#@\"'<>\\]+)@", re.I | re.A)
_QUERY = re.compile(r"[?&;]([A-Za-z0-9_.-]+)=([^&#\s\"'<>\\`]+)", re.A)
_HEADER_LINE = re.compile(r"^[ \t]*[<>]?[ \t]*([A-Za-z0-9_-]+)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*$", re.M | re.A)
_JSON_PAIR = re.compile(r'"([A-Za-z0-9_.-]+)"\s*:\s*"((?:[^"\\\r\n]|\\.){1,2000})"', re.A)
_ESCAPED_PAIR = re.compile(r'\\"([A-Za-z0-9_.-]+)\\"\s*:\s*\\"([^"\\]{1,2000})\\"', re.A)
_ASSIGNMENT = re.compile(  # zero-width, so that one candidate never hides the next ("content": "api-key: …")
    r"(?<![A-Za-z0-9_-])(?=([A-Za-z][A-Za-z0-9_-]*)\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?([A-Za-z0-9._~+/=@!#%^*:-]{8,}))",
    re.A,
)
_RUN = re.compile(r"[A-Za-z0-9+/_=-]{24,}", re.A)
_SSE_FIELDS = frozenset({"data", "event", "id", "retry"})  # a stream's lines, not headers
_ID_NAME = re.compile(
    r"(?:^|[-_.])(?:ids?|etag|ray|trace\w*|traceparent|tracestate|request\w*|project|organi[sz]ation|fingerprint|"
    r"version|date|nonce|digest|hash|sha\d*|checksum|location|link|server\w*|via|vary|alt-svc|cache\w*|age)$|"
    r"(?:^|[-_])(?:request|trace|correlation|span)[-_]|^x-amz-cf-id$|^x-amzn-|^content-|^cf-",
    re.I | re.A,
)
_ID_PREFIX = re.compile(
    r"(?:chatcmpl|cmpl|call|toolu|srvtoolu|msg|req|resp|rs|fc|gen|fp|run|asst|thread|file|batch|ws|evt|o1|ctc)[-_]",
    re.A,
)
_DOTTED = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+\(?", re.A)
_ENV_NAME = re.compile(r"\$?\{?[A-Z][A-Z0-9_]*\}?", re.A)
_PLACEHOLDER = re.compile(r"[<{$%\[].*|.*[>}\]]|(.)\1*|.*(?:\.\.\.|\u2026|\*\*\*).*", re.A)
HIGH_ENTROPY_MIN, HIGH_ENTROPY_MAX, HIGH_ENTROPY_BITS = 24, 128, 4.2
"""A bare token is a credential when it is this long, mixes upper case, lower case and digits, and
carries this many bits per character (Shannon); longer runs are data (images, signatures)."""

SHAPES = (
    *_PREFIXED,
    "Bearer value",
    "Basic value",
    "URL userinfo",
    "credential query key (?key=, ?access_token=, …)",
    "credential header line (Authorization:, X-Api-Key:, Cookie:, …)",
    'credential JSON key ("api_key": "…", "client_secret": "…", …)',
    "credential assignment (api_key=…, password: …)",
    "high-entropy token",
)
"""The detector's rules, by name (README's Security section lists them)."""


def _entropy(text: str) -> float:
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _high_entropy(token: str) -> bool:
    core = token.rstrip("=")
    if not HIGH_ENTROPY_MIN <= len(core) <= HIGH_ENTROPY_MAX or _ID_PREFIX.match(core) or REDACTED in core:
        return False
    if not (re.search(r"[a-z]", core) and re.search(r"[A-Z]", core) and re.search(r"[0-9]", core)):
        return False
    return _entropy(core) >= HIGH_ENTROPY_BITS


def _credentialish(value: str, strict: bool = True) -> bool:
    """A value (of a credential-named key) that may be the credential itself, not a placeholder or code."""
    value = value.strip().strip("\"'")
    if REDACTED in value or _PLACEHOLDER.fullmatch(value) or len(value) < (8 if strict else 6):
        return False
    if not strict:
        return bool(re.search(r"[0-9]", value)) or len(value) >= 8
    if _DOTTED.fullmatch(value) or _ENV_NAME.fullmatch(value) or value.lower() in ("true", "false", "null", "none"):
        return False
    digit, upper, lower = (bool(re.search(rx, value)) for rx in ("[0-9]", "[A-Z]", "[a-z]"))
    return digit or (upper and lower) or len(value) >= 20


def _basic_value(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()


Span = tuple[int, int, str]


def _finditer(rx: re.Pattern, group: int, test: Callable[[re.Match], bool], rule: str):
    def find(text: str) -> Iterable[Span]:
        for m in rx.finditer(text):
            if m.group(group) and test(m):
                yield m.start(group), m.end(group), rule

    return find


def _prefixed(text: str) -> Iterable[Span]:
    names = list(_PREFIXED)
    for m in _PREFIX.finditer(text):
        n = int(m.lastgroup[1:])
        if n in _NEEDS_DIGIT and not re.search(r"[0-9]", m.group()[4:]):
            continue
        yield m.start(), m.end(), names[n]


def _high_entropy_value(name: str, value: str) -> bool:
    """A header or query value that is one long random token, where a credential would travel.

    Only there: in bodies, random tokens are tool-call ids, signatures and encrypted reasoning, and
    under names that say "identifier" (``x-request-id``, ``etag``, ``cf-ray``, trace headers) too.
    """
    value = value.strip()
    if name.lower() in _SSE_FIELDS or _ID_NAME.search(name):
        return False
    return bool(_RUN.fullmatch(value)) and _high_entropy(value)


_POSITION_RULES: list[Callable[[str], Iterable[Span]]] = [
    _finditer(
        _USERINFO,
        1,
        lambda m: ":" in m.group(1) or _credentialish(m.group(1)) and len(m.group(1)) >= 16,
        "URL userinfo",
    ),
    _finditer(
        _QUERY,
        2,
        lambda m: (
            _is_secret_query(m.group(1))
            and _credentialish(m.group(2), False)
            or _high_entropy_value(m.group(1), m.group(2))
        ),
        "credential query key",
    ),
    _finditer(
        _HEADER_LINE,
        2,
        lambda m: is_secret_name(m.group(1)) and _HEADERISH.fullmatch(m.group(1)) and _credentialish(m.group(2), False),
        "credential header line",
    ),
    _finditer(
        _JSON_PAIR, 2, lambda m: is_secret_name(m.group(1)) and _credentialish(m.group(2), False), "credential JSON key"
    ),
    _finditer(
        _ESCAPED_PAIR,
        2,
        lambda m: is_secret_name(m.group(1)) and _credentialish(m.group(2), False),
        "credential JSON key",
    ),
    _finditer(
        _ASSIGNMENT, 2, lambda m: is_secret_name(m.group(1)) and _credentialish(m.group(2)), "credential assignment"
    ),
]
"""Where a credential travels by name: a known secret found there is redacted, not refused."""

_SHAPE_RULES: list[Callable[[str], Iterable[Span]]] = [
    _prefixed,
    _finditer(_BEARER, 1, lambda m: _credentialish(m.group(1)), "Bearer value"),
    _finditer(_BASIC, 1, lambda m: _basic_value(m.group(1)), "Basic value"),
    _finditer(_HEADER_LINE, 2, lambda m: _high_entropy_value(m.group(1), m.group(2)), "high-entropy token"),
]
"""What looks like a credential wherever it is."""

_RULES = _POSITION_RULES + _SHAPE_RULES

# --- pre-filters: cheap scans that prove a rule can find nothing in a text -----------------------------
# Each is a superset of its rule (whatever the rule finds, the guard sees first), so skipping a rule
# whose guard fails changes no finding; they only spare the full detector on text with no candidate
# (``replay`` prints megabytes of framing through the scrub).

_PREFIX_GUARD = re.compile(
    "sk-|k_live_|k_test_|AIza|gsk_|xai-|hf_|gh[pousr]_|github_pat_|glpat-|xox|pplx-|r8_|eyJ|"
    "AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA"
)
"""The literal every ``_PREFIXED`` shape begins with."""
_NAMED_GUARD = re.compile(  # searched in the lower-cased text
    r"(?:key|secret|pass|credential|auth|cookie|session|token)[a-z0-9_.-]*"
    r"""(?:"\s*:\s*"|\\"\s*:\s*\\"|\\?["']?[ \t]*[:=][ \t]*\\?["']?[a-z0-9._~+/=@!#%^*:-]{8})""",
    re.A,
)
"""A credential-named key (every name ``is_secret_name`` accepts holds one of these words) followed by
what ``_JSON_PAIR``, ``_ESCAPED_PAIR`` or ``_ASSIGNMENT`` need after it."""
_HEADER_GUARD = r"[ \t]*[<>]?[ \t]*(?!(?:data|event|id|retry)[ \t]*:)[A-Za-z0-9_-]+[ \t]*:"
_HEADER_GUARD_FIRST = re.compile(_HEADER_GUARD, re.A | re.I)
_HEADER_GUARD_NEXT = re.compile("\n" + _HEADER_GUARD, re.A | re.I)
"""A ``_HEADER_LINE`` whose name is not an SSE field (neither header-line rule finds anything on those)."""


def _rules_for(text: str) -> list[Callable[[str], Iterable[Span]]]:
    """The rules of ``_RULES`` (same order) that can find something in ``text``."""
    lower = text.lower()
    named = bool(_NAMED_GUARD.search(lower))
    header = bool(_HEADER_GUARD_FIRST.match(text) or _HEADER_GUARD_NEXT.search(text))
    userinfo, query, header_name, json_pair, escaped_pair, assignment = _POSITION_RULES
    prefixed, bearer, basic, high_entropy = _SHAPE_RULES
    wanted = [
        (userinfo, "://" in text and "@" in text),
        (query, "=" in text),
        (header_name, header),
        (json_pair, named),
        (escaped_pair, named),
        (assignment, named),
        (prefixed, bool(_PREFIX_GUARD.search(text))),
        (bearer, "bearer" in lower),
        (basic, "basic" in lower),
        (high_entropy, header),
    ]
    return [rule for rule, needed in wanted if needed]


class KnownSecretFound(ValueError):
    """A known secret outside a credential position (an upstream echoed it): the write is refused."""

    def __init__(self, which: list[str]) -> None:
        super().__init__(", ".join(which))
        self.which = which


def echoes(text: str, secrets: list[str]) -> list[str]:
    """Which known secrets (``credential #N``, by position in ``secrets``) appear in ``text``, in any
    form, outside a credential position (a header line, a credential-named key, a URL's query or
    userinfo): there, only an echo puts them."""
    found = []
    positions: list[Span] | None = None
    for n, secret in enumerate(secrets):
        for form in secret_forms(secret) if secret else ():
            start = text.find(form)
            while start >= 0:
                if positions is None:
                    positions = [span for rule in _POSITION_RULES for span in rule(text)]
                if not any(a <= start and start + len(form) <= b for a, b, _ in positions):
                    found.append(f"credential #{n + 1}")
                    break
                start = text.find(form, start + 1)
            if found and found[-1] == f"credential #{n + 1}":
                break
    return found


def _allowed(found: str, allow: Iterable[str]) -> bool:
    return any(found == value or found in value for value in allow if value)


def findings(text: str, allow: Iterable[str] = (), known: Iterable[str] = ()) -> list[Span]:
    """Where ``text`` holds something credential-shaped (and, given ``known``, a known secret in any form):
    sorted, non-overlapping ``(start, end, rule)`` spans."""
    allow = list(allow)
    spans = [s for rule in _rules_for(text) for s in rule(text) if not _allowed(text[s[0] : s[1]], allow)]
    for secret in known:
        for form in secret_forms(secret) if secret else ():
            start = text.find(form)
            while start >= 0:
                spans.append((start, start + len(form), "known credential"))
                start = text.find(form, start + 1)
    merged: list[Span] = []
    for start, end, rule in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, rule))
    return merged


def scrub_text(text: str, allow: Iterable[str] = (), known: Iterable[str] = ()) -> str:
    """``text`` with every finding replaced by ``REDACTED`` (and every known secret, given ``known``)."""
    spans = findings(text, allow, known)
    if not spans:
        return text
    out, at = [], 0
    for start, end, _ in spans:
        out += [text[at:start], REDACTED]
        at = end
    return "".join(out + [text[at:]])


def scrub_body(
    body: str | bytes,
    offsets: list[int] | None,
    t_ms: list[float] | None,
    allow: Iterable[str] = (),
    secrets: list[str] | None = None,
) -> tuple[str | bytes, list[int] | None, list[float] | None]:
    """A response body scrubbed, its read offsets (byte positions) moved with it.

    The rules are ASCII, so the body is searched byte for byte (as Latin-1) and non-ASCII text is
    never cut; a read that began inside a redacted span begins where ``REDACTED`` does.
    """
    if isinstance(body, str) and body.isascii():
        text = body  # its bytes read as Latin-1 are itself: no copy of a long body
    else:
        text = (body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body).decode("latin-1")
    if secrets and (echoed := echoes(text, secrets)):
        raise KnownSecretFound(echoed)
    spans = findings(text, allow)
    if not spans:
        return body, offsets, t_ms
    scrubbed = scrub_text(text, allow).encode("latin-1")
    new_offsets, new_times = None, None
    if offsets is not None:
        pairs: dict[int, float | None] = {}
        for n, offset in enumerate(offsets):
            moved = offset
            for start, end, _ in spans:
                if offset >= end:
                    moved += len(REDACTED) - (end - start)
                elif offset > start:
                    moved -= offset - start
            if moved not in pairs and moved < max(len(scrubbed), 1):
                pairs[moved] = t_ms[n] if t_ms is not None and n < len(t_ms) else None
        new_offsets = sorted(pairs)
        new_times = [pairs[o] for o in new_offsets] if t_ms is not None else None
    if isinstance(body, str):
        return scrubbed.decode("utf-8", "surrogatepass"), new_offsets, new_times
    return scrubbed, new_offsets, new_times


def _is_secret(value: str, secrets: list[str]) -> bool:
    return any(s and s in value for s in secrets)


def redact_headers(
    headers: dict[str, list[str]], secrets: list[str], allow: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Credential-named headers and headers holding a known secret become ``REDACTED``; others are scrubbed."""
    return {
        name: [
            REDACTED
            if (is_secret_name(name) or _is_secret(v, secrets) or _high_entropy_value(name, v))
            and not _allowed(v, allow)
            else scrub_text(v, allow)
            for v in values
        ]
        for name, values in headers.items()
    }


def redact_url(url: str, secrets: list[str], allow: Iterable[str] = ()) -> str:
    """Userinfo, credential query keys and query values holding a known secret become ``REDACTED``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url, allow)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=f"{REDACTED}@{parts.netloc.rsplit('@', 1)[1]}")
    if parts.query:
        pairs = [
            (k, REDACTED if _is_secret_query(k) or _is_secret(v, secrets) or _high_entropy_value(k, v) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(pairs, safe=":"))
    return scrub_text(urlunsplit(parts), allow)


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries: its userinfo (user and password) and its credential query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [unquote(parts.password)] if parts.password else []
    if parts.username and (parts.password or len(parts.username) >= 16):
        found.append(unquote(parts.username))
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _is_secret_query(k)]
    return [s for s in found if len(s) >= 4]


def request_secrets(headers: Iterable[tuple[str, str]], url: str, body: bytes | str | None = None) -> list[str]:
    """The known secrets a request carries where credentials travel: credential-named headers (with
    a ``Bearer`` token, a ``Basic`` password and each cookie value on their own), the URL's userinfo
    and credential query values, and credential-named keys of a JSON body. An upstream that echoes
    one of them gets its exchange refused, never recorded."""
    found: list[str] = []
    for name, value in headers:
        if not (is_secret_name(name) or _high_entropy_value(name, value)):
            continue
        found.append(value)
        scheme, _, rest = value.strip().partition(" ")
        if rest:
            found.append(rest.strip())
        if scheme.lower() == "basic" and _basic_value(rest.strip()):
            found.append(base64.b64decode(rest.strip() + "==").decode("ascii", "replace").partition(":")[2])
        if name.lower() in ("cookie", "set-cookie"):
            found += [part.partition("=")[2] for part in value.split(";")]
    found += url_secrets(url)
    if body:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                found += [v for k, v in item.items() if isinstance(v, str) and is_secret_name(str(k))]
                stack += list(item.values())
            elif isinstance(item, list):
                stack += item
    return list(dict.fromkeys(s.strip() for s in found if _credentialish(s.strip(), False)))


def has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def scrub_data(value: Any, allow: Iterable[str] = (), secrets: list[str] | None = None) -> Any:
    """Any JSON-like value with every string scrubbed and credential-named keys' values redacted;
    a known secret in ``secrets`` found elsewhere raises ``KnownSecretFound``."""
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and is_secret_name(k) and isinstance(v, str) and _credentialish(v, False)
            else scrub_data(v, allow, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_data(v, allow, secrets) for v in value]
    if isinstance(value, str):
        if secrets and (echoed := echoes(value, secrets)):
            raise KnownSecretFound(echoed)
        return scrub_text(value, allow)
    if isinstance(value, bytes):
        scrubbed, _, _ = scrub_body(value, None, None, allow, secrets)
        return scrubbed
    return value


def scrub_cassette(cassette: Any, secrets: Iterable[str] = (), allow: Iterable[str] = ()) -> Any:
    """A copy of ``cassette`` (a ``Cassette``) with every string scrubbed; itself when nothing is found.

    Request URIs and headers by position and shape; bodies by shape (a response body's read
    offsets moved with it); ``metadata`` and every other field by key name and shape. A known
    secret (``secrets``) is redacted in a header, the URL or under a credential-named key; in a
    response (or ``metadata``) anywhere else it raises ``KnownSecretFound``: only an upstream's echo
    puts it there. (In the request body it is the client's own text: scrubbed, and what a rule
    missed is caught by the scan of the whole text that ``safe_dumps`` makes last.)
    """
    secrets, allow = [s for s in secrets if s], list(allow)
    data = cassette.model_dump(mode="python")
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        request["uri"] = redact_url(request["uri"], secrets, allow)
        request["headers"] = redact_headers(request["headers"], secrets, allow)
        if request["body"] is not None:  # what the client sent: scrubbed, and the final scan still applies
            request["body"], _, _ = scrub_body(request["body"], None, None, allow)
        response["headers"] = redact_headers(response["headers"], secrets, allow)
        tape, body = response["quirktape"], response["body"]
        scrubbed = scrub_body(body["string"], tape["offsets"], tape["t_ms"], allow, secrets)
        body["string"], tape["offsets"], tape["t_ms"] = scrubbed
        for key in [k for k in body if k != "string"]:
            body[key] = scrub_data(body[key], allow, secrets)
        for key in [k for k in response if k not in ("headers", "body", "quirktape")]:
            response[key] = scrub_data(response[key], allow, secrets)
    data["metadata"] = scrub_data(data["metadata"], allow, secrets)
    result = type(cassette).model_validate(data)
    return result if result != cassette else cassette


def secret_forms(secret: str) -> list[str]:
    """The credential as it may appear in a file: plain and base64 (standard and URL-safe, with and without padding)."""
    raw = secret.encode()
    forms = {secret}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(raw).decode()
        forms.update({text, text.rstrip("=")})
    return sorted(f for f in forms if len(f) >= 4)


def find_secrets(text: str, secrets: list[str]) -> list[str]:
    """Which credentials (by position in ``secrets``) appear in ``text`` in any known form."""
    return [
        f"credential #{n + 1}" for n, s in enumerate(secrets) if s and any(form in text for form in secret_forms(s))
    ]
