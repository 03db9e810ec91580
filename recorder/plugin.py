"""The quirktape pytest plugin: cassettes as tests, fixtures for hand-written tests, no network.

Registered through the ``pytest11`` entry point, so installing quirktape is enough.

Collection: a ``*.yaml``/``*.yml`` cassette (top-level ``interactions``) that holds an LLM exchange
becomes one test, ``<path>::oracle``, that runs the oracle over it, wherever it is looked for:
under a configured directory (``--quirktape-dir DIR``, repeatable, or the ``quirktape_dirs`` ini
option), under a directory named on the command line (``pytest cassettes/``) or named itself
(``pytest my.yaml``). An interaction is an LLM exchange when its response body, else its request
path, speaks a dialect quirktape translates (``recorder.tape.sniff``); only those interactions are
judged, each in that dialect unless its ``response.quirktape`` names one. A cassette with none
(a plain vcrpy cassette of a JSON API, an Anthropic call) and other YAML are left alone. A file
that looks like a cassette but cannot be read or is not a valid cassette is a failing test that
names the file and the error: a broken cassette never vanishes. Configured directories are added
to what a bare ``pytest`` collects; with ini-only configuration, explicit paths on the command
line win.

Options: ``--quirktape-update`` writes ``metadata.expect`` of the cassettes whose ``expect`` fails
or is missing from quirktape's own translation and prints what changed, but only where every other
invariant passes (an expectation must not bless a broken translation), and never together with
``--quirktape-translator`` (a usage error: it would bless the translator under test);
``--quirktape-strict`` (or ini ``quirktape_strict``) fails a cassette without ``expect``, which is
otherwise listed in the summary; ``--quirktape-rechunk=N`` adds N random rechunkings (seeds 1000,
1001, ...) per cassette; ``--quirktape-translator module:callable`` (or ini
``quirktape_translator``) checks another translator.

Network: while a cassette is checked, and in tests using the quirktape fixtures, connecting
anywhere but loopback (127.0.0.0/8, ::1, localhost) raises ``NetworkBlocked`` and fails the test.
"""

from __future__ import annotations

import difflib
import inspect
import ipaddress
import os
import re
import socket
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from translator import DIALECTS, accumulate, stream_error, translate_stream

from .judge import Check, Unreadable, check_cassette, expect_from, expect_problems, first_event_difference
from .library import LibraryMissing, library_root
from .patch import RECORD_MODES, Patch, record_mode
from .replay import Replay, ReplayTransport, TranslateFn, load_translator, replay
from .tape import (
    FOREIGN,
    Cassette,
    CassetteError,
    Expect,
    body_dialect,
    load,
    parse_cassette,
    save_expect,
    url_dialect,
    yamlio,
)

__all__ = ["NetworkBlocked", "NetworkGuard", "Replayed"]

UNUSED = ("ignore", "warn", "fail")

RANDOM_SEED_BASE = 1000
_SUFFIXES = (".yaml", ".yml")
_TOP_LEVEL_INTERACTIONS = re.compile(r'^\{?"?interactions"?\s*:', re.MULTILINE)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Network blocking.


class NetworkBlocked(RuntimeError):
    """A connection to a real host was attempted while replaying."""


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _where(host: Any, port: Any) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class NetworkGuard:
    """Block every connection except to loopback while active (re-entrant, restores on exit).

    ``attempts`` lists each blocked ``HOST:PORT``; a test that expects a blocked attempt can
    clear it so that the attempt does not fail the test.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def message(self) -> str:
        where = ", ".join(dict.fromkeys(self.attempts))
        return f"quirktape: network blocked during replay: tried to reach {where}"

    def _blocked(self, host: Any, port: Any) -> NetworkBlocked:
        self.attempts.append(_where(host, port))
        return NetworkBlocked(f"quirktape: network blocked during replay: tried to reach {_where(host, port)}")

    def _check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and len(address) >= 2:
            if not _is_loopback(address[0]):
                raise self._blocked(address[0], address[1])

    def __enter__(self) -> NetworkGuard:
        guard = self
        connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

        def guarded_connect(sock, address):
            guard._check_address(sock, address)
            return connect(sock, address)

        def guarded_connect_ex(sock, address):
            guard._check_address(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host, port, *args, **kwargs):
            if host not in (None, "", b"") and not _is_loopback(host):
                raise guard._blocked(host, port)
            return getaddrinfo(host, port, *args, **kwargs)

        self._saved = [
            (socket.socket, "connect", connect),
            (socket.socket, "connect_ex", connect_ex),
            (socket, "getaddrinfo", getaddrinfo),
        ]
        socket.socket.connect = guarded_connect
        socket.socket.connect_ex = guarded_connect_ex
        socket.getaddrinfo = guarded_getaddrinfo
        return self

    def __exit__(self, *exc_info: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved = []


# Configuration.


@dataclass
class _State:
    dirs: list[Path] = field(default_factory=list)
    arg_files: set[Path] = field(default_factory=set)
    arg_dirs: list[Path] = field(default_factory=list)
    translate: TranslateFn = translate_stream
    translator: str = "translator.translate_stream"
    rechunk: int = 0
    update: bool = False
    strict: bool = False
    library: Path | None = None

    def covers(self, path: Path) -> bool:
        """Whether ``path`` is where cassettes are looked for: named, or under a configured or named directory."""
        return path in self.arg_files or any(path.is_relative_to(d) for d in self.dirs + self.arg_dirs)


_STATE = pytest.StashKey[_State]()
_GUARD = pytest.StashKey[NetworkGuard]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("quirktape", "quirktape cassettes")
    group.addoption(
        "--quirktape-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="collect the quirktape cassettes under DIR as tests (repeatable)",
    )
    group.addoption(
        "--quirktape-library",
        action="store_true",
        default=False,
        help="collect the cassette library shipped with quirktape as tests (with --quirktape-translator: "
        "judge your translator on every bundled quirk)",
    )
    group.addoption(
        "--quirktape-update",
        action="store_true",
        default=False,
        help="write metadata.expect of the cassettes whose expect fails or is missing, from quirktape's own "
        "translator, where every other invariant passes, and show the change (a usage error with "
        "--quirktape-translator: expectations are never blessed from the translator under test)",
    )
    group.addoption(
        "--quirktape-strict",
        action="store_true",
        default=None,
        help="fail a cassette that has no expect block (otherwise listed in the summary)",
    )
    group.addoption(
        "--quirktape-rechunk",
        type=int,
        default=0,
        metavar="N",
        help="also replay each cassette with N random rechunkings (seeds 1000, 1001, ...)",
    )
    group.addoption(
        "--quirktape-translator",
        default=None,
        metavar="MODULE:CALLABLE",
        help="check this translator instead of quirktape's (same signature as translator.translate_stream)",
    )
    group.addoption(
        "--quirktape-record",
        default=None,
        choices=(*RECORD_MODES, "new_episodes"),
        help="record mode of @pytest.mark.quirktape and quirktape_patch: none (default: replay only, no "
        "network), once (record a cassette that does not exist), new (record requests nothing matches), "
        "all (record everything again)",
    )
    group.addoption(
        "--quirktape-unused",
        default=None,
        choices=UNUSED,
        help="what a recorded interaction no request used does to a test using @pytest.mark.quirktape: "
        "ignore (default), warn, fail",
    )
    parser.addini("quirktape_dirs", "directories whose quirktape cassettes are collected as tests", type="paths")
    parser.addini("quirktape_translator", "the translator to check, as module:callable", default="")
    parser.addini("quirktape_strict", "fail a cassette that has no expect block", type="bool", default=False)
    parser.addini("quirktape_record", "record mode for @pytest.mark.quirktape (none, once, new, all)", default="none")
    parser.addini("quirktape_unused", "unused recorded interactions: ignore, warn or fail", default="ignore")


def _explicit_args(config: pytest.Config) -> tuple[set[Path], list[Path]]:
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return set(), []
    files, dirs = set(), []
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
        if path.is_dir():
            dirs.append(path)
        elif path.suffix in _SUFFIXES:
            files.add(path)
    return files, dirs


def _load_translator(spec: str, config: pytest.Config) -> TranslateFn:
    try:
        return load_translator(spec)
    except CassetteError as first:
        where = str(config.invocation_params.dir)
        if where in sys.path:
            raise pytest.UsageError(f"quirktape: {first}") from None
        sys.path.insert(0, where)  # like `python -m pytest`: a module next to where pytest runs
        try:
            return load_translator(spec)
        except CassetteError:
            sys.path.remove(where)
            raise pytest.UsageError(f"quirktape: {first}") from None


def _refuse_foreign_update(state: _State) -> None:
    """An expectation written from the translator under test would make it pass whatever it does.

    Refused before anything runs, as snapshot tools refuse flags that cannot go together: a
    half-run that fails item by item would leave the same decision to the user, later.
    """
    if state.update and state.translate is not translate_stream:
        raise pytest.UsageError(
            f"quirktape: --quirktape-update writes expectations only from quirktape's own translator, not from "
            f"the translator under test ({state.translator}); update without --quirktape-translator "
            "(-o quirktape_translator= overrides the ini option), then check it"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "quirktape(path=None, **options): answer every httpx/httpx2 client in the test from this cassette "
        "(default: cassettes/<module>/<test>.yaml beside the test); options: record, unused, side, match, "
        "rechunk, pace, passthrough, translate",
    )
    state = _State(update=config.getoption("quirktape_update"), rechunk=config.getoption("quirktape_rechunk"))
    try:
        record_mode(config.getini("quirktape_record"))
    except CassetteError as exc:
        raise pytest.UsageError(f"quirktape: ini quirktape_record: {exc}") from None
    if config.getini("quirktape_unused") not in UNUSED:
        raise pytest.UsageError(f"quirktape: ini quirktape_unused must be one of {', '.join(UNUSED)}")
    if state.rechunk < 0:
        raise pytest.UsageError("quirktape: --quirktape-rechunk needs a number of rechunkings >= 0")
    strict = config.getoption("quirktape_strict")
    state.strict = config.getini("quirktape_strict") if strict is None else strict
    spec = config.getoption("quirktape_translator") or config.getini("quirktape_translator")
    if spec:
        state.translate, state.translator = _load_translator(spec, config), spec
    _refuse_foreign_update(state)
    state.arg_files, state.arg_dirs = _explicit_args(config)
    cli_dirs = [config.invocation_params.dir / d for d in config.getoption("quirktape_dir")]
    if config.getoption("quirktape_library"):
        if state.update:
            raise pytest.UsageError("quirktape: --quirktape-update does not write into the shipped library")
        try:
            state.library = library_root().resolve()
            cli_dirs.append(state.library)
        except LibraryMissing as exc:
            raise pytest.UsageError(f"quirktape: {exc}") from None
    ini_dirs = list(config.getini("quirktape_dirs"))
    for directory in cli_dirs + ini_dirs:
        if not directory.is_dir():
            why = "is not a directory" if directory.exists() else "does not exist"
            raise pytest.UsageError(f"quirktape: cassette directory {directory} {why}")
    state.dirs = [d.resolve() for d in cli_dirs + ini_dirs]
    # Make sure the configured directories are collected: CLI ones always, ini ones unless the
    # command line named what to run.
    wanted = state.dirs if config.args_source != pytest.Config.ArgsSource.ARGS else state.dirs[: len(cli_dirs)]
    if wanted:
        covered = [(config.invocation_params.dir / a.split("::", 1)[0]).resolve() for a in config.args]
        for directory in wanted:
            if not any(directory.is_relative_to(c) for c in covered):
                config.args.append(str(directory))
                covered.append(directory)
    config.stash[_STATE] = state


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None or not (
        state.dirs or state.update or state.strict or state.rechunk or state.translate is not translate_stream
    ):
        return None
    parts = [f"translator {state.translator}"]
    if state.dirs:
        parts.append("dirs " + ", ".join(_relative(d, config.rootpath) for d in state.dirs))
    if state.rechunk:
        parts.append(f"+{state.rechunk} random rechunkings")
    if state.update:
        parts.append("updating failing and missing expectations")
    if state.strict:
        parts.append("strict: a cassette without expect fails")
    return "quirktape: " + "; ".join(parts)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.path.relpath(path, root)


# Collection.


def _uri(interaction: Any) -> str | None:
    """The request URI of one raw interaction, or None when it has none to read."""
    request = interaction.get("request") if isinstance(interaction, dict) else None
    uri = request.get("uri") if isinstance(request, dict) else None
    return uri if isinstance(uri, str) else None


def _body_text(interaction: Any) -> str:
    response = interaction.get("response") if isinstance(interaction, dict) else None
    body = response.get("body") if isinstance(response, dict) else None
    string = body.get("string") if isinstance(body, dict) else None
    if isinstance(string, bytes):
        return string.decode("utf-8", "replace")
    return string if isinstance(string, str) else ""


def _llm_dialect(interaction: Any) -> str | None:
    """The dialect quirktape reads that one raw interaction speaks; None: not an LLM exchange to
    judge (``sniff.FOREIGN`` formats are no translator input).

    The body speaks louder than the URL, as in ``quirktape import``: an Anthropic answer is read as
    Anthropic whatever the path; an error or empty body leaves it to the request path.
    """
    try:
        path = urlsplit(_uri(interaction) or "").path
    except ValueError:
        path = ""
    dialect = body_dialect(_body_text(interaction)) or url_dialect(path)
    return dialect if dialect in DIALECTS and dialect not in FOREIGN else None


def _declare_dialect(interaction: Any, dialect: str) -> None:
    """A response that names no dialect is judged in the one it was recognised by: read in the
    default one instead, a Gemini body translates into an empty message that passes every invariant."""
    response = interaction.get("response") if isinstance(interaction, dict) else None
    tape = response.setdefault("quirktape", {}) if isinstance(response, dict) else None
    if isinstance(tape, dict):
        tape.setdefault("dialect", dialect)


@dataclass
class _Subject:
    """One cassette file for the oracle: all of it (what ``--quirktape-update`` writes back) and
    the positions of the interactions judged (its LLM exchanges)."""

    cassette: Cassette
    judged: list[int]

    def judged_cassette(self) -> Cassette:
        if len(self.judged) == len(self.cassette.interactions):
            return self.cassette
        interactions = [self.cassette.interactions[n] for n in self.judged]
        return self.cassette.model_copy(update={"interactions": interactions})

    def left_out(self) -> list[int]:
        return [n for n in range(len(self.cassette.interactions)) if n not in self.judged]


def _subject(data: dict, rel: str) -> _Subject | CassetteError | None:
    """The cassette in ``data`` with its LLM exchanges marked; None when it holds none.

    An interaction without a request URI cannot be told apart, so it counts as judged: the
    cassette then fails validation, loudly, instead of vanishing.
    """
    interactions = data["interactions"]
    dialects = [_llm_dialect(i) for i in interactions]
    judged = [n for n, (i, d) in enumerate(zip(interactions, dialects)) if d or _uri(i) is None]
    if not judged:
        return None
    for interaction, dialect in zip(interactions, dialects):
        if dialect:
            _declare_dialect(interaction, dialect)
    try:
        return _Subject(parse_cassette(data, rel), judged)
    except CassetteError as exc:
        return exc


def _yaml_error(exc: Exception, rel: str) -> CassetteError:
    """What YAML could not read, in one line: the file, the line, the problem."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark else ""
    problem = " ".join((getattr(exc, "problem", None) or str(exc) or type(exc).__name__).split())
    return CassetteError(f"{rel}: not valid YAML{where}: {problem}")


def _read(path: Path, rel: str) -> _Subject | CassetteError | None:
    """What a YAML file gives the oracle: a cassette to judge; the error that makes a file that
    looks like a cassette unusable (a failing test, never a vanished one); or None when it is not
    ours (no cassette, or no LLM exchange in it)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        looks = _TOP_LEVEL_INTERACTIONS.search(raw.decode("utf-8", "replace"))
        return CassetteError(f"{rel}: not UTF-8 text (byte {exc.start})") if looks else None
    if "interactions" not in text:  # cheap: most YAML is not a cassette
        return None
    try:
        data = yamlio.read(text, loader=_Loader)
    except (yamlio.YamlRefused, MemoryError) as exc:  # an alias, a list past the limit: one line, no expansion
        problem = str(exc) or "too large to read into memory"
        return CassetteError(f"{rel}: {problem}") if _TOP_LEVEL_INTERACTIONS.search(text) else None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return _yaml_error(exc, rel) if _TOP_LEVEL_INTERACTIONS.search(text) else None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return None
    return _subject(data, rel)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in _SUFFIXES:
        return None
    state = parent.config.stash.get(_STATE, None)
    if state is None or not state.covers(file_path.resolve()):
        return None
    subject = _read(file_path, _relative(file_path, parent.config.rootpath))
    if subject is None:
        return None
    return CassetteFile.from_parent(parent, path=file_path, subject=subject)


class CassetteFile(pytest.File):
    """A cassette file: one test, ``oracle``."""

    def __init__(self, *, subject: _Subject | CassetteError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject

    def collect(self):
        yield CassetteItem.from_parent(self, name="oracle", subject=self.subject)


class CassetteFailure(Exception):
    """The oracle found problems; the message is the whole readable report."""


@dataclass
class _Crash:
    path: str
    lineno: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class FailureRepr:
    """A cassette failure for pytest's report: the headline, then each failed invariant."""

    def __init__(self, rel: str, text: str, style: str = "auto") -> None:
        self.lines = text.splitlines() or [""]
        self.reprcrash = _Crash(rel, None, self.lines[0])
        self.style = style

    def toterminal(self, tw: Any) -> None:
        if self.style == "line":  # pytest writes the reprcrash line itself
            return
        for n, line in enumerate(self.lines):
            if n == 0:
                tw.line(line, red=True, bold=True)
            elif line.startswith("["):
                tw.line(line, bold=True)
            else:
                tw.line(line)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class CassetteItem(pytest.Item):
    """Runs the oracle (and any extra rechunkings) over the LLM exchanges of one cassette."""

    def __init__(self, *, subject: _Subject | CassetteError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.rel = _relative(self.path, self.config.rootpath)

    def runtest(self) -> None:
        subject = self.subject
        if isinstance(subject, CassetteError):
            raise CassetteFailure(f"quirktape: {subject}")
        state = self.config.stash[_STATE]
        cassette = subject.judged_cassette()
        with NetworkGuard() as guard:
            try:
                checks = check_cassette(cassette, state.translate)
                _extra_rechunks(cassette, checks, state)
                notes = self._update(subject, cassette, checks) if state.update else []
            except CassetteError as exc:
                raise CassetteFailure(f"quirktape: {exc}") from None
        if guard.attempts:
            raise CassetteFailure(guard.message() + f" (translator {state.translator})")
        self._missing_expect(subject, checks, state)
        failed = [c for c in checks if c.ok is False]
        if failed:
            raise CassetteFailure(self._report(subject, failed, state, notes))

    def _update(self, subject: _Subject, cassette: Cassette, checks: list[Check]) -> list[str]:
        """Write ``expect`` where it fails or is missing, from quirktape's own translation, unless
        another invariant fails: an expectation written then would bless what that invariant caught."""
        check = _check(checks, "expect")
        if check.ok is True:
            return []
        blocking = [c.invariant for c in checks if c.ok is False and c.invariant != "expect"]
        if blocking:
            return [
                f"--quirktape-update: expect not written: blocked by {', '.join(blocking)} (an expectation "
                "is written only from a translation that passes every other invariant)"
            ]
        runs = [replay(cassette, i, translate=translate_stream) for i in range(len(cassette.interactions))]
        old = cassette.metadata.expect
        try:
            new = _expect_for(old or Expect(), runs)
        except Unreadable as exc:
            return [f"--quirktape-update: expect not written: {exc}"]
        updated = subject.cassette.model_copy(deep=True)
        updated.metadata.expect = new
        try:
            save_expect(self.path, updated)
        except (OSError, CassetteError) as exc:
            return [f"--quirktape-update: expect not written: {exc}"]
        subject.cassette = updated
        self.user_properties.append(("quirktape_update", _expect_diff(self.rel, old, new)))
        check.details = _expect_problems(new, runs)
        check.ok = not check.details
        return [f"--quirktape-update: expect {'rewritten' if old else 'written'} in {self.rel}"]

    def _missing_expect(self, subject: _Subject, checks: list[Check], state: _State) -> None:
        """Without ``expect`` the translation is held only to the wire, never to what it should be:
        such a cassette is listed in the summary, and fails under ``--quirktape-strict``."""
        if subject.cassette.metadata.expect is not None:
            return
        self.user_properties.append(("quirktape_no_expect", self.rel))
        if state.strict:
            check = _check(checks, "expect")
            check.ok = False
            check.details.append("no expect block (--quirktape-strict)")

    def _report(self, subject: _Subject, failed: list[Check], state: _State, notes: list[str]) -> str:
        names = ", ".join(c.invariant for c in failed)
        lines = [f"quirktape: {len(failed)} invariant{_plural(failed)} failed ({names})"]
        lines.append(f"cassette:   {self.rel}")
        if subject.cassette.metadata.title:
            lines.append(f"title:      {subject.cassette.metadata.title}")
        lines.append(f"translator: {state.translator}")
        left_out = subject.left_out()
        if left_out:
            lines.append(
                f"not judged: interaction{_plural(left_out)} {', '.join(map(str, left_out))} (no LLM "
                "exchange); the interactions below are numbered among the judged ones"
            )
        lines += notes
        for check in failed:
            lines.append(f"[{check.invariant}]")
            lines += [f"  {detail}" for detail in check.details]
        own = state.translate is translate_stream and not (state.library and self.path.is_relative_to(state.library))
        if any(c.invariant == "expect" for c in failed) and not state.update and own:
            lines.append("(if the translation is right: pytest --quirktape-update writes expect)")
        return "\n".join(lines)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        tbstyle = self.config.getoption("tbstyle", "auto")
        if isinstance(excinfo.value, CassetteFailure):
            return FailureRepr(self.rel, str(excinfo.value), tbstyle)
        if isinstance(excinfo.value, NetworkBlocked):
            translator = self.config.stash[_STATE].translator
            return FailureRepr(self.rel, f"{excinfo.value} (translator {translator})", tbstyle)
        return super().repr_failure(excinfo, style="short")

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.rel


def _plural(items: list) -> str:
    return "s" if len(items) > 1 else ""


def _check(checks: list[Check], invariant: str) -> Check:
    return next(c for c in checks if c.invariant == invariant)


def _extra_rechunks(cassette: Cassette, checks: list[Check], state: _State) -> None:
    if not state.rechunk:
        return
    check = _check(checks, "rechunk")
    multi = len(cassette.interactions) > 1
    for index, interaction in enumerate(cassette.interactions):
        if not interaction.response.is_stream:
            continue
        base = replay(cassette, index, translate=state.translate).events
        for seed in range(RANDOM_SEED_BASE, RANDOM_SEED_BASE + state.rechunk):
            other = replay(cassette, index, f"random:{seed}", translate=state.translate).events
            if other != base:
                check.ok = False
                prefix = f"interaction {index}: " if multi else ""
                check.details.append(
                    f"{prefix}--rechunk random:{seed} gives different events ({first_event_difference(base, other)})"
                )


def _expect_for(old: Expect, runs: list[Replay]) -> Expect:
    """The expectation every run meets, keeping the keys ``old`` chose to check (``Unreadable`` if none can be)."""
    new = _refresh(old, expect_from(runs[0].events), runs[0].events)
    for run in runs[1:]:  # usage a twin does not share cannot be expected of every interaction
        other = expect_from(run.events).usage or {}
        new.usage = {k: v for k, v in (new.usage or {}).items() if other.get(k, v) == v} or None
    return new


def _expect_problems(expect: Expect, runs: list[Replay]) -> list[str]:
    problems = []
    for run in runs:
        prefix = f"interaction {run.index}: " if len(runs) > 1 else ""
        problems += [prefix + p for p in expect_problems(expect, run.events)]
    return problems


def _refresh(old: Expect, new: Expect, events: list[dict]) -> Expect:
    """``new``, also keeping (with current values) the keys the old expectation chose to check."""
    message = accumulate(events) or {}
    current = message.get("content") or []
    content = []
    for n, block in enumerate(new.content or []):
        before = old.content[n] if old.content and n < len(old.content) else {}
        if before.get("type") != block.get("type"):
            content.append(block)
            continue
        merged = {k: (block[k] if k in block else current[n].get(k)) for k in before if k in block or k in current[n]}
        merged.update((k, v) for k, v in block.items() if k not in merged)
        content.append(merged)
    usage = {}
    now = message.get("usage") or {}
    for key in old.usage or {}:
        if key in (new.usage or {}) or isinstance(now.get(key), int):
            usage[key] = (new.usage or {}).get(key, now.get(key))
    usage.update((k, v) for k, v in (new.usage or {}).items() if k not in usage)
    return new.model_copy(update={"content": content, "usage": usage or None})


def _dump_expect(expect: Expect) -> list[str]:
    data = {"expect": expect.model_dump(mode="python", exclude_none=True)}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100000)
    return text.splitlines()


def _expect_diff(rel: str, old: Expect | None, new: Expect) -> str:
    before = _dump_expect(old) if old else []
    lines = difflib.unified_diff(
        before, _dump_expect(new), fromfile=f"{rel} (old)", tofile=f"{rel} (new)", n=1, lineterm=""
    )
    return "\n".join(lines)


def _recorded(terminalreporter: Any, name: str) -> list[str]:
    """What the cassette items recorded under ``name`` (their ``user_properties``), in report order."""
    values = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) == "call":
                values += [value for key, value in getattr(report, "user_properties", ()) if key == name]
    return values


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    _summarise_updates(terminalreporter, _recorded(terminalreporter, "quirktape_update"))
    _summarise_missing(terminalreporter, sorted(_recorded(terminalreporter, "quirktape_no_expect")))


def _summarise_updates(terminalreporter: Any, diffs: list[str]) -> None:
    if not diffs:
        return
    terminalreporter.section("quirktape: expectations written (--quirktape-update)")
    for diff in diffs:
        for line in diff.splitlines():
            plus, minus = line.startswith("+") and not line.startswith("+++"), line.startswith("-")
            minus = minus and not line.startswith("---")
            terminalreporter.write_line(line, green=plus, red=minus)
    terminalreporter.write_line(f"{len(diffs)} cassette{_plural(diffs)} written")


def _summarise_missing(terminalreporter: Any, rels: list[str]) -> None:
    """A green without ``expect`` says only that the translation matches the wire: say which ones."""
    if not rels:
        return
    terminalreporter.section("quirktape: cassettes without expect")
    for rel in rels:
        terminalreporter.write_line(rel)
    terminalreporter.write_line(
        f"{len(rels)} cassette{_plural(rels)} without an expect block: pytest --quirktape-update writes "
        "expect from quirktape's translation; --quirktape-strict fails such cassettes"
    )


# Fixtures for hand-written tests.


@dataclass
class Replayed:
    """One interaction of a cassette through a translator: ``events``, and from them ``message``
    (the accumulated Anthropic message, partial when the stream ended in error) and ``error``
    (the Anthropic ``error`` object the stream ended with, or None)."""

    cassette: Cassette
    index: int
    rechunk: str
    events: list[dict]
    ir: list[tuple] | None

    @cached_property
    def message(self) -> dict | None:
        return accumulate(self.events)

    @cached_property
    def error(self) -> dict | None:
        return stream_error(self.events)


def _resolver(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    """Relative paths are looked up next to the test file, then under the rootdir, then the
    configured cassette directories, then the current directory."""
    state = request.config.stash.get(_STATE, None)
    bases = [request.path.parent, request.config.rootpath, *(state.dirs if state else [])]

    def resolve(cassette_or_path: Any) -> Any:
        if isinstance(cassette_or_path, (str, os.PathLike)):
            path = Path(cassette_or_path)
            if not path.is_absolute():
                for base in bases:
                    if (base / path).is_file():
                        return base / path
            return path
        return cassette_or_path

    return resolve


@pytest.fixture
def quirktape_no_network(request: pytest.FixtureRequest):
    """Block the network (loopback stays open) for this test; the quirktape fixtures use it.

    A blocked attempt raises ``NetworkBlocked`` and fails the test even if the code under test
    swallowed the exception; clear ``quirktape_no_network.attempts`` when a test expects one.
    """
    with NetworkGuard() as guard:
        request.node.stash[_GUARD] = guard
        yield guard


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    try:
        result = yield
    except Exception as exc:
        guard = item.stash.get(_GUARD, None)
        if guard is not None and guard.attempts and not isinstance(exc, NetworkBlocked):
            raise NetworkBlocked(guard.message()) from exc
        raise
    guard = item.stash.get(_GUARD, None)
    if guard is not None and guard.attempts:
        pytest.fail(guard.message(), pytrace=False)
    return result


@pytest.fixture
def quirktape_cassette(request: pytest.FixtureRequest, quirktape_no_network: NetworkGuard):
    """Factory: ``quirktape_cassette(path) -> Cassette``.

    A relative path is looked up next to the test file, then under the rootdir, then under the
    configured cassette directories (``--quirktape-dir``, ``quirktape_dirs``).
    """
    resolve = _resolver(request)

    def load_cassette(path: str | os.PathLike) -> Cassette:
        __tracebackhide__ = True
        return load(resolve(path))

    return load_cassette


@pytest.fixture
def quirktape_replay(request: pytest.FixtureRequest, quirktape_no_network: NetworkGuard):
    """Factory: ``quirktape_replay(cassette_or_path, rechunk="recorded", interaction=0, translate=None)``
    -> ``Replayed`` with ``.events``, ``.message`` (accumulated) and ``.error``.

    ``rechunk``: ``recorded``, ``bytes``, ``lines`` or ``random:SEED``. ``translate`` defaults to
    the translator under test (``--quirktape-translator``, else quirktape's own).
    """
    resolve = _resolver(request)
    state = request.config.stash.get(_STATE, None)
    default = state.translate if state else translate_stream

    def run(
        cassette_or_path: Cassette | str | os.PathLike,
        rechunk: str = "recorded",
        interaction: int = 0,
        translate: TranslateFn | None = None,
    ) -> Replayed:
        __tracebackhide__ = True
        target = resolve(cassette_or_path)
        cassette = target if isinstance(target, Cassette) else load(target)
        result = replay(cassette, interaction, rechunk, translate=translate or default)
        return Replayed(cassette, result.index, rechunk, result.events, result.ir)

    return run


@pytest.fixture
def quirktape_transport(request: pytest.FixtureRequest, quirktape_no_network: NetworkGuard):
    """Factory: ``quirktape_transport(cassette_or_path, **kwargs) -> ReplayTransport``, for httpx /
    httpx2 clients and the SDKs built on them (kwargs: ``match``, ``rechunk``, ``pace``, ...)."""
    resolve = _resolver(request)

    def make(cassette_or_path: Cassette | str | os.PathLike | dict, **kwargs: Any) -> ReplayTransport:
        __tracebackhide__ = True
        return ReplayTransport(resolve(cassette_or_path), **kwargs)

    return make


# Replaying to every client in a test: the marker and its fixture form.


class QuirktapeUnused(UserWarning):
    """A recorded interaction that no request of the test used."""


def _cassette_for(request: pytest.FixtureRequest, path: str | os.PathLike | None) -> Path:
    """Where a test's cassette is: the path given (looked up like the other fixtures; a new one goes
    beside the test file), else ``cassettes/<module>/<test>.yaml`` beside the test file."""
    if path is None:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        return request.path.parent / "cassettes" / request.path.stem / f"{name}.yaml"
    found = _resolver(request)(path)
    return found if found.is_absolute() or found.is_file() else request.path.parent / found


PATCH_OPTIONS = frozenset(
    {*inspect.signature(ReplayTransport).parameters, "record", "passthrough", "request", "unused"}
) - {"cassette_or_path"}
"""What ``@pytest.mark.quirktape`` and ``quirktape_patch`` take besides the path."""


class PatchFactory:
    """``quirktape_patch(path=None, **options) -> Patch``: from this call to the end of the test, every
    httpx and httpx2 client (the SDKs' included) is answered from the cassette. Options as the marker's."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self.patches: list[Patch] = []
        self._unused: list[str] = []

    def __call__(self, path: str | os.PathLike | None = None, **options: Any) -> Patch:
        __tracebackhide__ = True
        unknown = sorted(set(options) - PATCH_OPTIONS)
        if unknown:
            pytest.fail(
                f"quirktape: unknown option{_plural(unknown)} {', '.join(unknown)} "
                f"(known: {', '.join(sorted(PATCH_OPTIONS))})",
                pytrace=False,
            )
        config = self._request.config
        unused = options.pop("unused", None)
        marked = options.pop("record", None)
        mode = config.getoption("quirktape_record") or marked or config.getini("quirktape_record")  # CLI wins
        state = config.stash.get(_STATE, None)
        options.setdefault("translate", state.translate if state else None)
        try:
            patch = Patch(
                _cassette_for(self._request, path), record=record_mode(mode), title=self._request.node.nodeid, **options
            )
        except (CassetteError, ValueError, TypeError) as exc:
            pytest.fail(f"quirktape: {exc}", pytrace=False)
        policy = unused or config.getoption("quirktape_unused") or config.getini("quirktape_unused")
        if policy not in UNUSED:
            pytest.fail(f"quirktape: unused={policy!r} (known: {', '.join(UNUSED)})", pytrace=False)
        if not patch.live:  # replaying only: nothing may reach the network
            self._request.getfixturevalue("quirktape_no_network")
        if self.patches:
            self.patches[-1].__exit__(None, None, None)
        self.patches.append(patch.__enter__())
        self._unused.append(policy)
        return patch

    def finish(self) -> None:
        """Restore the clients, write what was recorded, and say what was left unused."""
        __tracebackhide__ = True
        if self.patches:
            self.patches[-1].__exit__(None, None, None)
        problems = []
        for patch, policy in zip(self.patches, self._unused):
            try:
                patch.save()
            except CassetteError as exc:
                problems.append(str(exc))
            problems += patch.problems
            if patch.unused and policy != "ignore":
                message = (
                    f"quirktape: {patch.path.name}: recorded interaction{'s' if len(patch.unused) > 1 else ''} "
                    f"{', '.join(map(str, patch.unused))} never used by the test"
                )
                if policy == "fail":
                    problems.append(message)
                else:
                    warnings.warn(message, QuirktapeUnused, stacklevel=1)
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def quirktape_patch(request: pytest.FixtureRequest):
    """Factory: ``quirktape_patch(path=None, **options) -> Patch`` (see ``PatchFactory``)."""
    factory = PatchFactory(request)
    yield factory
    factory.finish()


@pytest.fixture
def quirktape(request: pytest.FixtureRequest, _quirktape_marker: None) -> Patch | None:
    """The ``Patch`` that ``@pytest.mark.quirktape`` installed (``.transport.calls``, ``.unused``,
    ``.recorded``), or None in a test without the marker."""
    factory = request.node.stash.get(_PATCHES, None)
    return factory.patches[0] if factory and factory.patches else None


_PATCHES = pytest.StashKey[PatchFactory]()


@pytest.fixture(autouse=True)
def _quirktape_marker(request: pytest.FixtureRequest):
    marker = request.node.get_closest_marker("quirktape")
    if marker is None:
        yield
        return
    factory = request.getfixturevalue("quirktape_patch")
    request.node.stash[_PATCHES] = factory
    factory(*marker.args, **marker.kwargs)
    yield
