"""Langfuse exports -> OTel spans: traces and observations (legacy and v2 API shapes).

A Langfuse export holds trace objects (each may carry its `observations`) and/or
observation objects (with `traceId`), as a JSON array, JSON lines, or an API page
`{"data": [...]}`. Each observation becomes a span in the OpenInference vocabulary
the OTLP mapping already speaks; a trace becomes the root span its parentless
observations hang under, and its `sessionId` names the AgentLog session.
"""

from __future__ import annotations

from typing import Any

from agentlog.otel.mapping import Span
from agentlog.otel.peer_fields import first, flatten, json_text, nanos

# Langfuse observation type -> OpenInference span kind (the mapping's vocabulary).
_KINDS = {
    "GENERATION": "LLM",
    "EMBEDDING": "EMBEDDING",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "CHAIN": "CHAIN",
    "RETRIEVER": "RETRIEVER",
    "EVALUATOR": "EVALUATOR",
    "GUARDRAIL": "GUARDRAIL",
    "SPAN": "CHAIN",
}
TRACE_SPAN_PREFIX = "trace:"


def is_observation(record: dict[str, Any]) -> bool:
    return "traceId" in record or "trace_id" in record


def trace_span(record: dict[str, Any]) -> Span:
    """A Langfuse trace as the root span of its observations."""
    trace_id = _required(record, "id")
    start = nanos(_required(record, "timestamp"), "timestamp")
    latency = record.get("latency")  # seconds, when the export has it
    end = start + int(float(latency) * 1e9) if isinstance(latency, int | float) else start
    attrs: dict[str, Any] = {"openinference.span.kind": "CHAIN"}
    _common(record, attrs)
    cost = first(record, "totalCost", "calculatedTotalCost")
    if isinstance(cost, int | float):
        attrs["agentlog.cost_usd"] = cost
    return Span(
        trace_id=trace_id,
        span_id=TRACE_SPAN_PREFIX + trace_id,
        name=str(record.get("name") or "trace"),
        start_unix_nano=start,
        end_unix_nano=max(end, start),
        attributes=attrs,
    )


def observation_span(record: dict[str, Any], *, under_trace: bool) -> Span:
    """One Langfuse observation; `under_trace` when its trace is in the file (a parent span)."""
    obs_id = _required(record, "id")
    trace_id = str(first(record, "traceId", "trace_id") or "")
    if not trace_id:
        raise ValueError("observation has no traceId")
    kind = str(record.get("type") or "SPAN").upper()
    start = nanos(_required(record, "startTime", "start_time"), "startTime")
    end_raw = first(record, "endTime", "end_time")
    end = nanos(end_raw, "endTime") if end_raw is not None else start
    attrs: dict[str, Any] = {"langfuse.observation.type": kind}
    if kind == "EVENT":
        attrs["agentlog.event.type"] = "LOG"  # a point in time, not a step with a span
    else:
        attrs["openinference.span.kind"] = _KINDS.get(kind, "CHAIN")
    _common(record, attrs)
    name = str(record.get("name") or kind.lower())
    model = record.get("model")
    if model:
        attrs["llm.model_name"] = str(model)
    if kind == "TOOL":
        attrs["tool.name"] = name
    if kind == "AGENT":
        attrs["agent.name"] = name
    _usage(record, attrs)
    cost = _cost(record)
    if cost is not None:
        attrs["agentlog.cost_usd"] = cost
    for key in ("modelParameters", "completionStartTime", "promptName", "promptVersion"):
        if record.get(key) not in (None, "", {}):
            attrs[f"langfuse.{key}"] = record[key]
    parent = str(first(record, "parentObservationId", "parent_observation_id") or "")
    if not parent and under_trace:
        parent = TRACE_SPAN_PREFIX + trace_id
    level = str(record.get("level") or "DEFAULT").upper()
    status_message = str(first(record, "statusMessage", "status_message") or "")
    if level not in ("DEFAULT", "ERROR"):
        attrs["langfuse.level"] = level
    return Span(
        trace_id=trace_id,
        span_id=obs_id,
        parent_span_id=parent,
        name=name,
        start_unix_nano=start,
        end_unix_nano=max(end, start),
        attributes=attrs,
        status_code=2 if level == "ERROR" else 0,
        status_message=status_message,
    )


def spans_of(record: dict[str, Any], traces_in_file: set[str]) -> list[Span]:
    """The spans one exported record holds (a trace with its observations, or one observation)."""
    if is_observation(record):
        trace_id = str(first(record, "traceId", "trace_id") or "")
        return [observation_span(record, under_trace=trace_id in traces_in_file)]
    spans = [trace_span(record)]
    for obs in record.get("observations") or []:
        if isinstance(obs, dict):  # a trace listing only observation ids carries nothing more
            obs = {"traceId": record["id"], **obs}
            spans.append(observation_span(obs, under_trace=True))
    return spans


def _common(record: dict[str, Any], attrs: dict[str, Any]) -> None:
    session = first(record, "sessionId", "session_id")
    if session is not None:
        attrs["langfuse.session.id"] = str(session)
    for key, attr in (("input", "input.value"), ("output", "output.value")):
        text = json_text(record.get(key))
        if text is not None:
            attrs[attr] = text
    user = first(record, "userId", "user_id")
    if user is not None:
        attrs["user.id"] = str(user)
    for key in ("tags", "release", "version", "environment"):
        if record.get(key) not in (None, "", []):
            attrs[f"langfuse.{key}"] = record[key]
    if isinstance(record.get("metadata"), dict) and record["metadata"]:
        attrs.update(flatten(record["metadata"], "langfuse.metadata."))


def _usage(record: dict[str, Any], attrs: dict[str, Any]) -> None:
    details = record.get("usageDetails") or record.get("usage_details") or {}
    usage = record.get("usage") or {}
    source = {
        **(usage if isinstance(usage, dict) else {}),
        **(details if isinstance(details, dict) else {}),
    }
    prompt = first(source, "input", "promptTokens", "prompt_tokens", "input_tokens")
    completion = first(source, "output", "completionTokens", "completion_tokens", "output_tokens")
    if prompt is None:
        prompt = first(record, "promptTokens", "inputUsage")
    if completion is None:
        completion = first(record, "completionTokens", "outputUsage")
    if isinstance(prompt, int | float):
        attrs["llm.token_count.prompt"] = int(prompt)
    if isinstance(completion, int | float):
        attrs["llm.token_count.completion"] = int(completion)
    rest = {
        k: v
        for k, v in source.items()
        if k not in ("input", "output", "total", "unit") and isinstance(v, int | float)
    }
    if rest:  # cache-read / cache-creation and other per-kind counts
        attrs.update({f"langfuse.usage.{k}": v for k, v in rest.items()})


def _cost(record: dict[str, Any]) -> float | None:
    cost = first(record, "calculatedTotalCost", "totalCost", "calculated_total_cost")
    if cost is None and isinstance(record.get("costDetails"), dict):
        cost = record["costDetails"].get("total")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return float(cost)
    return None


def _required(record: dict[str, Any], *keys: str) -> Any:
    value = first(record, *keys)
    if value is None:
        raise ValueError(f"{keys[0]} is missing")
    return str(value) if keys[0] == "id" else value
