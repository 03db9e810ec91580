"""The quirktape pytest plugin: cassettes as tests, fixtures for hand-written tests, no network.

Registered through the ``pytest11`` entry point, so installing quirktape is enough.

Collection: every quirktape cassette (a ``*.yaml``/``*.yml`` file with top-level ``version``
and ``interactions``) under a configured directory (``--quirktape-dir DIR``, repeatable, or the
``quirktape_dirs`` ini option) becomes one test, ``<path>::oracle``, that runs the oracle over it;
so does a cassette named on the command line (``pytest cassettes/``, ``pytest my.yaml``). Under a
directory named on the command line only files that are recognisably quirktape's (with
``metadata`` or a ``response.quirktape`` section) are collected, so plain vcrpy cassettes and
other YAML are left alone. Configured directories are added to what a bare ``pytest`` collects;
with ini-only configuration, explicit paths on the command line win.

Options: ``--quirktape-update`` rewrites ``metadata.expect`` of the cassettes whose ``expect``
check fails from the current translation and prints what changed; ``--quirktape-rechunk=N``
adds N random rechunkings (seeds 1000, 1001, ...) per cassette; ``--quirktape-translator
module:callable`` (or ini ``quirktape_translator``) checks another translator.

Network: while a cassette is checked, and in tests using the quirktape fixtures, connecting
anywhere but loopback (127.0.0.0/8, ::1, localhost) raises ``NetworkBlocked`` and fails the test.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from translator import accumulate, stream_error

from .cassette import Cassette, CassetteError, Expect, load, parse_cassette, save_expect
from .oracle import Check, Unreadable, check_cassette, expect_from, expect_problems, first_event_difference
from .replay import TranslateFn, load_translator, replay, translate_stream
from .transport import ReplayTransport

__all__ = ["NetworkBlocked", "NetworkGuard", "Replayed"]

RANDOM_SEED_BASE = 1000
_SUFFIXES = (".yaml", ".yml")
_TOP_LEVEL_INTERACTIONS = re.compile(r"^interactions\s*:", re.MULTILINE)
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

    def scope(self, path: Path) -> str | None:
        """``loose`` (any cassette), ``strict`` (only recognisably quirktape's) or None (not ours)."""
        if path in self.arg_files or any(path.is_relative_to(d) for d in self.dirs):
            return "loose"
        if any(path.is_relative_to(d) for d in self.arg_dirs):
            return "strict"
        return None


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
        "--quirktape-update",
        action="store_true",
        default=False,
        help="rewrite metadata.expect of failing cassettes from the current translation and show the change",
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
    parser.addini("quirktape_dirs", "directories whose quirktape cassettes are collected as tests", type="paths")
    parser.addini("quirktape_translator", "the translator to check, as module:callable", default="")


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


def pytest_configure(config: pytest.Config) -> None:
    state = _State(update=config.getoption("quirktape_update"), rechunk=config.getoption("quirktape_rechunk"))
    if state.rechunk < 0:
        raise pytest.UsageError("quirktape: --quirktape-rechunk needs a number of rechunkings >= 0")
    spec = config.getoption("quirktape_translator") or config.getini("quirktape_translator")
    if spec:
        state.translate, state.translator = _load_translator(spec, config), spec
    state.arg_files, state.arg_dirs = _explicit_args(config)
    cli_dirs = [config.invocation_params.dir / d for d in config.getoption("quirktape_dir")]
    ini_dirs = list(config.getini("quirktape_dirs"))
    for directory in cli_dirs + ini_dirs:
        if not directory.is_dir():
            raise pytest.UsageError(f"quirktape: cassette directory {directory} does not exist")
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
    if state is None or not (state.dirs or state.update or state.rechunk or state.translate is not translate_stream):
        return None
    parts = [f"translator {state.translator}"]
    if state.dirs:
        parts.append("dirs " + ", ".join(_relative(d, config.rootpath) for d in state.dirs))
    if state.rechunk:
        parts.append(f"+{state.rechunk} random rechunkings")
    if state.update:
        parts.append("updating failing expectations")
    return "quirktape: " + "; ".join(parts)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.path.relpath(path, root)


# Collection.


def _cassette_data(path: Path, scope: str) -> tuple[bool, dict | None]:
    """(is it a cassette, its parsed data). A YAML error in a configured directory still counts
    when the file declares top-level ``interactions``, so that a broken cassette fails loudly."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False, None
    if "interactions" not in text:
        return False, None
    try:
        data = yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return scope == "loose" and bool(_TOP_LEVEL_INTERACTIONS.search(text)), None
    if not isinstance(data, dict) or "interactions" not in data or "version" not in data:
        return False, None
    if scope == "strict":
        interactions = data["interactions"] if isinstance(data["interactions"], list) else []
        ours = "metadata" in data or any(
            isinstance(i, dict) and isinstance(i.get("response"), dict) and "quirktape" in i["response"]
            for i in interactions
        )
        if not ours:
            return False, None
    return True, data


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in _SUFFIXES:
        return None
    state = parent.config.stash.get(_STATE, None)
    if state is None:
        return None
    scope = state.scope(file_path.resolve())
    if scope is None:
        return None
    is_cassette, data = _cassette_data(file_path, scope)
    if not is_cassette:
        return None
    return CassetteFile.from_parent(parent, path=file_path, data=data)


class CassetteFile(pytest.File):
    """A cassette file: one test, ``oracle``."""

    def __init__(self, *, data: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data = data

    def collect(self):
        yield CassetteItem.from_parent(self, name="oracle", data=self.data)


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
    """Runs the oracle (and any extra rechunkings) over one cassette."""

    def __init__(self, *, data: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.rel = _relative(self.path, self.config.rootpath)

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        with NetworkGuard() as guard:
            try:
                cassette = parse_cassette(self.data, self.rel) if self.data is not None else load(self.path)
                checks = check_cassette(cassette, state.translate)
                _extra_rechunks(cassette, checks, state)
                notes = []
                if state.update and any(c.invariant == "expect" and c.ok is False for c in checks):
                    notes.append(self._update(cassette, checks, state))
            except CassetteError as exc:
                raise CassetteFailure(f"quirktape: {exc}") from None
        if guard.attempts:
            raise CassetteFailure(guard.message() + f" (translator {state.translator})")
        failed = [c for c in checks if c.ok is False]
        if failed:
            raise CassetteFailure(self._report(cassette, failed, state, notes))

    def _update(self, cassette: Cassette, checks: list[Check], state: _State) -> str:
        runs = [replay(cassette, i, translate=state.translate) for i in range(len(cassette.interactions))]
        old = cassette.metadata.expect or Expect()
        try:
            new = _refresh(old, expect_from(runs[0].events), runs[0].events)
            for run in runs[1:]:  # usage a twin does not share cannot be expected of every interaction
                other = expect_from(run.events).usage or {}
                new.usage = {k: v for k, v in (new.usage or {}).items() if other.get(k, v) == v} or None
        except Unreadable as exc:
            return f"--quirktape-update: not rewritten: {exc}"
        updated = cassette.model_copy(deep=True)
        updated.metadata.expect = new
        try:
            save_expect(self.path, updated)
        except (OSError, CassetteError) as exc:
            return f"--quirktape-update: not rewritten: {exc}"
        diff = _expect_diff(self.rel, old, new)
        self.user_properties.append(("quirktape_update", diff))
        problems = []
        for run in runs:
            prefix = f"interaction {run.index}: " if len(runs) > 1 else ""
            problems += [prefix + p for p in expect_problems(new, run.events)]
        check = next(c for c in checks if c.invariant == "expect")
        check.ok, check.details = not problems, problems
        return f"--quirktape-update: expect rewritten in {self.rel}"

    def _report(self, cassette: Cassette, failed: list[Check], state: _State, notes: list[str]) -> str:
        names = ", ".join(c.invariant for c in failed)
        lines = [f"quirktape: {len(failed)} invariant{'s' if len(failed) > 1 else ''} failed ({names})"]
        lines.append(f"cassette:   {self.rel}")
        if cassette.metadata.title:
            lines.append(f"title:      {cassette.metadata.title}")
        lines.append(f"translator: {state.translator}")
        lines += notes
        for check in failed:
            lines.append(f"[{check.invariant}]")
            lines += [f"  {detail}" for detail in check.details]
        if any(c.invariant == "expect" for c in failed) and not state.update:
            lines.append("(if the new translation is right: pytest --quirktape-update rewrites expect)")
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


def _extra_rechunks(cassette: Cassette, checks: list[Check], state: _State) -> None:
    if not state.rechunk:
        return
    check = next(c for c in checks if c.invariant == "rechunk")
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


def _expect_diff(rel: str, old: Expect, new: Expect) -> str:
    lines = difflib.unified_diff(
        _dump_expect(old), _dump_expect(new), fromfile=f"{rel} (old)", tofile=f"{rel} (new)", n=1, lineterm=""
    )
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    updates = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            updates += [value for name, value in getattr(report, "user_properties", ()) if name == "quirktape_update"]
    if not updates:
        return
    terminalreporter.section("quirktape: expectations rewritten (--quirktape-update)")
    for diff in updates:
        for line in diff.splitlines():
            plus, minus = line.startswith("+") and not line.startswith("+++"), line.startswith("-")
            minus = minus and not line.startswith("---")
            terminalreporter.write_line(line, green=plus, red=minus)
    terminalreporter.write_line(f"{len(updates)} cassette{'s' if len(updates) > 1 else ''} rewritten")


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
