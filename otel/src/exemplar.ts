import { TraceFlags, isSpanContextValid, trace } from "@opentelemetry/api";

/**
 * Exemplar labels for a histogram observation made under the active span, when that span is
 * sampled (an unsampled trace id leads nowhere in Jaeger): `{ trace_id }`, else none.
 */
export function traceExemplar(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) && (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0 ? { trace_id: spanContext.traceId } : {};
}
