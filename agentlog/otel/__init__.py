"""OpenTelemetry in and out: OTLP spans become AgentLog events (see `mapping`)."""
