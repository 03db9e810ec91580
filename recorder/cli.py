"""The ``quirktape`` command line (the contract is ../shared/docs/CLI.md).

Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input, always with a
one-line message and never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from translator._lazy import submodule

from .tape.redact import scrub_text

if TYPE_CHECKING:
    from .tape import Cassette

# A command imports what it uses, when it runs: ``--help`` loads no cassette model, ``replay`` no judge
# and no importer, and only ``serve``, ``proxy``, ``record``, ``gateway`` and ``gauntlet`` load httpx,
# starlette or uvicorn. The names below call into their modules, imported on first call; constants an
# option needs (its choices, its default) are read when that command's options are parsed or shown.


def _module(name: str):
    """``recorder<name>`` (``name`` is relative: ``".tape"``), imported by the import statement's own path."""
    return submodule(__package__ + name)


def _lazy(module: str, name: str):
    """``module.name``, imported when first called."""

    def call(*args, **kwargs):
        return getattr(_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


class _Choice(click.Choice):
    """A ``click.Choice`` whose values are read when its command's options are parsed or its help shown."""

    def __init__(self, values: Callable[[], Iterable[str]]) -> None:
        self.case_sensitive, self._values = True, values  # click.Choice.__init__ would read them now

    @functools.cached_property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self._values())


class _Default:
    """An option's default read from its module when its command runs (or shows it, in its help)."""

    def __init__(self, value: Callable[[], object]) -> None:
        self._value = value

    def __call__(self) -> object:
        return self._value()

    def __str__(self) -> str:
        return str(self._value())


def _cassette_error() -> tuple[type[Exception], ...]:
    """What ``except`` catches as a ``CassetteError``: the class once a cassette was read, before that
    nothing (none can have been raised), so that naming it loads no cassette model."""
    cassette = sys.modules.get(__package__ + ".tape.cassette")
    return (cassette.CassetteError,) if cassette else ()


import_files = _lazy(".capture", "import_files")
record = _lazy(".capture", "record")
gateway_app = _lazy(".capture.gateway", "gateway_app")
proxy_app = _lazy(".capture.proxy", "proxy_app")
answers = _lazy(".judge", "answers")
captured = _lazy(".judge", "captured")
catalogue_coverage = _lazy(".judge", "catalogue_coverage")
check_cassette = _lazy(".judge", "check_cassette")
event_diff = _lazy(".judge", "event_diff")
fails = _lazy(".judge", "fails")
mutate = _lazy(".judge", "mutate")
read_output = _lazy(".judge", "read_output")
report = _lazy(".judge", "report")
shrink = _lazy(".judge", "shrink")
view = _lazy(".judge", "view")
gauntlet_cases = _lazy(".judge.gauntlet", "cases")
changes = _lazy(".judge.gauntlet", "changes")
gauntlet = _lazy(".judge.gauntlet", "gauntlet")
litellm_config = _lazy(".judge.gauntlet", "litellm_config")
load_translator = _lazy(".replay", "load_translator")
pick = _lazy(".replay", "pick")
replay = _lazy(".replay", "replay")
stream_events = _lazy(".replay", "stream_events")
bind = _lazy(".replay.asgi", "bind")
serve_forever = _lazy(".replay.asgi", "serve_forever")
url_of = _lazy(".replay.asgi", "url_of")
anthropic_app = _lazy(".replay.serve", "anthropic_app")
library = _lazy(".replay.serve", "library")
routes = _lazy(".replay.serve", "routes")
serve_app = _lazy(".replay.serve", "serve_app")
dumps = _lazy(".tape", "dumps")
iter_cassette_paths = _lazy(".tape", "iter_cassette_paths")
load = _lazy(".tape", "load")
redact_url = _lazy(".tape", "redact_url")
safe_dumps = _lazy(".tape", "safe_dumps")
save = _lazy(".tape", "save")
url_secrets = _lazy(".tape", "url_secrets")
write_atomic = _lazy(".tape", "write_atomic")

DIALECT = _Choice(lambda: _module(".tape").UPSTREAMS)
"""The dialects an upstream may speak (``--dialect``): the translator's, as ``recorder.tape.UPSTREAMS`` has them."""

EXAMPLES = {
    "import": "quirktape import stream.sse -o cassettes/vllm/my-quirk.yaml --provider vllm --tag MIX-04",
    "replay": "quirktape replay cassettes/vllm/report-empty-tool-calls-text-lost.yaml --format jsonl --rechunk bytes",
    "check": "quirktape check cassettes/",
    "record": "OPENAI_API_KEY=... quirktape record --dialect openai --upstream http://127.0.0.1:8000/v1 "
    "--model deepseek-v4-pro --request req.json --api-key-env OPENAI_API_KEY -o cassettes/vllm/new.yaml",
    "serve": "quirktape serve cassettes/vllm/ --port 8000 --pace recorded",
    "proxy": "quirktape proxy --upstream http://127.0.0.1:8000 --port 8080 -d recorded/",
    "gateway": "quirktape gateway --upstream http://127.0.0.1:8000/v1 --port 8082 -d recorded/   "
    "# then: ANTHROPIC_BASE_URL=http://127.0.0.1:8082 claude",
    "mutate": "quirktape mutate cassettes/openai/mix-01-text-then-tool.yaml -d /tmp/variants",
    "report": "quirktape report bug.yaml --translator my_gateway:translate -o bug.md",
    "shrink": "quirktape shrink bug.yaml --invariant conservation --translator my_gateway:translate -o smaller.yaml",
    "diff": "quirktape diff bug.yaml --translator my_gateway:translate",
    "view": "quirktape view bug.yaml --translator my_gateway:translate -o bug.html",
    "gauntlet": "quirktape gauntlet cassettes/ --gateway-cmd 'litellm --config {litellm_config} --port {port}' -d out/",
}

PORT = click.IntRange(0, 65535)

TRANSLATOR = click.option(
    "--translator",
    "translator_spec",
    metavar="MODULE:CALLABLE",
    help="Check this translator instead of quirktape's (same signature as translator.translate_stream).",
)


def _translator(spec: str | None):
    if spec:
        return load_translator(spec)
    from translator import translate_stream  # the function itself: the oracle tells its own translator by identity

    return translate_stream


class BadInput(click.ClickException):
    exit_code = 2


LIBRARY = click.option(
    "--library",
    "use_library",
    is_flag=True,
    help="The cassette library installed with quirktape (no clone needed), instead of CASSETTE|DIR arguments.",
)


def _library_paths(paths: tuple[str, ...] | list[str], use_library: bool) -> list[str]:
    """The paths given, or with ``--library`` the installed library's directory alone.

    ``--library`` with paths is refused, not merged: ``check --library vllm/`` reads like a part of the
    library, and judging the whole library plus a local folder would not be what was asked. The message
    names the library's directory, so a part of it can be given by path.
    """
    if not use_library:
        return list(paths)
    from .library import LibraryMissing, library_root

    try:
        root = library_root()
    except LibraryMissing as exc:
        raise BadInput(str(exc)) from None
    if paths:
        raise BadInput(f"--library takes no CASSETTE|DIR (to judge part of the library, give its paths: {root})")
    return [str(root)]


ALLOW = click.option(
    "--allow-value",
    "allow",
    multiple=True,
    metavar="VALUE",
    help="A value that only looks like a credential: written as it is, not REDACTED (repeatable).",
)

_PRINTING: dict[str, list[str]] = {"known": [], "allow": []}
"""What the scrub of everything printed knows: the command's credentials and its --allow-value."""


def _printing(known: list[str | None] | tuple = (), allow: tuple[str, ...] | list[str] = ()) -> None:
    _PRINTING["known"] += [k for k in known if k]
    _PRINTING["allow"] += list(allow)


class _Scrubbed:
    """A text stream (stdout, stderr) whose every write is scrubbed of credentials first."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")
        self._stream.write(scrub_text(text, _PRINTING["allow"], _PRINTING["known"]))
        return len(text)

    @property
    def buffer(self):
        return _ScrubbedBytes(self._stream.buffer)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _ScrubbedBytes:
    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        text = scrub_text(bytes(data).decode("latin-1"), _PRINTING["allow"], _PRINTING["known"])
        self._stream.write(text.encode("latin-1"))
        return len(data)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _output(output: str, inputs: list[str | None] | tuple = ()) -> str:
    """``output`` once it is known not to be one of ``inputs`` (``-`` is stdout)."""
    if output == "-":
        return output
    for given in inputs:
        if given and given != "-" and _same_file(output, given):
            raise BadInput(f"{output}: is also an input; refusing to write over it (give another -o)")
    return output


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _write(output: str, text: str) -> None:
    """``text`` to the file ``output`` (atomically, through a symlink to its target), or to stdout for ``-``."""
    if output == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)


def _save(output: str, cassette: Cassette, secrets: list[str] | None = None, allow: tuple[str, ...] = ()) -> None:
    """A cassette, scrubbed, to the file ``output`` as ``save`` writes it (atomically, never held whole as
    text when no secret is known), or to stdout for ``-``."""
    if output == "-":
        click.echo(safe_dumps(cassette, secrets, allow, name=output), nl=False)
    else:
        save(cassette, output, secrets, allow)


def _wrote(output: str) -> None:
    if output != "-":
        click.echo(f"wrote {output}", err=True)


def _output_file(help: str, required: bool = True):
    """``-o/--output FILE``: a file in every command (``-`` for stdout); a folder is ``-d/--out-dir``."""
    return click.option(
        "-o", "--output", required=required, type=click.Path(dir_okay=False, allow_dash=True), help=help
    )


STRICT = click.option(
    "--strict", is_flag=True, help="With --translator: fail on policy findings too, instead of warning."
)
MAX_HOLDBACK = click.option(
    "--max-holdback-ms",
    type=click.FloatRange(min=0),
    help="latency: a hold-back longer than this many recorded milliseconds is a (policy) finding.",
)
OUT_DIR = click.option(
    "-d",
    "--out-dir",
    type=click.Path(file_okay=False),
    help="Directory for one cassette per exchange.",
)
OLD_OUT_DIR = click.option("-o", "old_out_dir", hidden=True, type=click.Path(file_okay=False))
"""``-o DIR``: the old spelling of ``--out-dir``. ``-o`` is a file everywhere else, so a folder has its own flag."""


def _old_spellings(required: tuple[str, ...] = (), **renamed: str):
    """Hidden options that keep old flag spellings working, each feeding the option that replaced it.

    ``renamed`` maps the old option's parameter to the new one's. Giving both with different values is
    bad usage; ``required`` new options are checked here, once either spelling had its chance.
    """

    def wrap(command):
        @functools.wraps(command)
        def run(*args, **kwargs):
            for old, new in renamed.items():
                value = kwargs.pop(old)
                if value is None:
                    continue
                if kwargs.get(new) not in (None, value):
                    raise BadInput(f"--{new.replace('_', '-')} was given twice, with different values")
                kwargs[new] = value
            for new in required:
                if kwargs.get(new) is None:
                    raise BadInput(f"missing option --{new.replace('_', '-')}")
            return command(*args, **kwargs)

        return run

    return wrap


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="quirktape")
def cli() -> None:
    """Record, replay and check LLM provider streams translated to the Anthropic Messages API."""


@cli.command("import", epilog=f"Example: {EXAMPLES['import']}")
@click.argument("input_paths", metavar="INPUT...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_output_file("Cassette file to write (- for stdout).")
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=_Choice(lambda: ["auto", *_module(".capture").FORMATS, "markdown", "quirktape"]),
    help="Input format (of every input).",
)
@click.option(
    "--dialect",
    "upstream",
    type=DIALECT,
    help="The upstream's wire dialect: needed when the input does not tell it, and overrides what it tells.",
)
@click.option("--upstream", "old_dialect", hidden=True, type=DIALECT)
@click.option("--interaction", type=int, help="Keep only this LLM exchange (0-based, counted across the inputs).")
@click.option("--title")
@click.option("--source", help="Where the bytes came from (default: the input paths).")
@click.option("--provider")
@click.option("--model")
@click.option("--tag", "tags", multiple=True, help="Quirk id (repeatable).")
@click.option(
    "--done/--no-done",
    default=True,
    show_default=True,
    help="Chunk lists: the recording was complete, end it with [DONE].",
)
@ALLOW
@_old_spellings(old_dialect="upstream")
def import_cmd(input_paths, output, fmt, upstream, interaction, title, source, provider, model, tags, done, allow):
    """Turn raw streams, complete responses, chunk lists or recordings into one cassette.

    Several inputs become one cassette, in order: a stream and its complete (non-streamed)
    twin let `quirktape check` compare the two. Credentials are redacted wherever they sit.
    """
    _printing(allow=allow)
    output = _output(output, input_paths)
    metadata = {"title": title, "source": source, "provider": provider, "model": model, "tags": list(tags)}
    cassette = import_files(
        list(input_paths), fmt, upstream=upstream, done=done, interaction=interaction, metadata=metadata
    )
    for note in getattr(cassette.metadata, "skipped", None) or []:
        click.echo(f"skipped {note}", err=True)
    for note in getattr(cassette.metadata, "import_notes", None) or []:
        click.echo(f"note: {note}", err=True)
    _save(output, cassette, allow=allow)
    _wrote(output)


@cli.command("replay", epilog=f"Example: {EXAMPLES['replay']}")
@click.argument("cassette_path", metavar="CASSETTE", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", default="sse", show_default=True, type=click.Choice(["sse", "jsonl", "message"]))
@click.option("--rechunk", default="recorded", show_default=True, help="recorded | bytes | lines | random:SEED")
@click.option("--interaction", type=int, help="Interaction number (0-based; default: the first).")
@TRANSLATOR
def replay_cmd(cassette_path, fmt, rechunk, interaction, translator_spec):
    """Feed a cassette through the translator and print the Anthropic side."""
    from translator import accumulate, encode_sse

    cassette = load(cassette_path)
    if translator_spec:
        events = iter(replay(cassette, interaction, rechunk, translate=_translator(translator_spec)).events)
    else:  # quirktape's own: printed as translated, never all held (a million-chunk stream stays small)
        events = stream_events(cassette, interaction, rechunk)
    out = sys.stdout
    if fmt in ("sse", "jsonl"):
        frame = encode_sse if fmt == "sse" else (lambda event: (_json(event) + "\n").encode("utf-8"))
        write, batch = out.buffer.write, []
        for event in events:
            batch.append(frame(event))
            if len(batch) == 4096:  # whole frames per write
                write(b"".join(batch))
                batch.clear()
        write(b"".join(batch))
    else:
        errors: list[dict] = []
        out.write(_json(accumulate(_noting_errors(events, errors)), indent=2) + "\n")
        error = errors[0] if errors else None
        if error:
            text = " ".join(str(error.get("message")).split())
            click.echo(f"quirktape: upstream error: {error.get('type')}: {text}", err=True)
            sys.exit(1)


def _noting_errors(events, errors: list[dict]):
    """``events`` passed through, the ``error`` object of each error event noted in ``errors``."""
    for event in events:
        if event.get("type") == "error":
            errors.append(event.get("error"))
        yield event


@cli.command("check", epilog=f"Example: {EXAMPLES['check']}")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (findings with their categories).")
@TRANSLATOR
@STRICT
@click.option("--failures-only", is_flag=True, help="Print only failing checks and unreadable cassettes.")
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False),
    help="Judge this captured Anthropic output (SSE or a complete message) of a gateway against one CASSETTE.",
)
@click.option(
    "--interaction", type=int, help="With --output: the interaction it answered (0-based; default: the first)."
)
@MAX_HOLDBACK
@LIBRARY
def check_cmd(
    paths, as_json, translator_spec, strict, failures_only, output_path, interaction, max_holdback_ms, use_library
):
    """Run the oracle over cassettes (files or directories, default cassettes/; --library: the installed library).

    Every cassette gets its rows, even when another one cannot be read. Exit 2 when any
    input was unreadable, else 1 when any check failed, else 0 (warnings do not fail).
    """
    if interaction is not None and not output_path:
        raise BadInput("--interaction goes with --output (the interaction a captured output answered)")
    files = iter_cassette_paths(_library_paths(paths, use_library) or ["cassettes"])
    translate = _translator(translator_spec)
    if output_path:
        translate = _captured(output_path, files, translator_spec, interaction)
    results: list[tuple[Path, list | str]] = []
    tags: set[str] = set()
    show = sys.stderr.isatty() and not as_json
    for n, path in enumerate(files, 1):
        if show:
            click.echo(f"\r\x1b[K[{n}/{len(files)}] {path}", err=True, nl=False)
        try:
            cassette = load(path)
            if output_path:
                cassette.interactions = [cassette.interactions[pick(cassette, interaction)]]
            checks = check_cassette(cassette, translate, strict=strict, max_holdback_ms=max_holdback_ms)
        except _cassette_error() as exc:
            results.append((path, _one_line(exc, path)))
            continue
        tags.update(cassette.metadata.tags)
        results.append((path, checks))
    if show:
        click.echo("\r\x1b[K", err=True, nl=False)
    rows = [checks for _, checks in results if not isinstance(checks, str)]
    count = {
        status: sum(1 for checks in rows for c in checks if c.status == status) for status in ("ok", "FAIL", "warn")
    }
    unreadable = sum(1 for _, checks in results if isinstance(checks, str))
    covered, missing = catalogue_coverage(tags)
    if as_json:
        click.echo(json.dumps(_check_json(results, covered, missing, count, unreadable), indent=2))
    else:
        _print_checks(results, failures_only)
        gaps = f" (missing: {', '.join(missing)})" if 0 < len(missing) <= 12 else ""
        click.echo(f"coverage: {len(covered)}/{len(covered) + len(missing)} catalogue entries{gaps}")
        if count["warn"] or unreadable:
            click.echo(f"{count['warn']} checks with warnings, {unreadable} unreadable cassettes")
        click.echo(f"{count['ok'] + count['warn']} passed, {count['FAIL']} failed")
    sys.exit(2 if unreadable else 1 if count["FAIL"] else 0)


def _captured(output_path: str, files: list[Path], translator_spec: str | None, interaction: int | None):
    if len(files) != 1 or translator_spec:
        raise BadInput("--output judges one captured output against exactly one cassette (and no --translator)")
    pick(load(files[0]), interaction)  # an interaction the cassette does not have is bad usage, not a bad cassette
    try:
        body = Path(output_path).read_bytes()
    except OSError as exc:
        raise BadInput(f"{output_path}: cannot read: {exc.strerror or exc}") from None
    try:
        return captured(read_output(body))
    except _cassette_error() as exc:
        raise BadInput(f"{output_path}: {exc}") from None


def _one_line(exc: Exception, path: Path) -> str:
    text = " ".join(str(exc).split())
    return text if str(path) in text else f"{path}: {text}"


def _print_checks(results: list[tuple[Path, list | str]], failures_only: bool) -> None:
    for path, checks in results:
        if isinstance(checks, str):
            click.echo(f"ERR   {'unreadable':16}  {path}")
            click.echo(f"      {checks}")
            continue
        for c in checks:
            if failures_only and c.status != "FAIL":
                continue
            click.echo(f"{c.status:4}  {c.invariant:16}  {path}")
            for detail in c.details:
                click.echo(f"      {detail}")


def _check_json(results: list, covered: list, missing: list, count: dict, unreadable: int) -> dict:
    cassettes: list[dict] = []
    categories: dict[str, int] = {}
    for path, checks in results:
        if isinstance(checks, str):
            cassettes.append({"path": str(path), "error": checks})
            continue
        for c in checks:
            for f in c.findings:
                if not f.warn:
                    categories[f.category] = categories.get(f.category, 0) + 1
        cassettes.append(
            {
                "path": str(path),
                "checks": [
                    {
                        "invariant": c.invariant,
                        "status": c.status,
                        "details": c.details,
                        "findings": [f.as_json() for f in c.findings],
                    }
                    for c in checks
                ],
            }
        )
    return {
        "cassettes": cassettes,
        "coverage": {"covered": len(covered), "total": len(covered) + len(missing), "missing": missing},
        "passed": count["ok"] + count["warn"],
        "failed": count["FAIL"],
        "warnings": count["warn"],
        "unreadable": unreadable,
        "failures_by_category": categories,
    }


def _read_json(path: str, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, RecursionError):
        raise BadInput(f"{path}: {what} is not JSON") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: {what} must be a JSON object")
    return data


class _Waiting:
    """A recording's progress on stderr, so that a silent upstream is seen at once: on a terminal,
    bytes, reads and seconds on one line that keeps counting while nothing arrives; elsewhere, one
    line when a request has had no byte for ``NOTICE_AFTER`` seconds (again every ``REPEAT``)."""

    NOTICE_AFTER, REPEAT = 5.0, 60.0

    def __init__(self, labels: list[str], timeout: float, where: str) -> None:
        self.labels, self.timeout, self.where = labels, timeout, where
        self.live = sys.stderr.isatty()
        self.n, self.size, self.reads = -1, 0, 0
        self.t0 = self.last = self.noticed = time.monotonic()
        self.lock, self.done = threading.Lock(), threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    @property
    def label(self) -> str:
        return self.labels[min(max(self.n, 0), len(self.labels) - 1)]

    def __call__(self, size: int, reads: int, seconds: float) -> None:
        with self.lock:
            now = time.monotonic()
            if size == reads == 0:  # a request was sent
                if self.live and self.n >= 0:
                    click.echo("", err=True)
                self.n, self.t0, self.noticed = self.n + 1, now, 0.0
                if not self.ticker.is_alive():
                    self.ticker.start()
            self.size, self.reads, self.last = size, reads, now
            self._draw(now)

    def _draw(self, now: float) -> None:
        if self.n < 0:
            return
        silent = now - self.last
        if self.live:
            what = f"{self.size} bytes, {self.reads} reads" if self.reads else "waiting for the first byte"
            quiet = f", {silent:.0f}s silent" if self.reads and silent >= 2 else ""
            line = f"{self.label}: {what}, {now - self.t0:.0f}s{quiet} (timeout {self.timeout:g}s)"
            click.echo(f"\r\x1b[K{line}", err=True, nl=False)
        elif silent >= self.NOTICE_AFTER and now - self.noticed >= (self.REPEAT if self.noticed else 0):
            self.noticed = now
            what = f"after {self.size} bytes" if self.reads else "not a byte yet"
            click.echo(
                f"{self.label}: {self.where} silent for {silent:.0f}s, {what} (gives up at {self.timeout:g}s)",
                err=True,
            )

    def _tick(self) -> None:
        while not self.done.wait(min(1.0, self.NOTICE_AFTER)):
            with self.lock:
                self._draw(time.monotonic())

    def close(self) -> None:
        self.done.set()
        if self.live and self.n >= 0:
            click.echo("", err=True)


RECORDED = ("openai", "gemini", "responses")
"""The dialects ``record`` and ``gateway`` send requests in (they translate an Anthropic request for them)."""


@cli.command("record", epilog=f"Example: {EXAMPLES['record']}")
@click.option("--dialect", type=click.Choice(RECORDED), help="The upstream's wire dialect.")
@click.option(
    "--upstream",
    metavar="URL",
    help="The live upstream's base URL, e.g. http://127.0.0.1:8000/v1 or "
    "https://generativelanguage.googleapis.com/v1beta",
)
@click.option("--base-url", hidden=True)
@click.option("--model", required=True, help="Upstream model name.")
@click.option(
    "--request",
    "request_path",
    type=click.Path(dir_okay=False),
    help="Anthropic Messages request (JSON), translated for the upstream.",
)
@click.option(
    "--raw-request", "raw_path", type=click.Path(dir_okay=False), help="Upstream request body (JSON), sent as it is."
)
@click.option("--api-key-env", metavar="VAR", help="Environment variable holding the credential (never written).")
@click.option("--stream", "only_stream", is_flag=True, help="Record the streaming response only.")
@click.option("--no-stream", "only_whole", is_flag=True, help="Record the non-streaming response only.")
@click.option("--both", "both", is_flag=True, help="Record both (default): the twin that proves stream = non-stream.")
@click.option(
    "--timeout",
    default=_Default(lambda: _module(".capture.wire").DEFAULT_TIMEOUT),
    type=float,
    show_default=True,
    help="Seconds of upstream silence allowed before each read, the first byte included (connecting: 10).",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="On stderr: on a terminal, bytes, reads and seconds, counting while the upstream is silent; "
    "elsewhere, a line when it stays silent for 5s.",
)
@_output_file("Cassette file to write (- for stdout).")
@ALLOW
def record_cmd(
    dialect,
    upstream,
    base_url,
    model,
    request_path,
    raw_path,
    api_key_env,
    only_stream,
    only_whole,
    both,
    timeout,
    progress,
    output,
    allow,
):
    """Send one request to a live upstream and write what came back as a cassette.

    --upstream must not hold a user:password (httpx would send it as Basic auth instead of the
    API key): that is refused. The credential, its base64 and a ?key= in --upstream are known
    secrets: a cassette still holding one after redaction (the upstream echoed it) is refused.
    (Old spellings: --upstream DIALECT --base-url URL.)
    """
    dialect, base_url = _record_target(dialect, upstream, base_url)
    if bool(request_path) == bool(raw_path):
        raise BadInput("give exactly one of --request and --raw-request")
    if only_stream + only_whole + both > 1:
        raise BadInput("--stream, --no-stream and --both exclude one another: give one")
    if timeout <= 0:
        raise BadInput("--timeout must be a positive number of seconds")
    output = _output(output, [request_path, raw_path])
    request = _read_json(request_path or raw_path, "the request")
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise BadInput(f"environment variable {api_key_env} is not set")
    secrets = [s for s in [api_key, *url_secrets(base_url)] if s]
    _printing(known=secrets, allow=allow)
    modes = (True,) if only_stream else (False,) if only_whole else (True, False)
    waiting = _Waiting(["stream" if m else "non-stream" for m in modes], timeout, redact_url(base_url, secrets))
    try:
        cassette = record(
            upstream=dialect,
            base_url=base_url,
            model=model,
            request=request,
            raw=bool(raw_path),
            modes=modes,
            api_key=api_key,
            timeout=timeout,
            progress=waiting if progress else None,
        )
    finally:
        waiting.close()
    if output != "-":
        cassette.metadata.title = Path(output).stem
    _save(output, cassette, secrets, allow)
    for note in getattr(cassette.metadata, "notes", None) or []:
        click.echo(f"note: {note}", err=True)
    for interaction in cassette.interactions:
        r = interaction.response
        kind = "stream" if r.quirktape.stream else "non-stream"
        reads = len(r.quirktape.offsets or [])
        summary = f"HTTP {r.status.code}, {len(r.raw)} bytes in {reads} reads, ending {r.quirktape.ending}"
        click.echo(f"{kind}: {summary}", err=True)
    _wrote(output)


def _record_target(dialect: str | None, upstream: str | None, base_url: str | None) -> tuple[str, str]:
    """(dialect, URL) from ``--dialect`` and ``--upstream URL``, or from the old ``--upstream DIALECT
    --base-url URL``: ``--upstream`` is a URL in every command now, a dialect name only in old use."""
    if upstream in RECORDED:
        if dialect not in (None, upstream):
            raise BadInput(f"--upstream {upstream} (old spelling of --dialect) contradicts --dialect {dialect}")
        dialect, upstream = upstream, None
    if upstream and base_url and upstream != base_url:
        raise BadInput("--upstream and --base-url (its old spelling) name different URLs")
    url = upstream or base_url
    if not url:
        raise BadInput("missing option --upstream URL (the live upstream's base URL)")
    if not dialect:
        raise BadInput(f"missing option --dialect ({'|'.join(RECORDED)})")
    return dialect, url


def _pace(value: str) -> str | float | None:
    if value in ("none", "recorded"):
        return None if value == "none" else value
    try:
        scale = float(value)
    except ValueError:
        raise BadInput(f"--pace must be recorded, none or a number, not {value!r}") from None
    if scale < 0:
        raise BadInput("--pace must not be negative")
    return scale


def _listen(host: str, port: int):
    try:
        return bind(host, port)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@cli.command("serve", epilog=f"Example: {EXAMPLES['serve']}")
@click.argument("paths", nargs=-1, required=True, metavar="CASSETTE|DIR...")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=PORT, help="0 picks a free port.")
@click.option("--pace", default="none", show_default=True, help="recorded | none | SCALE (recorded gaps times SCALE).")
@click.option(
    "--match",
    "match",
    multiple=True,
    help="What must agree (repeatable): method, path (its API version aside), exact_path, body, body:KEY, "
    "query, host, scheme, raw_body.",
)
@click.option(
    "--as",
    "side",
    type=click.Choice(["upstream", "anthropic"]),
    default="upstream",
    show_default=True,
    help="upstream: the recorded bytes; anthropic: answer POST /v1/messages with the translation, as a gateway.",
)
@TRANSLATOR
@click.option(
    "--ping",
    "ping_after",
    default=10.0,
    show_default=True,
    help="--as anthropic: seconds of recorded upstream silence before a ping (0: never).",
)
def serve_cmd(paths, host, port, pace, match, side, translator_spec, ping_after):
    """Impersonate the upstream (or, --as anthropic, a gateway): answers in the recorded pieces and pace.

    As the upstream, every request is matched (--match: method, path and body by default) against
    the interactions of all the cassettes given; routes by path prefix are --as anthropic's only.

    --as anthropic: any Anthropic client can set ANTHROPIC_BASE_URL to this server. Each cassette
    answers under its route (its path without .yaml, relative to a directory given): as a path
    prefix (/ROUTE/v1/messages) or as the request's model; with one cassette, every request is its.
    """
    if side == "anthropic":
        if match:
            raise BadInput("--match applies to --as upstream; --as anthropic chooses by route and turn")
        cassettes = routes(paths)
        translate = load_translator(translator_spec) if translator_spec else None
        app = anthropic_app(cassettes, pace=_pace(pace), translate=translate, ping_after=ping_after)
        what = f"{len(cassettes)} cassette{'s' if len(cassettes) != 1 else ''} as an Anthropic gateway"
    else:
        if translator_spec:
            raise BadInput("--translator applies to --as anthropic (the upstream side sends the recorded bytes)")
        cassette = library(paths)
        try:
            app = serve_app(cassette, match=match or _module(".replay").DEFAULT_MATCH, pace=_pace(pace))
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        what = f"{len(cassette.interactions)} interactions"
    sock = _listen(host, port)
    click.echo(f"quirktape: serving {what} on {url_of(sock)}", err=True)
    serve_forever(app, sock)


@cli.command("gateway", epilog=f"Example: {EXAMPLES['gateway']}")
@click.option(
    "--upstream",
    "upstream_url",
    required=True,
    help="The live upstream's base URL: .../v1 (OpenAI-compatible) or .../v1beta (Gemini).",
)
@click.option(
    "--dialect",
    type=click.Choice(RECORDED),
    help="The upstream dialect (else read off the URL: /v1 is OpenAI-compatible, /v1beta or googleapis.com Gemini).",
)
@click.option("--model", help="Upstream model for every request (default: the model the client names).")
@click.option(
    "--api-key-env", metavar="VAR", help="Environment variable holding the upstream credential (never written)."
)
@OUT_DIR
@OLD_OUT_DIR
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8082, show_default=True, type=PORT, help="0 picks a free port.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for each upstream read.")
@click.option(
    "--think-tags",
    type=click.Choice(["tags", "open"]),
    help="Read <think>…</think> in the text as reasoning (open: the template already opened the tag).",
)
@click.option(
    "--ping",
    "ping_after",
    default=10.0,
    show_default=True,
    help="Seconds of upstream silence before a ping (0: never).",
)
@ALLOW
@_old_spellings(required=("out_dir",), old_out_dir="out_dir")
def gateway_cmd(upstream_url, dialect, model, api_key_env, out_dir, host, port, timeout, think_tags, ping_after, allow):
    """A live, recording Anthropic gateway: translates each request for the upstream and the answer back as
    it arrives, and writes every exchange (Anthropic request, upstream request, raw response) as a cassette.
    An --upstream holding a user:password is refused (the credential belongs in --api-key-env)."""
    if not upstream_url.startswith(("http://", "https://")):
        raise BadInput(f"--upstream must be an http(s) URL, not {redact_url(upstream_url, [])!r}")
    dialect = dialect or _gateway_dialect(upstream_url)
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise BadInput(f"environment variable {api_key_env} is not set")
    _printing(known=[api_key, *url_secrets(upstream_url)], allow=allow)
    options = {"think_tags": think_tags} if think_tags else None
    app = gateway_app(
        upstream_url,
        dialect,
        out_dir,
        model=model,
        api_key=api_key,
        timeout=timeout,
        options=options,
        ping_after=ping_after,
        log=lambda line: click.echo(line, err=True),
        allow=allow,
    )
    sock = _listen(host, port)
    click.echo(f"quirktape: gateway {url_of(sock)} -> {dialect} {upstream_url}, cassettes in {out_dir}", err=True)
    serve_forever(app, sock)


def _gateway_dialect(url: str) -> str:
    """The upstream dialect a base URL names by convention; none is assumed where it names none."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower()
    if "googleapis.com" in (parts.hostname or "") or path.endswith(("/v1beta", "/v1beta1")):
        return "gemini"
    if path.endswith("/v1"):
        return "openai"
    raise BadInput(f"{url}: the URL does not tell the upstream dialect; pass --dialect openai|gemini")


@cli.command("proxy", epilog=f"Example: {EXAMPLES['proxy']}")
@click.option("--upstream", required=True, metavar="URL", help="The real upstream's base URL.")
@OUT_DIR
@OLD_OUT_DIR
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=PORT, help="0 picks a free port.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for each upstream read.")
@click.option(
    "--dialect",
    type=DIALECT,
    help="The upstream's wire dialect, for exchanges whose URL path and payloads do not tell it "
    "(without it those are passed on but not recorded).",
)
@ALLOW
@_old_spellings(required=("out_dir",), old_out_dir="out_dir")
def proxy_cmd(upstream, out_dir, host, port, timeout, dialect, allow):
    """Forward to a live upstream, pass every piece on as it arrives, and record each LLM exchange.

    The credentials each request carries are redacted, and an exchange whose answer echoes one is
    passed on but not recorded. An --upstream holding a user:password is refused.
    """
    if not upstream.startswith(("http://", "https://")):
        raise BadInput(f"--upstream must be an http(s) URL, not {redact_url(upstream, [])!r}")
    _printing(known=url_secrets(upstream), allow=allow)
    log = lambda line: click.echo(line, err=True)  # noqa: E731
    app = proxy_app(upstream, out_dir, dialect=dialect, log=log, timeout=timeout, allow=allow)
    sock = _listen(host, port)
    click.echo(f"quirktape: proxying {url_of(sock)} -> {upstream}, cassettes in {out_dir}", err=True)
    serve_forever(app, sock)


@cli.command("mutate", epilog=f"Example: {EXAMPLES['mutate']}")
@click.argument("cassette_path", metavar="CASSETTE", type=click.Path(dir_okay=False))
@click.option(
    "--variant",
    "names",
    multiple=True,
    type=_Choice(lambda: _module(".judge").VARIANTS),
    help="Only these (repeatable).",
)
@click.option("-d", "--out-dir", type=click.Path(file_okay=False), help="Also write each variant as a cassette here.")
@OLD_OUT_DIR
@TRANSLATOR
@ALLOW
@_old_spellings(old_out_dir="out_dir")
def mutate_cmd(cassette_path, names, out_dir, translator_spec, allow):
    """Derive synthetic variants of a stream (CRLF line ends, SSE comments, no [DONE], no usage chunk, the finish
    on the last content chunk, every call at index 0) and check the translation does not change."""
    _printing(allow=allow)
    cassette, translate = load(cassette_path), _translator(translator_spec)
    differs = False
    for name in names or _module(".judge").VARIANTS:
        variant = mutate(cassette, name)
        if isinstance(variant, str):
            click.echo(f"n/a      {name:15} {variant}")
            continue
        want, got = answers(cassette, name, translate), answers(variant, name, translate)
        if out_dir:
            target = str(Path(out_dir) / f"{Path(cassette_path).stem}.{name}.yaml")
            save(variant, _output(target, [cassette_path]), allow=allow)
        if got == want:
            click.echo(f"same     {name}")
        else:
            differs = True
            click.echo(f"DIFFERS  {name:15} {got} != {want}")
    sys.exit(1 if differs else 0)


@cli.command("report", epilog=f"Example: {EXAMPLES['report']}")
@click.argument("cassette_path", metavar="CASSETTE", type=click.Path(dir_okay=False))
@TRANSLATOR
@_output_file("Write the report here instead of stdout (-: stdout).", required=False)
@ALLOW
@click.option(
    "--gateway-output",
    type=click.Path(dir_okay=False),
    help="Report a gateway's captured Anthropic answer (gauntlet -o DIR/outputs/…, or curl) instead of a translator.",
)
@click.option(
    "--interaction", type=int, help="With --gateway-output: the interaction it answered (0-based; default: the first)."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Also write the cassette's picture (the page quirktape view makes) here; the report links it.",
)
def report_cmd(cassette_path, translator_spec, output, allow, gateway_output, interaction, html_path):
    """Print a Markdown bug report (cassette inline) for a person to paste into an issue.

    Credentials in the cassette are redacted in the report (and in the cassette it embeds).
    With --html, the picture is written first and linked by its path relative to the report.
    """
    _printing(allow=allow)
    if interaction is not None and not gateway_output:
        raise BadInput("--interaction goes with --gateway-output (the interaction the captured answer answered)")
    output = _output(output or "-", [cassette_path])
    cassette, translate, name = load(cassette_path), _translator(translator_spec), translator_spec
    if gateway_output:
        translate = _captured(gateway_output, [Path(cassette_path)], translator_spec, interaction)
        cassette.interactions = [cassette.interactions[pick(cassette, interaction)]]
        name = f"the gateway's captured answer {Path(gateway_output).name}"
    picture = None
    if html_path:
        if html_path == "-" or (output != "-" and _same_file(html_path, output)):
            raise BadInput("--html needs a file of its own, beside the report")
        html_path = _output(html_path, [cassette_path, gateway_output])
        _write(html_path, view(cassette, translate, name=cassette_path, translator_name=name, allow=allow))
        _wrote(html_path)
        beside = os.getcwd() if output == "-" else os.path.dirname(os.path.abspath(output))
        picture = os.path.relpath(os.path.abspath(html_path), beside)
    _write(output, report(cassette, translate, translator_name=name, allow=allow, picture=picture))


@cli.command("view", epilog=f"Example: {EXAMPLES['view']}")
@click.argument("cassette_path", metavar="CASSETTE", type=click.Path(dir_okay=False))
@_output_file("The HTML page to write (- for stdout).")
@click.option("--interaction", type=int, help="Draw only this interaction (0-based; default: every one).")
@TRANSLATOR
@STRICT
@MAX_HOLDBACK
@ALLOW
def view_cmd(cassette_path, output, interaction, translator_spec, strict, max_holdback_ms, allow):
    """Draw a cassette as one self-contained HTML page: the upstream reads on a time axis, each read's
    payloads, the Anthropic events each payload caused, and the oracle's findings where they happened.
    With --translator, its events are drawn beside quirktape's (the reference), missing and extra ones marked.

    The page loads nothing from the network; everything from the cassette is escaped, and credentials
    in it are redacted, as in report.

    view draws; it does not judge: it exits 0 when the page is written, whatever the findings
    (check exits 1 when an invariant fails).
    """
    _printing(allow=allow)
    output = _output(output, [cassette_path])
    cassette, translate = load(cassette_path), _translator(translator_spec)
    page = view(
        cassette,
        translate,
        interaction=interaction,
        name=cassette_path,
        translator_name=translator_spec,
        allow=allow,
        strict=strict,
        max_holdback_ms=max_holdback_ms,
    )
    _write(output, page)
    _wrote(output)


@cli.command("shrink", epilog=f"Example: {EXAMPLES['shrink']}")
@click.argument("cassette_path", metavar="CASSETTE", type=click.Path(dir_okay=False))
@click.option(
    "--invariant",
    type=_Choice(lambda: _module(".judge").SHRINKABLE),
    help="Which failure to keep (default: the first that fails).",
)
@TRANSLATOR
@_output_file("Where to write the smaller cassette (- for stdout).")
@ALLOW
def shrink_cmd(cassette_path, invariant, translator_spec, output, allow):
    """Delta debugging: the smallest cassette on which the translator still fails the same way."""
    _printing(allow=allow)
    output = _output(output, [cassette_path])
    cassette, translate = load(cassette_path), _translator(translator_spec)
    if invariant is None:
        failing = [
            c.invariant for c in check_cassette(cassette, translate) if c.ok is False and c.invariant != "expect"
        ]
        differs = _module(".judge").DIFFERS
        if not failing and fails(cassette, differs, translate):
            failing = [differs]
        if not failing:
            raise BadInput(f"{cassette_path}: the translator fails no invariant here: nothing to shrink")
        invariant = failing[0]
    smaller = shrink(cassette, invariant, translate)
    _save(output, smaller, allow=allow)
    before, after = len(dumps(cassette)), len(dumps(smaller))
    wrote = f"; wrote {output}" if output != "-" else ""
    click.echo(f"{invariant} still fails; {before} -> {after} characters{wrote}", err=True)


@cli.command("diff", epilog=f"Example: {EXAMPLES['diff']}")
@click.argument("first", metavar="A", type=click.Path(dir_okay=False))
@click.argument("second", metavar="[B]", required=False, type=click.Path(dir_okay=False))
@TRANSLATOR
@click.option(
    "--reference",
    "reference_spec",
    metavar="MODULE:CALLABLE",
    help="Compare against this translator (default: quirktape's).",
)
@click.option("--interaction", type=int, help="Only this interaction (0-based; default: every one).")
def diff_cmd(first, second, translator_spec, reference_spec, interaction):
    """Compare two cassettes' translations, or one cassette under two translators, event by event."""
    if second is None and not translator_spec and not reference_spec:
        raise BadInput("give a second cassette, or --translator (and/or --reference) to compare translators")
    translate, reference = _translator(translator_spec), _translator(reference_spec)
    if second:  # two cassettes, one translator
        left, right = load(first), load(second)
        left_fn = right_fn = translate
        labels = (first, second)
    else:  # one cassette, two translators
        left = right = load(first)
        left_fn, right_fn = reference, translate
        labels = (f"{first} ({reference_spec or 'quirktape'})", f"{first} ({translator_spec or 'quirktape'})")
    indices = [interaction] if interaction is not None else range(max(len(left.interactions), len(right.interactions)))
    lines: list[str] = []
    for i in indices:
        if i >= len(left.interactions) or i >= len(right.interactions):
            lines.append(f"# interaction {i}: only in {labels[0] if i < len(left.interactions) else labels[1]}")
            continue
        found = event_diff(
            replay(left, i, translate=left_fn).events, replay(right, i, translate=right_fn).events, labels
        )
        lines += [f"# interaction {i}", *found] if found and len(indices) > 1 else found
    click.echo("\n".join(lines) if lines else "identical")
    sys.exit(1 if lines else 0)


@cli.command("gauntlet", epilog=f"Example: {EXAMPLES['gauntlet']}")
@click.argument("paths", nargs=-1, metavar="CASSETTE|DIR...")
@LIBRARY
@click.option("--gateway", "gateway_url", metavar="URL", help="A running gateway's base URL (Anthropic side).")
@click.option(
    "--gateway-cmd",
    "command",
    metavar="CMD",
    help="Start the gateway: {upstream}, {port}, {litellm_config} and {dialect} are filled in.",
)
@click.option(
    "--litellm-config",
    "config_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write a LiteLLM proxy config routing one model per cassette to --upstream, then exit (- for stdout).",
)
@click.option(
    "--upstream",
    "upstream_url",
    metavar="URL",
    help="With --litellm-config: where the impersonated upstream will listen.  [default: http://127.0.0.1:18600]",
)
@click.option("--upstream-url", "old_upstream_url", hidden=True)
@click.option("-d", "--out-dir", type=click.Path(file_okay=False), help="Keep the gateway's raw answers and logs here.")
@OLD_OUT_DIR
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="A previous --json run: print what changed.")
@click.option("--strict", is_flag=True, help="Fail on policy findings too.")
@click.option("--strict-body", is_flag=True, help="The upstream also requires the recorded conversation.")
@click.option("--key", default="quirktape", show_default=True, help="The API key sent to the gateway.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the gateway's reads.")
@click.option(
    "--startup-timeout",
    default=180.0,
    show_default=True,
    help="Seconds a --gateway-cmd gateway may take to start listening.",
)
@_old_spellings(old_upstream_url="upstream_url", old_out_dir="out_dir")
def gauntlet_cmd(
    paths,
    use_library,
    gateway_url,
    command,
    config_path,
    upstream_url,
    out_dir,
    as_json,
    baseline,
    strict,
    strict_body,
    key,
    timeout,
    startup_timeout,
):
    """Judge any gateway as a black box: impersonate the upstream with each cassette, drive the gateway as an
    Anthropic client with the cassette's request (streamed and not), and judge what it sends back."""
    paths = _library_paths(paths, use_library)
    if not paths:
        raise BadInput("give the cassettes to judge: CASSETTE|DIR... or --library")
    all_cases = gauntlet_cases(paths)
    upstream_url = upstream_url or "http://127.0.0.1:18600"
    if config_path:
        if gateway_url or command:
            raise BadInput(
                "--litellm-config writes a config and exits: no gateway is driven (drop --gateway/--gateway-cmd)"
            )
        config_path = _output(config_path, [*paths, *map(str, iter_cassette_paths(list(paths)))])
        import yaml

        _write(config_path, yaml.safe_dump(litellm_config(all_cases, upstream_url), sort_keys=False))
        if config_path != "-":
            click.echo(f"wrote {config_path} ({len(all_cases)} models on {upstream_url})", err=True)
        return
    if bool(gateway_url) == bool(command):
        raise BadInput("give exactly one of --gateway URL and --gateway-cmd CMD")
    before = _read_json(baseline, "the baseline") if baseline else None
    show = sys.stderr.isatty() and not as_json
    result = gauntlet(
        all_cases,
        gateway=gateway_url,
        command=command,
        out_dir=Path(out_dir) if out_dir else None,
        key=key,
        strict=strict,
        strict_body=strict_body,
        timeout=timeout,
        startup=startup_timeout,
        progress=(lambda case: click.echo(f"\r\x1b[K{case.route}", err=True, nl=False)) if show else None,
    )
    if show:
        click.echo("\r\x1b[K", err=True, nl=False)
    doc = result.as_json()
    if out_dir:
        write_atomic(Path(out_dir) / "gauntlet.json", json.dumps(doc, indent=2))
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        for case in doc["cases"]:
            for check in case["checks"]:
                click.echo(f"{check['status']:4}  {check['invariant']:16}  {case['route']}")
                for finding in check["findings"]:
                    warn = "warning: " if finding["warn"] else ""
                    click.echo(f"      {warn}{finding['category']}/{finding['kind']}: {finding['detail']}")
        if before is not None:
            for line in changes(doc, before) or ["no change against the baseline"]:
                click.echo(f"changed: {line}")
        click.echo(f"{doc['passed']} passed, {doc['failed']} failed")
    sys.exit(1 if doc["failed"] else 0)


def _json(value: object, indent: int | None = None) -> str:
    """Readable JSON; a lone surrogate from upstream stays an escape instead of breaking stdout."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, indent=indent)
    return text


def main() -> None:
    """Entry point: every failure is one line on stderr with the contract's exit code.

    Everything printed (stdout and stderr: messages, rows, logs) is scrubbed of credentials first.
    """
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Scrubbed(sys.stdout), _Scrubbed(sys.stderr)
    try:
        _main()
    finally:
        sys.stdout, sys.stderr = streams
        _PRINTING["known"].clear()
        _PRINTING["allow"].clear()


def _main() -> None:
    try:
        cli.main(standalone_mode=False)
        sys.exit(0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("quirktape: aborted", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"quirktape: error: {exc.format_message()}", err=True)
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except _cassette_error() as exc:
        click.echo(f"quirktape: error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"quirktape: error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
    except MemoryError:
        click.echo("quirktape: error: out of memory", err=True)
        sys.exit(2)
