"""The gauntlet: any gateway, judged as a black box on the fixture library.

quirktape impersonates the upstream (one server, every cassette under its own route),
drives the gateway as an Anthropic client with each cassette's Anthropic request
(streamed and not), logs every upstream request the gateway made, captures what the
gateway sent back read by read, and judges it with the oracle as a foreign translator:
spec and data findings fail, policy findings warn. Rechunk is judged by serving the
same bytes in other cuts and comparing the gateway's answers, ids aside.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..replay import ReplayTransport
from ..replay.asgi import running
from ..replay.serve import relay
from ..tape import Cassette, CassetteError, iter_cassette_paths, load, write_atomic
from .captured import captured, read_output
from .oracle import Check, Finding, check_cassette, difference

CUTS = ("lines", "random:1")
"""Other cuts the upstream re-serves each stream in, to judge rechunk invariance through the gateway."""


@dataclass
class Case:
    """One cassette in the gauntlet, under its route (a model name and a path prefix at once)."""

    route: str
    path: Path
    cassette: Cassette

    def interaction(self, streamed: bool) -> int | None:
        return next((i for i, x in enumerate(self.cassette.interactions) if x.response.is_stream == streamed), None)


def cases(paths: list[str]) -> list[Case]:
    """Each cassette named or found, routed by its path without ``.yaml`` (``/`` read as ``.``)."""
    found = []
    for entry in paths:
        root = Path(entry)
        for path in iter_cassette_paths([entry]):
            name = path.relative_to(root) if root.is_dir() else Path(path.name)
            found.append(Case(".".join(name.with_suffix("").parts), path, load(path)))
    return found


# -- the impersonated upstream -----------------------------------------------------------------------------------


@dataclass
class UpstreamCall:
    route: str | None
    method: str
    path: str
    streamed: bool
    index: int | None  # the interaction that answered; None: unmatched
    body: bytes = b""


def _wants_stream(path: str, data: Any) -> bool:
    return "streamgeneratecontent" in path.lower() or (isinstance(data, dict) and data.get("stream") is True)


class Upstream:
    """One server for every case: routed by path prefix, else by the model the request names.

    Within a route a request is answered by the recorded exchange of the same kind (streamed
    or not) and method; ``strict`` also requires the conversation (``messages``/``contents``) to be
    the recorded one. Every request is logged, answered or not.
    """

    def __init__(self, all_cases: list[Case], *, strict: bool = False, pace: str | float | None = None) -> None:
        self.cases = {c.route: c for c in all_cases}
        self.strict = strict
        self.pace = pace
        self.calls: list[UpstreamCall] = []
        self.cut: dict[str, str] = {}
        self._lock = threading.Lock()
        self._transports: dict[tuple[str, str], ReplayTransport] = {}

    def route_of(self, path: str, data: Any) -> str | None:
        for route in self.cases:
            if path.startswith(f"/{route}/"):
                return route
        model = data.get("model") if isinstance(data, dict) else None
        if isinstance(model, str) and model in self.cases:
            return model
        for route in self.cases:
            if f"/models/{route}:" in path:
                return route
        return None

    def transport(self, route: str) -> ReplayTransport:
        cut = self.cut.get(route, "recorded")
        key = (route, cut)
        if key not in self._transports:
            match = ["method", _same_kind] + (["body"] if self.strict else [])
            self._transports[key] = ReplayTransport(
                self.cases[route].cassette, match=match, rechunk=cut, pace=self.pace
            )
        return self._transports[key]

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            body = await request.body()
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            path = request.url.path
            route = self.route_of(path, data)
            if route is None:
                with self._lock:
                    self.calls.append(UpstreamCall(None, request.method, path, _wants_stream(path, data), None, body))
                message = f"quirktape gauntlet: no cassette for {request.method} {path}"
                return JSONResponse({"error": {"message": message, "type": "not_found_error"}}, status_code=404)
            transport = self.transport(route)
            before = len(transport.calls)
            try:
                response = await relay(transport, request, body)
            except Exception as exc:  # noqa: BLE001 - a request we cannot answer is logged as unmatched, never a crash
                message = f"quirktape gauntlet: cannot answer {request.method} {path}: {type(exc).__name__}: {exc}"
                response = JSONResponse({"error": {"message": message, "type": "api_error"}}, status_code=500)
            index = transport.calls[before][2] if len(transport.calls) > before else None
            with self._lock:
                self.calls.append(UpstreamCall(route, request.method, path, _wants_stream(path, data), index, body))
            return response

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        return Starlette(routes=[Route("/{path:path}", answer, methods=methods)])


def _same_kind(request: Any, interaction: Any) -> bool:
    """A streaming request gets the streamed exchange, a complete one the complete exchange."""
    try:
        data = json.loads(request.content or b"null")
    except ValueError:
        data = None
    return _wants_stream(request.url.path, data) == interaction.response.is_stream


# -- driving the gateway as an Anthropic client --------------------------------------------------------------------


@dataclass
class Output:
    """What the gateway sent back for one request: status, the raw body, when each read arrived."""

    status: int = 0
    body: bytes = b""
    t_ms: list[float] = field(default_factory=list)
    error: str = ""  # the connection failed: the reason


def drive(gateway: str, request: dict, *, key: str, timeout: float) -> Output:
    out = Output()
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": key}
    headers["authorization"] = f"Bearer {key}"
    start = time.monotonic()
    chunks = []
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0)) as client:
            with client.stream("POST", f"{gateway.rstrip('/')}/v1/messages", json=request, headers=headers) as reply:
                out.status = reply.status_code
                for chunk in reply.iter_bytes():
                    out.t_ms.append(round((time.monotonic() - start) * 1000, 3))
                    chunks.append(chunk)
    except httpx.HTTPError as exc:
        out.error = f"{type(exc).__name__}: {exc}"
    out.body = b"".join(chunks)
    return out


def output_events(output: Output) -> list[dict]:
    """The gateway's answer as Anthropic events; an HTTP error is the ``error`` event it stands for."""
    if output.error and not output.body:
        return [{"type": "error", "error": {"type": "api_error", "message": f"connection failed: {output.error}"}}]
    if output.status >= 400:
        try:
            error = json.loads(output.body).get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            error = {"type": "api_error", "message": output.body.decode("utf-8", "replace")[:300]}
        return [
            {
                "type": "error",
                "error": {"type": str(error.get("type", "api_error")), "message": str(error.get("message", ""))},
            }
        ]
    return read_output(output.body)


# -- judging one case -------------------------------------------------------------------------------------------

INVARIANTS = ("upstream", "grammar", "coverage", "conservation", "rechunk", "stream-nonstream", "expect", "errors")


@dataclass
class Result:
    case: Case
    checks: list[Check]
    outputs: dict[str, Output] = field(default_factory=dict)
    calls: list[UpstreamCall] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.ok is False for c in self.checks)


def anthropic_request(case: Case, streamed: bool) -> dict | None:
    request = case.cassette.metadata.request
    if not isinstance(request, dict):
        return None
    return {**request, "model": case.route, "stream": streamed}


def judge(gateway: str, upstream: Upstream, case: Case, *, key: str, strict: bool, timeout: float) -> Result:
    """Drive one case through the gateway (streamed, then complete when recorded) and judge what came back."""
    result = Result(case, [Check(name, None) for name in INVARIANTS])
    checks = {c.invariant: c for c in result.checks}
    if anthropic_request(case, True) is None:
        checks["upstream"].add(Finding("spec", "no_request", "the cassette has no metadata.request to drive with"))
        return result
    bodies: dict[bytes, list[dict]] = {}
    kept: list[int] = []
    checks["upstream"].ok = True
    for streamed in (True, False):
        index = case.interaction(streamed)
        if index is None:
            continue
        seen = len(upstream.calls)
        output = drive(gateway, anthropic_request(case, streamed), key=key, timeout=timeout)
        calls = [c for c in upstream.calls[seen:] if c.route in (case.route, None)]
        result.calls += calls
        result.outputs["stream" if streamed else "message"] = output
        for finding in _upstream_findings(case, calls, index, streamed):
            checks["upstream"].add(finding)
        try:
            events = output_events(output)
        except CassetteError as exc:
            checks["grammar"].ok = checks["grammar"].ok or True
            checks["grammar"].add(Finding("spec", "grammar", f"the gateway's answer is not an Anthropic stream: {exc}"))
            continue
        bodies[case.cassette.interactions[index].response.raw] = events
        kept.append(index)
    if not kept:
        return result
    judged = case.cassette.model_copy(update={"interactions": [case.cassette.interactions[i] for i in kept]})
    for check in check_cassette(judged, captured(bodies), foreign=True, strict=strict):
        checks[check.invariant] = check
    if case.interaction(True) is not None and "stream" in result.outputs:
        checks["rechunk"] = _rechunk(gateway, upstream, case, bodies, key=key, strict=strict, timeout=timeout)
    result.checks = [checks[name] for name in INVARIANTS]
    return result


def _upstream_findings(case: Case, calls: list[UpstreamCall], index: int, streamed: bool) -> list[Finding]:
    kind = "streamed" if streamed else "complete"
    if not calls:
        return [Finding("data", "crash", f"the gateway answered the {kind} request without calling the upstream")]
    found = []
    for call in calls:
        if call.index is None:
            recorded = case.cassette.interactions[index].request
            found.append(
                Finding(
                    "data",
                    "unmatched",
                    f"{call.method} {call.path} matches no recorded {kind} exchange; "
                    + _body_diff(recorded.body, call.body),
                )
            )
    if len(calls) > 1:
        found.append(
            Finding("policy", "extra_requests", f"{len(calls)} upstream requests for one {kind} client request")
        )
    return found


def _body_diff(recorded: Any, sent: bytes) -> str:
    def pretty(body: Any) -> list[str]:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        try:
            return json.dumps(json.loads(text), indent=1, sort_keys=True).splitlines()
        except ValueError:
            return text.splitlines()

    lines = list(difflib.unified_diff(pretty(recorded), pretty(sent), "recorded", "gateway sent", n=0, lineterm=""))
    return "body diff: " + " | ".join(lines[2:14]) if lines else "same body"


def _rechunk(gateway: str, upstream: Upstream, case: Case, bodies, *, key: str, strict: bool, timeout: float) -> Check:
    check = Check("rechunk", True)
    first = next(iter(bodies.values()))
    for cut in CUTS:
        upstream.cut[case.route] = cut
        try:
            other = output_events(drive(gateway, anthropic_request(case, True), key=key, timeout=timeout))
        except CassetteError as exc:
            other = [{"type": "error", "error": {"type": "api_error", "message": str(exc)}}]
        finally:
            upstream.cut.pop(case.route, None)
        found = difference(first, other, True, f"the upstream cut as {cut}")
        if found:
            found.warn = found.warn or (found.category == "policy" and not strict)
            check.add(found)
    return check


# -- gateways: given, or started from a command ------------------------------------------------------------------

PROVIDERS = {
    "openai": ("hosted_vllm/{route}", "{upstream}/{route}/v1"),
    "gemini": ("gemini/{route}", "{upstream}/{route}"),
    "ollama": ("ollama_chat/{route}", "{upstream}/{route}"),
}
"""LiteLLM provider and api_base per upstream dialect (chat completions, never the Responses API)."""


def litellm_config(all_cases: list[Case], upstream: str) -> dict:
    """A LiteLLM proxy config routing one model per cassette to its route on the impersonated upstream."""
    models = []
    for case in all_cases:
        dialect = case.cassette.interactions[0].response.quirktape.dialect or "openai"
        model, base = PROVIDERS.get(dialect, PROVIDERS["openai"])
        params = {"model": model.format(route=case.route), "api_base": base.format(upstream=upstream, route=case.route)}
        models.append({"model_name": case.route, "litellm_params": {**params, "api_key": "quirktape"}})
    return {"model_list": models, "litellm_settings": {"num_retries": 0, "request_timeout": 120}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def started(command: str, fields: dict[str, str], log_path: Path, *, startup: float) -> Iterator[str]:
    """Run a gateway from ``command`` (``{upstream}``, ``{port}``, … filled in); yields its URL once it listens."""
    port = _free_port()
    argv = gateway_argv(command, {**fields, "port": str(port)})
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
        try:
            _wait_listening(process, port, startup)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


PLACEHOLDERS = ("upstream", "port", "litellm_config", "dialect")


def gateway_argv(command: str, fields: dict[str, str]) -> list[str]:
    """The gateway command's words with the placeholders filled in; any other brace (JSON in an argument) stays."""
    for name in PLACEHOLDERS:
        command = command.replace("{" + name + "}", fields.get(name, "{" + name + "}"))
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise CassetteError(f"--gateway-cmd cannot be split into words: {exc}") from None
    if not argv:
        raise CassetteError("--gateway-cmd is empty")
    return argv


def reachable(url: str, timeout: float = 5.0) -> None:
    """A given gateway must accept connections before anything is judged: an unreachable one is bad usage."""
    parts = httpx.URL(url)
    try:
        with socket.create_connection((parts.host, parts.port or (443 if parts.scheme == "https" else 80)), timeout):
            return
    except OSError as exc:
        raise CassetteError(f"cannot reach the gateway at {url}: {exc.strerror or exc}") from None


def _wait_listening(process: subprocess.Popen, port: int, startup: float) -> None:
    """Until the gateway accepts connections; a process that exits or never listens is an error, not a hang."""
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CassetteError(f"the gateway command exited with {process.returncode} before it listened")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.2)  # an external process's start-up: polled, bounded by ``startup``
    raise CassetteError(f"the gateway did not listen on port {port} within {startup:.0f}s")


# -- the whole run -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything a gauntlet run produced, per case."""

    results: list[Result]
    gateway: str

    def as_json(self) -> dict:
        return {
            "gateway": self.gateway,
            "cases": [
                {
                    "route": r.case.route,
                    "path": str(r.case.path),
                    "checks": [
                        {
                            "invariant": c.invariant,
                            "status": _status(c),
                            "findings": [f.as_json() for f in c.findings],
                        }
                        for c in r.checks
                    ],
                    "upstream_calls": [
                        {"method": c.method, "path": c.path, "stream": c.streamed, "interaction": c.index}
                        for c in r.calls
                    ],
                }
                for r in self.results
            ],
            "failed": sum(1 for r in self.results for c in r.checks if c.ok is False),
            "passed": sum(1 for r in self.results for c in r.checks if c.ok),
        }


def _status(check: Check) -> str:
    return "n/a" if check.ok is None else check.status


def gauntlet(
    all_cases: list[Case],
    *,
    gateway: str | None = None,
    command: str | None = None,
    out_dir: Path | None = None,
    key: str = "quirktape",
    strict: bool = False,
    strict_body: bool = False,
    timeout: float = 120.0,
    startup: float = 180.0,
    progress: Any = None,
) -> Run:
    """Impersonate the upstream for ``all_cases``, and judge the gateway at ``gateway`` or started by ``command``.

    ``command`` may name ``{upstream}`` (the impersonated upstream's URL), ``{port}`` (where the gateway must
    listen), ``{litellm_config}`` (a LiteLLM proxy config for the cases) and ``{dialect}`` (then one gateway
    is started per upstream dialect, with only that dialect's cases).
    """
    upstream = Upstream(all_cases, strict=strict_body)
    results: list[Result] = []
    work = out_dir or Path(tempfile.mkdtemp(prefix="quirktape-gauntlet-"))
    work.mkdir(parents=True, exist_ok=True)
    if command:
        gateway_argv(command, {})  # a malformed command is bad usage, before anything starts
    elif gateway:
        reachable(gateway)
    with running(upstream.app(), log_level="critical") as upstream_url:  # recorded cuts break connections on purpose
        for dialect, group in _groups(all_cases, command):
            config = work / "litellm-config.yaml"
            write_atomic(config, yaml.safe_dump(litellm_config(group, upstream_url), sort_keys=False))
            fields = {"upstream": upstream_url, "litellm_config": str(config), "dialect": dialect}
            with contextlib.ExitStack() as stack:
                url = gateway
                if command:
                    url = stack.enter_context(
                        started(command, fields, work / f"gateway-{dialect}.log", startup=startup)
                    )
                for case in group:
                    if progress:
                        progress(case)
                    result = judge(url, upstream, case, key=key, strict=strict, timeout=timeout)
                    results.append(result)
                    if out_dir:
                        _save_outputs(out_dir, result)
    return Run(results, gateway or command or "")


def _groups(all_cases: list[Case], command: str | None) -> list[tuple[str, list[Case]]]:
    """One group per upstream dialect when the gateway command is per dialect, else one group."""
    if not command or "{dialect}" not in command:
        return [("all", all_cases)]
    groups: dict[str, list[Case]] = {}
    for case in all_cases:
        groups.setdefault(case.cassette.interactions[0].response.quirktape.dialect or "openai", []).append(case)
    return list(groups.items())


def _save_outputs(out_dir: Path, result: Result) -> None:
    """The gateway's raw answers, for ``report`` to attach to a bug."""
    for kind, output in result.outputs.items():
        suffix = "sse" if kind == "stream" else "json"
        (out_dir / "outputs").mkdir(parents=True, exist_ok=True)
        path = out_dir / "outputs" / f"{result.case.route}.{kind}.{suffix}"
        path.write_bytes(output.body)


def changes(run: dict, baseline: dict) -> list[str]:
    """What changed between two runs (``--json`` documents), case by case and invariant by invariant."""
    before = {
        (case["route"], check["invariant"]): check["status"]
        for case in baseline.get("cases", [])
        for check in case["checks"]
    }
    out = []
    for case in run["cases"]:
        for check in case["checks"]:
            old = before.get((case["route"], check["invariant"]))
            if old is not None and old != check["status"]:
                out.append(f"{case['route']}: {check['invariant']} {old} -> {check['status']}")
            elif old is None:
                out.append(f"{case['route']}: {check['invariant']} new ({check['status']})")
    return out
