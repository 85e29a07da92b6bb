import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { type Server as TlsServer, createServer as createTlsServer } from "node:https";
import { type OpenMetricsContentType, Registry, collectDefaultMetrics } from "prom-client";
import { type ServerTls, tlsServerOptions } from "./tls.js";

export interface MetricsRegistryOptions {
  /** The service name, a default label on every series. */
  readonly service: string;
  /** Also collect Node's process metrics (event loop lag, heap, GC). Default true. */
  readonly processMetrics?: boolean;
}

/** A service's registry: OpenMetrics exposition, the format that carries exemplars (trace ids on histogram buckets). */
export type MetricsRegistry = Registry<OpenMetricsContentType>;

/** An empty registry of the services' kind, for metrics a test creates without a service. */
export function emptyMetricsRegistry(): MetricsRegistry {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

/**
 * Creates the registry a service registers all its metrics in and serves at `/metrics`. One
 * registry per service (not prom-client's global one) keeps tests that start several services in
 * one process from colliding.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): MetricsRegistry {
  const registry = emptyMetricsRegistry();
  registry.setDefaultLabels({ service: options.service });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Histogram buckets for latencies measured in microseconds: 10 µs to 1 s. */
export const microsecondBuckets = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];

/** Histogram buckets for latencies measured in seconds: 100 µs to 10 s. */
export const secondBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Serves `registry` at GET /metrics on `hostPort` ("127.0.0.1:9465"; port 0 picks a free one),
 * over HTTPS when `tls` is given (a scraper then needs a client certificate if `tls.clientCa` is
 * set). Resolves once listening, with the address it listens on.
 */
export async function serveMetrics(registry: MetricsRegistry, hostPort: string, tls?: ServerTls): Promise<{ server: Server | TlsServer; address: string }> {
  const respond = (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found; metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { "content-type": "text/plain" }).end(`collecting metrics failed: ${error.message}\n`),
    );
  };
  const server = tls ? createTlsServer(tlsServerOptions(tls), respond) : createServer(respond);
  const separator = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(hostPort.slice(separator + 1)), host, () => resolve());
  });
  const bound = server.address();
  return { server, address: typeof bound === "object" && bound ? `${host.includes(":") ? `[${host}]` : host}:${bound.port}` : hostPort };
}
