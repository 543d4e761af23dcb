"""OpenTelemetry tracing with the W3C context carried in Kafka headers.

One lot is one trace: ingest starts it (or continues the caller's) in SubmitLot and stamps every
FSE with it; each stage continues the record's context into what it produces. Spans are
exported when OTEL_TRACES_EXPORTER (or OTEL_EXPORTER_OTLP_ENDPOINT) says where; otherwise ids
still propagate, unsampled, so a trace can be followed in the records' headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
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


@contextmanager
def continued(tracer: trace.Tracer, name: str, headers: Headers) -> Iterator[Headers]:
    """Continue a record's trace for one unit of work; yield the headers for its output.

    An unsampled context is forwarded as is (same trace id, no span cost): that is the
    throughput path. A sampled one gets a consumer span, child of the producer's.
    """
    parent = next((v for k, v in headers if k == H_TRACEPARENT), None)
    if parent is None or not _sampled(parent):
        yield [(k, v) for k, v in headers if k in (H_TRACEPARENT, "tracestate")]
        return
    ctx = propagate.extract(headers, getter=HEADER_GETTER)
    token = otel_context.attach(ctx)
    try:
        with tracer.start_as_current_span(name, kind=trace.SpanKind.CONSUMER):
            yield inject_headers()
    finally:
        otel_context.detach(token)
