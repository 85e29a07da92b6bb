/**
 * OpenTelemetry for the TypeScript services. Started once, before anything else is imported (see
 * register.ts), so the gRPC, HTTP, PostgreSQL, Redis, Kafka and pino modules are patched as they
 * load. W3C trace context crosses every gRPC and HTTP call, and Kafka messages carry their own
 * order's context in their headers (kafka-trace.ts).
 *
 * Configured by the standard variables: OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT (spans
 * go over OTLP/HTTP to `<endpoint>/v1/traces`; without it spans are still made, so logs carry
 * trace ids, but sent nowhere), OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default
 * parent-based, always on), OTEL_SDK_DISABLED=true to turn everything off.
 */
import { type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { PinoInstrumentation } from "@opentelemetry/instrumentation-pino";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export interface TracingOptions {
  readonly serviceName: string;
  /** OTLP/HTTP base URL (spans go to `<endpoint>/v1/traces`); undefined: spans are made but not exported. */
  readonly otlpEndpoint?: string;
}

interface Started {
  readonly sdk: NodeSDK;
  readonly options: TracingOptions;
  readonly peers: BasicTracerProvider[];
}

let started: Started | undefined;

const exporterFor = (endpoint: string) => new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` });

/** Ends spans without sending them: the SDK registers no provider without a processor, and logs would lose their trace ids. */
const keepNothing: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

const processorsFor = (options: TracingOptions): SpanProcessor[] => [options.otlpEndpoint ? new BatchSpanProcessor(exporterFor(options.otlpEndpoint)) : keepNothing];

/** Starts the SDK for this process; a second call does nothing. */
export function startTracing(options: TracingOptions): void {
  if (started) return;
  // Metrics are prom-client's and logs are pino's: the SDK exports neither unless told to.
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processorsFor(options),
    instrumentations: [
      new HttpInstrumentation(),
      new GrpcInstrumentation(),
      // Spans of pool.connect and of queries outside a traced request are noise.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // Not the kafkajs instrumentation: it parents every message of a batch on the batch's context
      // and overwrites their traceparent, while a projection batch carries the events of many
      // orders, each of its own trace. The projection and the consumers carry trace context per
      // message themselves (kafka-trace.ts).
      new PinoInstrumentation(),
    ],
  });
  sdk.start();
  started = { sdk, options, peers: [] };
}

/**
 * A tracer whose spans carry another service's name, for work this process measures on that
 * service's behalf (the engine reports its timings in each acknowledgement; its spans are built
 * here). Spans still join the caller's trace through the active context.
 */
export function peerServiceTracer(serviceName: string): Tracer {
  if (!started) return trace.getTracer(serviceName);
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }), spanProcessors: processorsFor(started.options) });
  started.peers.push(provider);
  return provider.getTracer(serviceName);
}

/** Sends the spans still buffered and stops; call it last on shutdown. */
export async function shutdownTracing(): Promise<void> {
  if (!started) return;
  const { sdk, peers } = started;
  started = undefined;
  await Promise.all([sdk.shutdown(), ...peers.map((p) => p.shutdown())]);
}
