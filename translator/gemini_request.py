"""Anthropic Messages request -> Gemini ``GenerateContentRequest`` body.

Used to record and serve Gemini upstreams from an Anthropic client's request.
The part that matters most: every thought signature the stream carried (in a
thinking block's ``signature``, see ``gemini.py``) goes back onto the part it
came from, or Gemini answers 400 "Function call is missing a thought_signature".
"""

from __future__ import annotations

from .content import blocks, text_of
from .gemini import decode_signature

TOOL_CHOICE = {"auto": "AUTO", "any": "ANY", "tool": "ANY", "none": "NONE"}
SKIP_SIGNATURE = "skip_thought_signature_validator"
"""Google's documented stand-in for a call whose signature is gone (e.g. made by another model)."""


def _media(block: dict) -> dict | None:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        return {"inlineData": {"mimeType": source.get("media_type", ""), "data": source.get("data", "")}}
    if source.get("type") == "url":
        return {"fileData": {"mimeType": source.get("media_type", "image/*"), "fileUri": source.get("url", "")}}
    return None


def _upstream_id(block_id: str) -> str | None:
    """Gemini's own call ids go back; ids this translator minted (``toolu_…``) do not exist upstream."""
    return block_id if block_id and not block_id.startswith("toolu_") else None


def _parts(content: list[dict], names: dict[str, str]) -> list[dict]:  # noqa: C901 - one case per block type
    parts: list[dict] = []
    waiting: dict[str, str] = {}  # place -> signature waiting for the part it rode on
    for block in content:
        kind = block.get("type")
        if kind == "thinking":
            signature = decode_signature(block.get("signature") or "")
            if signature is None:
                continue  # reasoning without a Gemini signature is not needed upstream
            place, raw = signature
            if place == "thought":
                parts.append({"text": block.get("thinking", ""), "thought": True, "thoughtSignature": raw})
            elif place == "tail":
                parts.append({"text": "", "thoughtSignature": raw})
            else:
                waiting[place] = raw
        elif kind == "text":
            if not block.get("text") and "text" not in waiting:
                continue  # Vertex rejects empty text parts
            part: dict = {"text": block.get("text", "")}
            if "text" in waiting:
                part["thoughtSignature"] = waiting.pop("text")
            parts.append(part)
        elif kind == "image" or kind == "document":
            media = _media(block)
            if media:
                parts.append(media)
        elif kind == "tool_use":
            names[block.get("id", "")] = block.get("name", "")
            call: dict = {"name": block.get("name", ""), "args": block.get("input") or {}}
            if _upstream_id(block.get("id", "")):
                call["id"] = block["id"]
            part = {"functionCall": call}
            if "call" in waiting:
                part["thoughtSignature"] = waiting.pop("call")
            parts.append(part)
        elif kind == "tool_result":
            use_id = block.get("tool_use_id", "")
            text = text_of(block.get("content"))
            response: dict = {"error": text} if block.get("is_error") else {"output": text}
            reply: dict = {"name": names.get(use_id, use_id), "response": response}
            if _upstream_id(use_id):
                reply["id"] = use_id
            parts.append({"functionResponse": reply})
    for raw in waiting.values():  # a signature whose part never came back still goes back
        parts.append({"text": "", "thoughtSignature": raw})
    return parts


def _generation_config(request: dict) -> dict:
    config: dict = {}
    if "max_tokens" in request:
        config["maxOutputTokens"] = request["max_tokens"]
    for ours, theirs in (
        ("stop_sequences", "stopSequences"),
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
    ):
        if request.get(ours) is not None:
            config[theirs] = request[ours]
    thinking = request.get("thinking") or {}
    if thinking.get("type") == "enabled":
        config["thinkingConfig"] = {"includeThoughts": True, "thinkingBudget": thinking.get("budget_tokens", -1)}
    elif thinking.get("type") == "adaptive":
        config["thinkingConfig"] = {"includeThoughts": True, "thinkingBudget": -1}
    elif thinking.get("type") == "disabled":
        config["thinkingConfig"] = {"thinkingBudget": 0}
    return config


def to_gemini_request(request: dict) -> dict:
    """The Gemini request body for an Anthropic Messages request (model and streaming go in the URL)."""
    body: dict = {"contents": []}
    system = request.get("system")
    if system:
        body["systemInstruction"] = {"parts": [{"text": text_of(system)}]}
    names: dict[str, str] = {}
    contents = body["contents"]
    for message in request.get("messages", []):
        parts = _parts(blocks(message.get("content")), names)
        role = "model" if message.get("role") == "assistant" else "user"
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:  # one Gemini turn per run of same-role messages
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    for content in contents:
        calls = [p for p in content["parts"] if "functionCall" in p]
        if content["role"] == "model" and calls and not any("thoughtSignature" in p for p in calls):
            calls[0]["thoughtSignature"] = SKIP_SIGNATURE  # Gemini 3 answers 400 without one
    tools = [t for t in request.get("tools") or [] if t.get("type") in (None, "custom")]
    if tools:
        declarations = [
            {
                "name": t["name"],
                "description": t.get("description", ""),
                "parametersJsonSchema": t.get("input_schema", {}),
            }
            for t in tools
        ]
        body["tools"] = [{"functionDeclarations": declarations}]
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in TOOL_CHOICE:
        calling: dict = {"mode": TOOL_CHOICE[choice["type"]]}
        if choice["type"] == "tool":
            calling["allowedFunctionNames"] = [choice.get("name", "")]
        body["toolConfig"] = {"functionCallingConfig": calling}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    return body
