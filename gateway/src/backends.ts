import * as net from "node:net";
import * as tls from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@hft/contract/es/grpc/health/v1/health_pb.js";
import { type ClientTls, minTlsVersion } from "@hft/service-kit";

/** One backend process serving some of the public services over gRPC. */
export interface Backend {
  /** `host:port`, for logs and /health. */
  readonly address: string;
  readonly transport: Transport;
  /** Asks the backend's grpc.health.v1 service about `service`; never throws. */
  check(service: string, timeoutMs: number): Promise<{ up: boolean; status: string }>;
  close(): void;
}

export interface BackendOptions {
  readonly address: string;
  /** Largest message accepted from the backend, in bytes. */
  readonly readMaxBytes: number;
  /** TLS to the backend, verified against `tls.ca` under the address's host; cleartext (h2c) without it. */
  readonly tls?: ClientTls;
}

/**
 * A gRPC link to `address` over one HTTP/2 connection, kept warm by pings (every 10 s, also while
 * idle) so the first call after a quiet period does not pay for a reconnect, and reconnecting by
 * itself after the backend restarts.
 */
export function createBackend(options: BackendOptions): Backend {
  const baseUrl = `${options.tls ? "https" : "http"}://${options.address}`;
  const [host, port] = [options.address.slice(0, options.address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1"), Number(options.address.slice(options.address.lastIndexOf(":") + 1))];
  const secure = options.tls;
  const sessionManager = new Http2SessionManager(
    baseUrl,
    { pingIntervalMs: 10_000, pingIdleConnection: true, pingTimeoutMs: 5_000, connectTimeoutMs: 5_000 },
    // Nagle off: a small response frame must not wait for the ACK of the previous one.
    {
      createConnection: secure
        ? () =>
            tls
              .connect({
                host,
                port,
                // The certificate must name the host dialed; SNI carries names only, never an IP.
                ...(net.isIP(host) === 0 && { servername: host }),
                ca: secure.ca,
                ...(secure.cert && secure.key && { cert: secure.cert, key: secure.key }),
                minVersion: minTlsVersion,
                ALPNProtocols: ["h2"],
              })
              .setNoDelay(true)
        : () => net.connect({ host, port, noDelay: true }),
    },
  );
  const transport = createGrpcTransport({ baseUrl, sessionManager, readMaxBytes: options.readMaxBytes });
  return {
    address: options.address,
    transport,
    async check(service, timeoutMs) {
      try {
        const response = await transport.unary(Health.method.check, undefined, timeoutMs, undefined, { service });
        const status = HealthCheckResponse_ServingStatus[response.message.status] ?? String(response.message.status);
        return { up: response.message.status === HealthCheckResponse_ServingStatus.SERVING, status };
      } catch (error) {
        return { up: false, status: error instanceof Error ? error.message : String(error) };
      }
    },
    close() {
      sessionManager.abort();
    },
  };
}

/** Where each public service is forwarded. */
export interface BackendRoutes {
  /** The backend of a service, by its full name (`hft.v1.OrderService`). */
  backendOf(service: DescService): Backend;
  /** Each service with its backend, for /health. */
  readonly services: readonly { readonly service: DescService; readonly backend: Backend }[];
  close(): void;
}

/**
 * Routes each service to the backend at its address; services at the same address share one
 * backend (one HTTP/2 connection), as OrderService and MarketDataService do in the order service.
 */
export function createBackendRoutes(assignments: readonly { readonly service: DescService; readonly address: string }[], readMaxBytes: number, tls?: ClientTls): BackendRoutes {
  const byAddress = new Map<string, Backend>();
  const services = assignments.map(({ service, address }) => {
    let backend = byAddress.get(address);
    if (!backend) byAddress.set(address, (backend = createBackend({ address, readMaxBytes, tls })));
    return { service, backend };
  });
  const byService = new Map(services.map((entry) => [entry.service.typeName, entry.backend]));
  return {
    services,
    backendOf(service) {
      const backend = byService.get(service.typeName);
      if (!backend) throw new Error(`no backend is configured for ${service.typeName}`);
      return backend;
    },
    close() {
      for (const backend of byAddress.values()) backend.close();
    },
  };
}
