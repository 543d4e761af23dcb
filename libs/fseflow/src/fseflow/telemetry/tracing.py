"""OpenTelemetry tracing with the W3C context carried in Kafka headers.

One lot is one trace: ingest starts it (or continues the caller's) in SubmitLot and stamps every
FSE with it; each stage continues the record's context into what it produces. Spans are
exported when OTEL_TRACES_EXPORTER (or OTEL_EXPORTER_OTLP_ENDPOINT) says where; otherwise ids
still propagate, unsampled, so a trace can be followed in the records' headers.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from fseflow.codec import H_TRACEPARENT
from fseflow.kafka.base import Headers

_configured = False


class _HeaderGetter(Getter[Headers]):
    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [v.decode("ascii", "replace") for k, v in carrier if k == key]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [k for k, _ in carrier]


class _HeaderSetter(Setter[Headers]):
    def set(self, carrier: Headers, key: str, value: str) -> None:
        carrier.append((key, value.encode("ascii")))


HEADER_GETTER = _HeaderGetter()
HEADER_SETTER = _HeaderSetter()


def setup_tracing(service: str, environ: Mapping[str, str]) -> None:
    """Install the SDK once per process. ``environ`` is the process environment (OTEL_*)."""
    global _configured
    if _configured:
        return
    _configured = True
    exporter_name = environ.get("OTEL_TRACES_EXPORTER", "")
    if not exporter_name:
        exporter_name = "otlp" if environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") else "none"
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service)})
    if exporter_name == "none" and "OTEL_TRACES_SAMPLER" not in environ:
        # Nothing would read recorded spans: keep ids flowing, record nothing.
        provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(0.0)))
    else:
        provider = TracerProvider(resource=resource)  # sampler from OTEL_TRACES_SAMPLER
    if exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def inject_headers() -> Headers:
    """Trace headers for a record produced in the current context."""
    headers: Headers = []
    propagate.inject(headers, setter=HEADER_SETTER)
    return headers


def _sampled(traceparent: bytes) -> bool:
    # traceparent = version "-" trace-id "-" parent-id "-" flags; bit 0 of flags is "sampled".
    return len(traceparent) >= 55 and int(traceparent[-2:], 16) & 1 == 1


def continue_trace(
    tracer: trace.Tracer, name: str, headers: Headers, attributes: dict[str, str] | None = None
) -> Headers:
    """Trace headers for the record a stage derives from a consumed one: same trace.

    An unsampled context is forwarded as is (same trace id, no span cost): that is the
    throughput path. A sampled one gets a consumer span, child of the producer's, carrying
    ``attributes``; the derived record continues from that span.
    """
    parent = None
    for key, value in headers:
        if key == H_TRACEPARENT:
            parent = value
            break
    if parent is None:
        return []
    if not _sampled(parent):
        return [(H_TRACEPARENT, parent)]
    ctx = propagate.extract(headers, getter=HEADER_GETTER)
    span = tracer.start_span(name, context=ctx, kind=trace.SpanKind.CONSUMER, attributes=attributes)
    carried: Headers = []
    propagate.inject(carried, context=trace.set_span_in_context(span), setter=HEADER_SETTER)
    span.end()
    return carried
