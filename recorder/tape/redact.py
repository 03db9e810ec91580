"""Credentials never reach disk.

Redaction removes every place a credential is known to travel (auth headers, API-key
headers, cookies, ``?key=`` and friends, and any header or query value equal to the
credential). The scan is the second line: before a cassette is written, its whole
text is searched for the credential and its base64 forms, and the write is refused
if any is found anywhere.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie"}
)
SECRET_QUERY = frozenset({"key", "api_key", "apikey", "access_token", "token"})


def _is_secret(value: str, secrets: list[str]) -> bool:
    return any(s and s in value for s in secrets)


def redact_headers(headers: dict[str, list[str]], secrets: list[str]) -> dict[str, list[str]]:
    return {
        name: [REDACTED if name.lower() in SECRET_HEADERS or _is_secret(v, secrets) else v for v in values]
        for name, values in headers.items()
    }


def redact_url(url: str, secrets: list[str]) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, REDACTED if k.lower() in SECRET_QUERY or _is_secret(v, secrets) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=":")))


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
