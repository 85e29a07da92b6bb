/**
 * W3C trace context in Kafka message headers, one message at a time: a producer writes the
 * context of the work the message reports (an order's trace), a consumer continues that trace.
 */
import { type Context, ROOT_CONTEXT, type TextMapGetter, context, propagation } from "@opentelemetry/api";

type Headers = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/** The `traceparent` (and `tracestate`) of `ctx` as Kafka headers; empty when `ctx` carries no span. */
export function traceHeaders(ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

/** The context a message's headers carry, to start the consumer's span in; the root when they carry none. */
export function contextOfHeaders(headers: Headers | undefined): Context {
  return headers ? propagation.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
}

/** The active context, for code that hands a context on. */
export const activeContext = (): Context => context.active();
