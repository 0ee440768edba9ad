"""OpenTelemetry tracing, on when ``PULSE_OTEL_ENDPOINT`` names an OTLP/HTTP collector.

A chat turn is then one trace: the HTTP request (FastAPI's own spans, which use this provider), the
Temporal client's StartWorkflow, the workflow run and each activity (Temporal's
``TracingInterceptor``, added in ``workflows.client``, carries the context through workflow
headers, across processes). Span names and attributes hold route templates, workflow and
activity types — never message text.
Nothing is imported unless it is configured, so a process without a collector pays nothing."""

from __future__ import annotations

from core.settings import Settings

_configured = False


def tracing_enabled(settings: Settings) -> bool:
    return bool(settings.otel_endpoint)


def configure_tracing(settings: Settings, service_name: str) -> bool:
    """Install the process's tracer provider (once) exporting in batches to the collector."""
    global _configured
    if not tracing_enabled(settings) or _configured:
        return _configured
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service_name, "deployment.environment": settings.env.value})
    provider = TracerProvider(resource=resource)
    endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True
    return True
