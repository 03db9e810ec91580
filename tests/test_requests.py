"""Every bundled cassette carries the Anthropic Messages request a client would have sent to a gateway
(``metadata.request``), and that request is honest about the upstream one that was recorded.

1. It is an Anthropic request: the official SDK's ``MessageCreateParamsStreaming`` (unknown fields
   forbidden, every block read as a request block) plus what the API checks that the types cannot
   (roles and block kinds, tool_use/tool_result pairing, names, ids, thinking limits).
2. ``to_openai_request`` / ``to_gemini_request`` turn it into exactly the upstream body of every
   interaction (the non-streamed twin is the same request without ``stream``), but for the
   differences declared in ``DIFFERENCES``: each is a kind from ``KINDS`` with its reason, and
   each undoes one precise difference, nothing else.
3. Every declared difference is still needed: without it, some interaction no longer matches.

Also declared as data: the requests that copy a placeholder prompt from the recorded upstream body
(``PLACEHOLDERS``), and the cassettes whose recorded response does not fit their request
(``RESPONSE_MISMATCH``); both must stay true.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from anthropic.types.message_create_params import MessageCreateParamsStreaming
from helpers import CASSETTES, cassette_paths
from pydantic import BaseModel, ConfigDict, ValidationError

from recorder.tape import Cassette, load
from translator import to_gemini_request, to_openai_request, to_responses_request

PATHS = cassette_paths()
IDS = [p.relative_to(CASSETTES).as_posix() for p in PATHS]

# --------------------------------------------------------------------------------------------------
# The kinds of difference between a translated request and the recorded upstream one. Each function
# gets (anthropic request, translated body, upstream body) as copies and undoes exactly that kind.
# --------------------------------------------------------------------------------------------------

Normalizer = Callable[[dict, dict, dict], None]


def _generation(body: dict) -> dict:
    return body.get("generationConfig") or {}


def _thinking_config(body: dict) -> dict:
    return _generation(body).get("thinkingConfig") or {}


def _declarations(body: dict) -> list[dict]:
    return [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]


def _walk_schemas(schema, fix: Callable[[dict], None]) -> None:
    if isinstance(schema, dict):
        fix(schema)
        for value in schema.values():
            _walk_schemas(value, fix)
    elif isinstance(schema, list):
        for value in schema:
            _walk_schemas(value, fix)


def _max_tokens(request: dict, ours: dict, theirs: dict) -> None:
    if "input" in theirs:  # the Responses API
        if "max_output_tokens" not in theirs:
            ours.pop("max_output_tokens", None)
    elif "messages" in theirs:
        if "max_tokens" not in theirs and "max_completion_tokens" not in theirs:
            ours.pop("max_tokens", None)
    elif "maxOutputTokens" not in _generation(theirs):
        _generation(ours).pop("maxOutputTokens", None)
        if ours.get("generationConfig") == {} and "generationConfig" not in theirs:
            del ours["generationConfig"]


def _stream_options_absent(request: dict, ours: dict, theirs: dict) -> None:
    if theirs.get("stream") and "stream_options" not in theirs:
        ours.pop("stream_options", None)


def _stream_options_unused(request: dict, ours: dict, theirs: dict) -> None:
    if not theirs.get("stream") and "stream_options" not in ours:
        theirs.pop("stream_options", None)


def _openrouter_usage(request: dict, ours: dict, theirs: dict) -> None:
    if theirs.get("usage") == {"include": True} and "stream_options" not in theirs:
        del theirs["usage"]
        theirs["stream_options"] = {"include_usage": True}


def _openrouter_reasoning(request: dict, ours: dict, theirs: dict) -> None:
    budget = (request.get("thinking") or {}).get("budget_tokens")
    if budget and theirs.get("reasoning") == {"max_tokens": budget}:
        del theirs["reasoning"]
        ours.pop("reasoning_effort", None)


def _mistral_prompt_mode(request: dict, ours: dict, theirs: dict) -> None:
    if theirs.get("prompt_mode") == "reasoning" and (request.get("thinking") or {}).get("type") == "adaptive":
        del theirs["prompt_mode"]
        ours.pop("reasoning_effort", None)


def _arguments_text(request: dict, ours: dict, theirs: dict) -> None:
    for mine, recorded in zip(ours.get("messages") or [], theirs.get("messages") or []):
        for call, other in zip(mine.get("tool_calls") or [], recorded.get("tool_calls") or []):
            a, b = call["function"]["arguments"], other["function"]["arguments"]
            if a != b and json.loads(a) == json.loads(b):
                call["function"]["arguments"] = b


def _tools_absent_upstream(request: dict, ours: dict, theirs: dict) -> None:
    if "tools" not in theirs:
        ours.pop("tools", None)


def _parameters_key(request: dict, ours: dict, theirs: dict) -> None:
    for mine, recorded in zip(_declarations(ours), _declarations(theirs)):
        if "parametersJsonSchema" in mine and "parameters" in recorded and "parametersJsonSchema" not in recorded:
            mine["parameters"] = mine.pop("parametersJsonSchema")


def _openapi_type_names(request: dict, ours: dict, theirs: dict) -> None:
    def lower(schema: dict) -> None:
        if isinstance(schema.get("type"), str) and schema["type"].isupper():
            schema["type"] = schema["type"].lower()

    for declaration in _declarations(theirs):
        _walk_schemas(declaration.get("parameters"), lower)


def _openapi_nullable(request: dict, ours: dict, theirs: dict) -> None:
    def as_type_list(schema: dict) -> None:
        if schema.get("nullable") is True and isinstance(schema.get("type"), str):
            del schema["nullable"]
            schema["type"] = [schema["type"], "null"]

    for declaration in _declarations(theirs):
        _walk_schemas(declaration.get("parameters"), as_type_list)


def _thinking_budget_dynamic(request: dict, ours: dict, theirs: dict) -> None:
    if _thinking_config(ours).get("thinkingBudget") == -1 and "thinkingBudget" not in _thinking_config(theirs):
        del _thinking_config(ours)["thinkingBudget"]


def _thinking_budget_minimum(request: dict, ours: dict, theirs: dict) -> None:
    recorded = _thinking_config(theirs).get("thinkingBudget")
    if _thinking_config(ours).get("thinkingBudget") == 1024 and isinstance(recorded, int) and 0 < recorded < 1024:
        _thinking_config(ours)["thinkingBudget"] = recorded


def _thoughts_omitted(request: dict, ours: dict, theirs: dict) -> None:
    omitted = (request.get("thinking") or {}).get("display") == "omitted"
    if omitted and "includeThoughts" not in _thinking_config(theirs):
        _thinking_config(ours).pop("includeThoughts", None)


def _stream_function_call_arguments(request: dict, ours: dict, theirs: dict) -> None:
    calling = (theirs.get("toolConfig") or {}).get("functionCallingConfig") or {}
    eager = [t.get("eager_input_streaming") for t in request.get("tools") or []]
    if calling.get("streamFunctionCallArguments") is True and eager and all(eager):
        del calling["streamFunctionCallArguments"]


def _cached_content(request: dict, ours: dict, theirs: dict) -> None:
    theirs.pop("cachedContent", None)


def _server_tools(request: dict, ours: dict, theirs: dict) -> None:
    kinds = {str(t.get("type", "")).rsplit("_", 1)[0] for t in request.get("tools") or []}
    gemini = {"web_search": {"googleSearch": {}}, "code_execution": {"codeExecution": {}}}
    served = [gemini[k] for k in kinds if k in gemini]
    if "tools" in theirs:
        theirs["tools"] = [t for t in theirs["tools"] if t not in served]
        if not theirs["tools"]:
            del theirs["tools"]


KINDS: dict[str, tuple[str, Normalizer]] = {
    # both dialects
    "max_tokens": (
        "Anthropic requires max_tokens; the upstream request left the limit to the server's default",
        _max_tokens,
    ),
    # OpenAI chat.completions
    "openrouter_usage": (
        "OpenRouter's own usage: {include: true} asks what stream_options.include_usage asks",
        _openrouter_usage,
    ),
    "stream_options_absent": (
        "the translator asks include_usage on every stream; this upstream stream was requested without it",
        _stream_options_absent,
    ),
    "stream_options_unused": (
        "the recorded non-streamed twin still carried stream_options (ignored there); the translator drops it",
        _stream_options_unused,
    ),
    "openrouter_reasoning": (
        "OpenRouter's reasoning: {max_tokens: N} carries the thinking budget; the translator sends reasoning_effort",
        _openrouter_reasoning,
    ),
    "mistral_prompt_mode": (
        "Mistral asks for reasoning with prompt_mode: reasoning; the translator sends reasoning_effort",
        _mistral_prompt_mode,
    ),
    "arguments_text": (
        "history tool-call arguments are the same JSON written with other spacing (translator: json.dumps)",
        _arguments_text,
    ),
    "tools_absent_upstream": (
        "the reported upstream body has a tool call in its history but no tools; Anthropic requires the tools",
        _tools_absent_upstream,
    ),
    # Gemini / Vertex
    "parameters_key": (
        "the upstream declared tools with `parameters` (OpenAPI subset); the translator sends `parametersJsonSchema`",
        _parameters_key,
    ),
    "openapi_type_names": (
        "the upstream schema uses OpenAPI's upper-case type names; an Anthropic input_schema is JSON Schema",
        _openapi_type_names,
    ),
    "openapi_nullable": (
        "the upstream schema uses OpenAPI's nullable: true; in JSON Schema that is a type list with null",
        _openapi_nullable,
    ),
    "thinking_budget_dynamic": (
        "thoughts without a budget: the translator sends thinkingBudget -1 (dynamic), a default the upstream omits",
        _thinking_budget_dynamic,
    ),
    "thinking_budget_minimum": (
        "the upstream thinking budget is below Anthropic's minimum budget_tokens (1024)",
        _thinking_budget_minimum,
    ),
    "thoughts_omitted": (
        "thinking without thought summaries (display: omitted); to_gemini_request always asks includeThoughts",
        _thoughts_omitted,
    ),
    "stream_function_call_arguments": (
        "Vertex-only streamFunctionCallArguments (the quirk itself); to_gemini_request ignores eager_input_streaming",
        _stream_function_call_arguments,
    ),
    "cached_content": (
        "Vertex cachedContent names a server-side cache resource; an Anthropic request has no such reference",
        _cached_content,
    ),
    "server_tools": (
        "Gemini's built-in googleSearch / codeExecution: Anthropic server tools, which to_gemini_request drops",
        _server_tools,
    ),
}

# Per cassette (path under cassettes/): the kinds of difference its translation shows. Nothing else may differ.
DIFFERENCES: dict[str, tuple[str, ...]] = {
    "anthropic-openai/tc-08-sparse-or-nonzero-first-index.yaml": ("max_tokens", "stream_options_absent"),
    "anthropic-openai/tc-12-empty-or-absent-arguments.yaml": ("max_tokens", "stream_options_absent"),
    "azure/env-01-prompt-filter-first-chunk.yaml": ("max_tokens",),
    "azure/env-02-filter-annotation-without-delta.yaml": ("max_tokens",),
    "azure/env-04-model-router-model-switch.yaml": ("max_tokens",),
    "azure/fin-07-content-filter.yaml": ("max_tokens", "stream_options_absent"),
    "cliproxyapi/tc-16-truncated-tool-arguments.yaml": ("stream_options_absent",),
    "deepinfra/tc-15-fields-arrive-late-or-type-missing.yaml": ("max_tokens",),
    "deepseek/fin-05-stall-mid-reasoning-timeout.yaml": ("max_tokens", "stream_options_absent"),
    "deepseek/mix-04-empty-tool-calls-array-reasoning.yaml": ("max_tokens", "stream_options_absent"),
    "deepseek/rsn-01-reasoning-content-then-text.yaml": ("max_tokens", "stream_options_absent"),
    "deepseek/rsn-07-reasoning-then-tool-calls.yaml": ("max_tokens",),
    "deepseek/sse-02-keep-alive-comments.yaml": ("max_tokens", "stream_options_absent"),
    "deepseek/sse-04-data-without-space.yaml": ("max_tokens", "stream_options_absent"),
    "deepseek/tc-01-canonical-incremental.yaml": ("max_tokens",),
    "deepseek/use-02-usage-on-finish-chunk.yaml": ("max_tokens",),
    "deepseek/use-06-prompt-cache-hit-tokens.yaml": ("max_tokens",),
    "envoy-bedrock/rsn-05-reasoning-as-object.yaml": ("max_tokens",),
    "gcli2api/fin-06-stop-on-reasoning-and-tool-chunks.yaml": ("max_tokens", "stream_options_absent"),
    "gemini-openai/err-04-http-400-error-array.yaml": (
        "max_tokens",
        "stream_options_absent",
        "arguments_text",
        "tools_absent_upstream",
    ),
    "gemini-openai/err-04-http-429-resource-exhausted.yaml": ("max_tokens", "stream_options_absent"),
    "gemini-openai/err-04-midstream-unavailable.yaml": ("max_tokens", "stream_options_absent"),
    "gemini-openai/gem-15-parallel-tool-calls-no-index.yaml": ("max_tokens",),
    "gemini-openai/gem-15-tool-call-whole-stop-finish.yaml": ("max_tokens",),
    "gemini-openai/sse-01-crlf-line-endings.yaml": ("max_tokens", "stream_options_absent"),
    "gemini-openai/sse-10-http-500-json-body-as-event-stream.yaml": ("max_tokens", "stream_options_absent"),
    "gemini-openai/tc-03-name-fragmented.yaml": ("max_tokens",),
    "gemini-openai/tc-06-missing-index.yaml": ("max_tokens",),
    "gemini/err-04-http-429-json-array.yaml": ("max_tokens",),
    "gemini/err-04-midstream-unavailable.yaml": ("max_tokens",),
    "gemini/fin-05-json-array-cut.yaml": ("max_tokens",),
    "gemini/gem-01-thought-parts.yaml": ("max_tokens", "thinking_budget_dynamic"),
    "gemini/gem-01-thought-summaries-then-signed-text.yaml": ("max_tokens", "thinking_budget_dynamic"),
    "gemini/gem-02-parallel-calls-signature-on-first.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-02-signature-on-trailing-empty-part.yaml": ("max_tokens",),
    "gemini/gem-02-thought-then-signed-call.yaml": (
        "max_tokens",
        "parameters_key",
        "openapi_type_names",
        "thinking_budget_minimum",
    ),
    "gemini/gem-03-function-call-no-args.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-03-function-call-whole-part.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-03-json-array-function-call.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-04-parallel-function-calls.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-07-finish-without-content.yaml": ("max_tokens",),
    "gemini/gem-07-usage-only-trailing-event.yaml": ("max_tokens", "server_tools"),
    "gemini/gem-09-prompt-blocked-no-candidates.yaml": ("max_tokens",),
    "gemini/gem-10-safety-after-partial-text.yaml": ("max_tokens",),
    "gemini/gem-11-max-tokens-eaten-by-thinking.yaml": ("thinking_budget_dynamic",),
    "gemini/gem-12-malformed-function-call.yaml": ("max_tokens", "parameters_key"),
    "gemini/gem-13-usage-cumulative-not-summed.yaml": ("max_tokens",),
    "gemini/gem-14-code-execution-text-around.yaml": ("max_tokens", "server_tools"),
    "gemini/gem-14-intermediate-finish-with-code-execution.yaml": ("max_tokens", "server_tools"),
    "gemini/report-25390-gemma-echo-arg.yaml": ("parameters_key",),
    "gemini/report-25390-gemma-grep-tool.yaml": ("parameters_key",),
    "gemini/sse-10-streamed-json-array.yaml": ("max_tokens",),
    "groq/env-03-x-groq-usage.yaml": ("max_tokens", "stream_options_absent"),
    "groq/err-05-service-unavailable-503.yaml": ("max_tokens", "stream_options_absent"),
    "groq/err-05-tool-use-failed-400.yaml": ("max_tokens", "stream_options_absent"),
    "groq/err-06-connection-reset-mid-stream.yaml": ("max_tokens", "stream_options_absent"),
    "groq/mix-04-empty-tool-calls-array.yaml": ("max_tokens", "stream_options_absent"),
    "groq/use-03-usage-in-vendor-field.yaml": ("max_tokens", "stream_options_absent"),
    "hermes/sse-05-named-custom-events.yaml": ("max_tokens", "stream_options_absent"),
    "ik-llama-cpp/fin-08-no-done-sentinel.yaml": ("max_tokens", "stream_options_absent"),
    "kimi/mix-02-text-after-tool.yaml": ("max_tokens", "stream_options_absent"),
    "lightllm/fin-05-null-finish-then-done.yaml": ("max_tokens", "stream_options_absent"),
    "litellm/env-04-new-id-per-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "litellm/err-06-guardrail-drop-no-done.yaml": ("max_tokens", "stream_options_absent"),
    "litellm/fin-07-end-turn-finish-reason.yaml": ("max_tokens", "stream_options_absent"),
    "litellm/tc-08-nonzero-first-index-without-text.yaml": ("max_tokens",),
    "llama-cpp/err-03-context-overflow-http-400.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/fin-04-usage-chunk-after-finish.yaml": ("max_tokens",),
    "llama-cpp/mix-05-null-content-role-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/sse-05-error-field-line.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/sse-10-http-200-json-error.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/tc-04-name-or-id-repeated-every-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/tc-10-arguments-as-json-object.yaml": ("max_tokens", "stream_options_absent"),
    "llama-cpp/use-01-usage-only-final-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "lm-studio/err-03-silent-empty-stream.yaml": ("max_tokens",),
    "lm-studio/rsn-07-reasoning-then-tool-calls.yaml": ("max_tokens", "stream_options_absent"),
    "lm-studio/tc-05-empty-string-name-id-on-continuations.yaml": ("max_tokens", "stream_options_absent"),
    "mistral/fin-03-finish-on-last-data-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "mistral/rsn-04-mistral-content-array-thinking.yaml": (
        "max_tokens",
        "stream_options_absent",
        "mistral_prompt_mode",
    ),
    "mistral/tc-02-whole-call-in-one-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "mistral/use-02-usage-on-last-content-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/fin-02-failed-tool-parse-empty-turn.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/fin-07-tool-call-singular.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/mix-06-all-channels-and-finish-in-last-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/report-finish-chunk-after-tool-call.yaml": ("max_tokens",),
    "mlx-lm/report-parallel-tool-calls-one-delta.yaml": ("max_tokens", "stream_options_unused"),
    "mlx-lm/tc-06-missing-index-null-id.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/tc-09-multiple-calls-in-one-delta.yaml": ("max_tokens",),
    "mlx-lm/tc-11-double-encoded-arguments.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/tc-11-double-encoded-empty-string.yaml": ("max_tokens", "stream_options_absent"),
    "mlx-lm/use-05-usage-chunk-odd-envelope.yaml": ("max_tokens",),
    "mlx-vlm/sse-09-replacement-chars-server-side.yaml": ("max_tokens", "stream_options_absent"),
    "oci-litellm/tc-05-empty-name-no-id-per-chunk-ids.yaml": ("max_tokens",),
    "ollama/err-05-model-not-found-404.yaml": ("max_tokens", "stream_options_absent"),
    "ollama/mix-05-empty-content-on-reasoning-chunks.yaml": ("max_tokens",),
    "ollama/mix-06-several-channels-in-one-delta.yaml": ("max_tokens",),
    "ollama/tc-02-whole-call-in-one-chunk.yaml": ("max_tokens",),
    "ollama/tc-06-missing-index.yaml": ("max_tokens", "stream_options_absent"),
    "ollama/tc-07-parallel-calls-all-index-0.yaml": ("max_tokens",),
    "ollama/use-05-no-usage-in-stream.yaml": ("max_tokens",),
    "one-api/fin-06-stop-on-every-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "openai-compatible/sse-06-multiline-data-one-event.yaml": ("max_tokens", "stream_options_absent"),
    "openai-compatible/tc-03-name-late-or-fragmented.yaml": ("max_tokens", "stream_options_absent"),
    "openai/env-03-obfuscation-and-vendor-fields.yaml": ("max_tokens", "stream_options_absent"),
    "openai/err-05-invalid-api-key-401.yaml": ("max_tokens", "stream_options_absent"),
    "openai/err-05-rate-limit-429.yaml": ("max_tokens", "stream_options_absent"),
    "openai/fin-01-stop-despite-tool-calls.yaml": ("max_tokens",),
    "openai/fin-04-data-after-finish.yaml": ("max_tokens",),
    "openai/mix-01-text-then-tool.yaml": ("max_tokens",),
    "openai/mix-05-null-content-on-tool-only-turn.yaml": ("max_tokens",),
    "openai/sse-07-event-split-across-reads.yaml": ("max_tokens",),
    "openai/sse-08-utf8-split-across-reads.yaml": ("max_tokens", "stream_options_absent"),
    "openai/use-01-usage-only-final-chunk.yaml": ("max_tokens",),
    "openai/use-06-token-accounting-mapping.yaml": ("max_tokens",),
    "openrouter/env-03-provider-and-native-finish-reason.yaml": ("max_tokens", "openrouter_usage"),
    "openrouter/err-02-inband-error-finish-error.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/err-02-prompt-too-long.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/err-02-rate-limit-mid-stream.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/mix-07-role-on-every-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/rsn-03-openrouter-reasoning-details.yaml": (
        "max_tokens",
        "stream_options_absent",
        "openrouter_reasoning",
    ),
    "openrouter/rsn-03-reasoning-details-encrypted.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/rsn-03-reasoning-with-empty-details.yaml": ("max_tokens", "stream_options_absent"),
    "openrouter/sse-02-comment-keepalives.yaml": ("max_tokens", "stream_options_absent"),
    "perplexity/mix-08-cumulative-snapshots-instead-of-deltas.yaml": ("max_tokens", "stream_options_absent"),
    "sglang/ant-09-matched-stop-string.yaml": ("max_tokens", "stream_options_absent"),
    "sglang/err-01-error-before-first-token.yaml": ("max_tokens", "stream_options_absent"),
    "sglang/fin-06-two-finish-chunks.yaml": ("max_tokens",),
    "sglang/fin-07-empty-string-finish-reason.yaml": ("max_tokens", "stream_options_absent"),
    "sglang/rsn-06-inline-think-bare-close-tag.yaml": ("max_tokens",),
    "sglang/rsn-06-inline-think-tags-without-option.yaml": ("max_tokens", "stream_options_absent"),
    "sglang/rsn-06-inline-think-tags.yaml": ("max_tokens",),
    "sglang/tc-04-id-repeated-every-chunk.yaml": ("max_tokens",),
    "sglang/tc-07-parallel-calls-all-index-0.yaml": ("max_tokens",),
    "tgi/tc-14-tool-calls-object-not-array.yaml": ("max_tokens", "stream_options_absent"),
    "vertex-openai/sse-03-keepalive-as-data.yaml": ("max_tokens", "stream_options_absent"),
    "vertex/gem-02-signature-on-thought-part.yaml": ("max_tokens", "thinking_budget_dynamic"),
    "vertex/gem-04-parallel-calls-across-chunks.yaml": ("max_tokens", "parameters_key"),
    "vertex/gem-05-stop-with-function-calls.yaml": ("max_tokens", "parameters_key"),
    "vertex/gem-06-finish-chunk-carries-content.yaml": ("max_tokens",),
    "vertex/gem-08-vertex-streamed-args-missing-terminal.yaml": (
        "max_tokens",
        "parameters_key",
        "stream_function_call_arguments",
    ),
    "vertex/gem-08-vertex-streamed-args-nested-jsonpath.yaml": (
        "max_tokens",
        "parameters_key",
        "stream_function_call_arguments",
    ),
    "vertex/gem-08-vertex-streamed-args-value-kinds.yaml": (
        "max_tokens",
        "parameters_key",
        "openapi_nullable",
        "stream_function_call_arguments",
    ),
    "vertex/gem-08-vertex-streamed-function-arguments.yaml": (
        "max_tokens",
        "parameters_key",
        "stream_function_call_arguments",
    ),
    "vertex/gem-09-prompt-blocked-safety.yaml": ("max_tokens",),
    "vertex/gem-10-recitation-terminal-chunk-with-text.yaml": ("max_tokens",),
    "vertex/gem-10-safety-no-content.yaml": ("max_tokens",),
    "vertex/gem-12-unexpected-tool-call-after-text.yaml": ("max_tokens", "thinking_budget_minimum", "thoughts_omitted"),
    "vertex/gem-13-usage-metadata-semantics.yaml": ("max_tokens", "cached_content"),
    "vertex/report-25836-add-numbers.yaml": ("parameters_key",),
    "vllm/ant-09-stop-reason-matched-string.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/ant-09-stop-reason-token-id.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/err-01-data-error-then-done.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/fin-02-tool-calls-without-tool-calls.yaml": ("max_tokens",),
    "vllm/fin-03-tool-args-on-finish-chunk.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/fin-05-stream-cut-no-finish.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/fin-07-missing-finish-reason-key.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/fin-08-data-after-done.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/mix-03-tool-markup-leaks-into-content.yaml": ("max_tokens",),
    "vllm/report-empty-tool-calls-text-lost.yaml": ("stream_options_absent",),
    "vllm/rsn-02-reasoning-and-reasoning-content-duplicated.yaml": ("max_tokens", "stream_options_absent"),
    "vllm/rsn-02-reasoning-field-renamed.yaml": ("max_tokens",),
    "vllm/tc-07-parallel-calls-all-index-0.yaml": ("max_tokens",),
    "vllm/tc-12-arguments-never-emitted.yaml": ("max_tokens",),
    "vllm/tc-12-empty-args-then-second-call.yaml": ("max_tokens",),
    "vllm/tc-13-tool-call-without-usable-id.yaml": ("max_tokens",),
    "vllm/tc-16-truncated-500-mid-stream.yaml": ("stream_options_absent",),
    "vmlx/env-03-tool-call-generating-empty-deltas.yaml": ("max_tokens", "stream_options_absent"),
    "vmlx/tc-03-empty-name-in-opening-delta.yaml": ("max_tokens",),
    "xai/use-04-usage-not-on-last-chunk.yaml": ("max_tokens",),
    "zai/sse-06-data-lines-without-blank-line.yaml": ("max_tokens", "stream_options_absent"),
}

# Requests whose user text is not what was sent: the recorded upstream body itself holds a placeholder.
# Each: (the placeholder as it appears in the request, why). The Anthropic request copies it as it is.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "gemini/gem-09-prompt-blocked-no-candidates.yaml": (
        "(prompt withheld",
        "the blocked prompt was not published; its stand-in is what the recorded upstream request holds",
    ),
    "llama-cpp/err-03-context-overflow-http-400.yaml": (
        "...",
        "the recorded prompt is elided: the real one was 4390 tokens, past the 4096-token context",
    ),
    "llama-cpp/sse-05-error-field-line.yaml": (
        "...",
        "the recorded prompt is elided: the real one exceeded the server's context size",
    ),
    "llama-cpp/sse-10-http-200-json-error.yaml": (
        "...",
        "the recorded prompt is elided: the real one was 14429 tokens, past the 8192-token context",
    ),
    "lm-studio/err-03-silent-empty-stream.yaml": (
        "...",
        "the recorded prompt is elided: the real one was larger than the loaded context",
    ),
    "openrouter/err-02-prompt-too-long.yaml": (
        "...",
        "the recorded prompt is elided: the real one was 1284668 tokens, past the 1000000-token limit",
    ),
    "sglang/err-01-error-before-first-token.yaml": (
        "...",
        "the recorded prompt is elided: the real one was 40960 tokens, past the 32768-token context",
    ),
    "vertex/gem-09-prompt-blocked-safety.yaml": (
        "(prompt withheld",
        "the blocked prompt was not published; its stand-in is what the recorded upstream request holds",
    ),
    "vertex/gem-10-safety-no-content.yaml": (
        "(prompt withheld",
        "the refused prompt was not published; its stand-in is what the recorded upstream request holds",
    ),
}

# Cassettes whose recorded response does not fit their recorded request, each with what does not fit.
REPORTED_REQUESTS: dict[str, str] = {
    "openai-responses/rsp-19-reasoning-item-id-without-store-400.yaml": (
        "the recorded body is the report's own failing request, in another client's item shape (a reasoning item "
        "sent back with its id under store: false, the quirk itself); quirktape's translation leaves the id out"
    ),
}
"""Cassettes whose recorded upstream request is a report's verbatim, not what quirktape would send: they must differ."""

RESPONSE_MISMATCH: dict[str, str] = {
    "mlx-lm/report-finish-chunk-after-tool-call.yaml": (
        "the stream calls read_file, which the recorded request never offers (its only tool is Agent, as in "
        "report-parallel-tool-calls-one-delta): the request body does not belong to this response"
    ),
}


# --------------------------------------------------------------------------------------------------
# 1. Valid Anthropic requests
# --------------------------------------------------------------------------------------------------


class _Sampling(MessageCreateParamsStreaming, total=False):
    """anthropic 2.14's request types no longer list the sampling fields; the Messages API reference
    (wire-formats A2) and both request translators still take them, so they are allowed by name."""

    temperature: float
    top_p: float
    top_k: int


class _Strict(BaseModel):
    """The SDK's request type with unknown fields refused (the setting reaches its nested TypedDicts)."""

    model_config = ConfigDict(extra="forbid")
    request: _Sampling


def _materialize(value):
    """Validated ``Iterable`` fields are lazy: reading them is what validates their items."""
    if isinstance(value, dict):
        return {k: _materialize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or hasattr(value, "__next__"):
        return [_materialize(v) for v in value]
    return value


def _response_models(value) -> list[str]:
    """Blocks the SDK read as response models (``TextBlock``…) instead of request params."""
    if isinstance(value, BaseModel):
        return [type(value).__name__]
    if isinstance(value, dict):
        return [name for v in value.values() for name in _response_models(v)]
    if isinstance(value, list):
        return [name for v in value for name in _response_models(v)]
    return []


def sdk_problems(request: dict) -> list[str]:
    try:
        validated = _materialize(_Strict.model_validate({"request": request}).request)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
    return [f"a block read as the response type {name}" for name in _response_models(validated)]


ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SERVER_TOOL = re.compile(r"^(web_search|code_execution)_\d{8}$")
BLOCKS = {
    "user": {"text", "image", "document", "search_result", "tool_result"},
    "assistant": {"text", "thinking", "redacted_thinking", "tool_use"},
}


def _tool_problems(request: dict) -> tuple[list[str], set[str]]:
    problems: list[str] = []
    custom: set[str] = set()
    names = [t.get("name") for t in request.get("tools") or []]
    if len(names) != len(set(names)):
        problems.append(f"tool names repeat: {names}")
    for tool in request.get("tools") or []:
        if tool.get("type") in (None, "custom"):
            custom.add(tool["name"])
            if not TOOL_NAME.match(tool["name"]):
                problems.append(f"tool name {tool['name']!r} does not match {TOOL_NAME.pattern}")
            schema = tool.get("input_schema") or {}
            if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
                problems.append(f"tool {tool['name']}: input_schema is not a JSON Schema object")
        elif not SERVER_TOOL.match(tool["type"]):
            problems.append(f"unknown server tool {tool['type']}")
    return problems, custom


def _message_problems(request: dict, custom: set[str]) -> list[str]:  # noqa: C901 - one rule per line
    problems: list[str] = []
    messages = request["messages"]
    if not messages or messages[0]["role"] != "user":
        problems.append("the first message must be a user turn")
    waiting: list[str] = []  # tool_use ids the next user turn must answer
    seen: set[str] = set()
    for n, message in enumerate(messages):
        role, content = message["role"], message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not blocks:
            problems.append(f"messages.{n}: empty content")
        for block in blocks:
            if block["type"] not in BLOCKS.get(role, set()):
                problems.append(f"messages.{n}: a {block['type']} block in a {role} turn")
            if block["type"] == "text" and not block["text"]:
                problems.append(f"messages.{n}: empty text block")
        results = [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]
        if role == "user":
            if sorted(results) != sorted(waiting):
                problems.append(f"messages.{n}: tool results {results} do not answer the tool uses {waiting}")
            if [b["type"] for b in blocks[: len(results)]] != ["tool_result"] * len(results):
                problems.append(f"messages.{n}: tool_result blocks must come first")
            waiting = []
        else:
            if waiting:
                problems.append(f"messages.{n}: tool uses {waiting} were never answered")
            uses = [b for b in blocks if b["type"] == "tool_use"]
            for use in uses:
                if not ID.match(use["id"]) or use["id"] in seen:
                    problems.append(f"messages.{n}: tool_use id {use['id']!r} is malformed or repeated")
                if use["name"] not in custom:
                    problems.append(f"messages.{n}: tool_use of {use['name']!r}, which the request does not offer")
                if not isinstance(use["input"], dict):
                    problems.append(f"messages.{n}: tool_use input is not an object")
                seen.add(use["id"])
            waiting = [u["id"] for u in uses]
            if any(b["type"] == "thinking" and not b.get("signature") for b in blocks):
                problems.append(f"messages.{n}: a thinking block without its signature")
    if waiting:
        problems.append("the request ends on tool uses without their results")
    return problems


def _settings_problems(request: dict, custom: set[str]) -> list[str]:
    problems: list[str] = []
    if request.get("stream") is not True:
        problems.append("metadata.request is the streamed interaction's request: stream must be true")
    if request["max_tokens"] < 1:
        problems.append("max_tokens must be positive")
    choice = request.get("tool_choice")
    if choice and not request.get("tools"):
        problems.append("tool_choice without tools")
    if choice and choice["type"] == "tool" and choice.get("name") not in custom:
        problems.append(f"tool_choice names {choice.get('name')!r}, which the request does not offer")
    thinking = request.get("thinking") or {}
    if thinking.get("type") == "enabled" and not 1024 <= thinking["budget_tokens"] < request["max_tokens"]:
        problems.append("thinking budget_tokens must be at least 1024 and below max_tokens")
    if thinking.get("type") in ("enabled", "adaptive"):
        if choice and choice["type"] in ("any", "tool"):
            problems.append("thinking cannot be combined with forced tool use")
        if request["messages"][-1]["role"] == "assistant":
            problems.append("thinking cannot be combined with an assistant prefill")
        if any(k in request for k in ("temperature", "top_p", "top_k")):
            problems.append("thinking cannot be combined with changed sampling")
    return problems


def request_problems(request: dict) -> list[str]:
    """What the real API would refuse in this request (empty when it is a valid Anthropic request)."""
    problems = sdk_problems(request)
    if problems:
        return problems
    tool_problems, custom = _tool_problems(request)
    return tool_problems + _message_problems(request, custom) + _settings_problems(request, custom)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_cassette_carries_a_valid_anthropic_request(path):
    request = load(path).metadata.request
    assert request is not None, "no metadata.request"
    assert request_problems(request) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"temperature_": 1}, "Extra inputs are not permitted"),
        ({"messages": [{"role": "human", "content": "hi"}]}, "Input should be 'user'"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "x": 1}]}]}, "response type"),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]}]},
            "a tool_use block in a user turn",
        ),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}, "prefill"),
        ({"tools": [{"name": "f", "input_schema": {"type": "OBJECT"}}]}, "JSON Schema object"),
        ({"tool_choice": {"type": "tool", "name": "g"}}, "does not offer"),
        ({"thinking": {"type": "enabled", "budget_tokens": 512}}, "at least 1024"),
        ({"stream": False}, "Input should be True"),
    ],
)
def test_the_validity_check_refuses_what_the_api_refuses(change, problem):
    request = {
        "model": "m",
        "max_tokens": 4096,
        "stream": True,
        "thinking": {"type": "adaptive"},
        "tools": [{"name": "f", "input_schema": {"type": "object", "properties": {}}}],
        "messages": [{"role": "user", "content": "hi"}],
    }
    problems = request_problems({**request, **change})
    assert problems and any(problem in p for p in problems), problems


def test_tool_use_and_tool_result_must_pair():
    use = {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}
    request = {
        "model": "m",
        "max_tokens": 4096,
        "stream": True,
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "ok"}]},
        ],
    }
    assert request_problems(request) == []
    wrong = copy.deepcopy(request)
    wrong["messages"][2]["content"][0]["tool_use_id"] = "call_2"
    assert any("do not answer" in p for p in request_problems(wrong))
    unanswered = copy.deepcopy(request)
    unanswered["messages"][2]["content"] = "and?"
    assert any("do not answer" in p for p in request_problems(unanswered))


# --------------------------------------------------------------------------------------------------
# 2 and 3. The translation gives back the upstream request, modulo declared and needed differences
# --------------------------------------------------------------------------------------------------


def _key(path: Path) -> str:
    return path.relative_to(CASSETTES).as_posix()


def _streams(cassette: Cassette) -> list[bool]:
    """Per interaction, whether its request asked to stream, read off the recorded request itself
    (an HTTP error answers a streaming request with one JSON body, so the response cannot tell)."""
    out = []
    for interaction in cassette.interactions:
        if interaction.response.quirktape.dialect == "gemini":
            out.append(":streamgeneratecontent" in interaction.request.uri.lower())
        else:
            body = json.loads(interaction.request.body or "null")
            out.append(isinstance(body, dict) and body.get("stream") is True)
    return out


def translations(cassette: Cassette) -> list[tuple[dict, dict]]:
    """(translated, recorded upstream body) for each interaction."""
    request = cassette.metadata.request or {}
    pairs = []
    for interaction, stream in zip(cassette.interactions, _streams(cassette)):
        upstream = json.loads(interaction.request.body or "null")
        dialect = interaction.response.quirktape.dialect
        if dialect == "gemini":
            ours = to_gemini_request(request)
        elif dialect == "responses":
            ours = to_responses_request(request, stream=stream)
        else:
            ours = to_openai_request(request, stream=stream)
        pairs.append((ours, upstream))
    return pairs


def mismatches(request: dict, pairs: list[tuple[dict, dict]], kinds: tuple[str, ...]) -> list[str]:
    """The interactions whose translation differs from the upstream once ``kinds`` are undone."""
    out = []
    for n, (ours, theirs) in enumerate(pairs):
        ours, theirs = copy.deepcopy(ours), copy.deepcopy(theirs)
        for kind, (_, undo) in KINDS.items():  # in KINDS' order: a vendor field is renamed before it is compared
            if kind in kinds:
                undo(copy.deepcopy(request), ours, theirs)
        if ours != theirs:
            keys = sorted(k for k in {*ours, *theirs} if ours.get(k) != theirs.get(k))
            out.append(f"interaction {n}: {', '.join(keys)} differ")
    return out


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_the_request_translates_into_the_recorded_upstream_request(path):
    cassette = load(path)
    request = cassette.metadata.request
    assert request is not None, "no metadata.request"
    kinds = DIFFERENCES.get(_key(path), ())
    pairs = translations(cassette)
    if _key(path) in REPORTED_REQUESTS:
        assert mismatches(request, pairs, kinds), "the declared reported request now translates: drop the entry"
        return
    assert mismatches(request, pairs, kinds) == []
    for kind in kinds:
        others = tuple(k for k in kinds if k != kind)
        assert mismatches(request, pairs, others), f"declared difference {kind!r} is no longer needed"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_the_request_names_the_upstream_model_and_endpoint(path):
    cassette = load(path)
    request = cassette.metadata.request or {}
    for interaction, stream in zip(cassette.interactions, _streams(cassette)):
        uri = interaction.request.uri
        if interaction.response.quirktape.dialect == "gemini":
            model, _, method = uri.split("/models/", 1)[1].partition(":")
            assert model == request["model"]
            assert method.split("?")[0] == ("streamGenerateContent" if stream else "generateContent")
        else:
            endpoint = "/responses" if interaction.response.quirktape.dialect == "responses" else "/chat/completions"
            assert uri.endswith(endpoint)
            assert json.loads(interaction.request.body)["model"] == request["model"]


def test_the_declarations_name_real_cassettes_and_kinds():
    keys = set(IDS)
    assert set(DIFFERENCES) <= keys
    assert set(PLACEHOLDERS) <= keys
    assert set(RESPONSE_MISMATCH) <= keys
    assert set(REPORTED_REQUESTS) <= keys
    assert {k for kinds in DIFFERENCES.values() for k in kinds} <= set(KINDS)
    assert all(len(set(kinds)) == len(kinds) for kinds in DIFFERENCES.values())


PLACEHOLDER = re.compile(r"\.\.\.\s*$|\(prompt withheld")


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_placeholders_are_declared(path):
    request = load(path).metadata.request or {}
    texts = [m["content"] for m in request.get("messages", []) if isinstance(m["content"], str)]
    found = [t for t in texts if PLACEHOLDER.search(t)]
    declared = PLACEHOLDERS.get(_key(path))
    if declared is None:
        assert found == [], "an undeclared placeholder"
    else:
        assert any(declared[0] in t for t in found), f"the declared placeholder {declared[0]!r} is gone"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_the_expected_tool_calls_use_tools_the_request_offers(path):
    cassette = load(path)
    offered = {t["name"] for t in (cassette.metadata.request or {}).get("tools") or []}
    expect = cassette.metadata.expect
    called = [b.get("name") for b in (expect.content or []) if b.get("type") == "tool_use"] if expect else []
    called = [name for name in called if name is not None]
    strangers = [name for name in called if name not in offered]
    if _key(path) in RESPONSE_MISMATCH:
        assert strangers, "the declared response mismatch is gone"
    else:
        assert strangers == []
