import { AnalyticsService } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import type { MetricsRegistry } from "@hft/service-kit";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { type Logger, clientTlsOf, createMetricsRegistry, createRedisClient, createTokenVerifier, serverTlsOf } from "@hft/service-kit";
import { setMaxListeners } from "node:events";
import { createAdmission } from "./admission.js";
import { createBackendRoutes } from "./backends.js";
import type { GatewayConfig } from "./config.js";
import { createGatewayHandler } from "./gateway-handler.js";
import { GatewayMetrics } from "./metrics.js";
import { startOnePortServer } from "./one-port-server.js";
import { generateOpenApi } from "./openapi.js";
import { createProbes } from "./probes.js";
import { isRequestStreamPath, publicServices } from "./public-services.js";
import { createRateLimiter } from "./rate-limiter.js";
import { createRestRouter, restRoutesOf } from "./rest-routes.js";
import { createWebSocketHub } from "./websocket-hub.js";


export interface RunningGateway {
  readonly address: string;
  /** Whether the port serves TLS (https) rather than cleartext. */
  readonly tls: boolean;
  readonly registry: MetricsRegistry;
  /** SIGTERM's work: streams and WebSockets told to go, listeners closed, backends disconnected. */
  close(): Promise<void>;
}

/** Wires a gateway from its configuration and starts listening. */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const registry = createMetricsRegistry({ service: "gateway" });
  const metrics = new GatewayMetrics(registry);
  const backends = createBackendRoutes(
    [
      { service: OrderService, address: config.GATEWAY_ORDER_SERVICE },
      { service: MarketDataService, address: config.GATEWAY_MARKET_DATA_SERVICE },
      { service: AnalyticsService, address: config.GATEWAY_ANALYTICS_SERVICE },
    ],
    config.GATEWAY_MAX_BODY_BYTES * 16,
    clientTlsOf(config),
  );
  // Fail fast while Redis is away: a rate-limit check or a probe must not queue behind reconnects.
  const redis = createRedisClient({ url: config.REDIS_URL, logger, maxRetriesPerRequest: 1 });
  const verify = await createTokenVerifier({
    hs256Secret: config.AUTH_HS256_SECRET,
    jwksFile: config.AUTH_JWKS_FILE,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  const rateLimit = createRateLimiter({ redis, keyPrefix: config.GATEWAY_REDIS_KEY_PREFIX, limit: config.GATEWAY_RATE_LIMIT, windowMs: config.GATEWAY_RATE_LIMIT_WINDOW_MS });
  const admit = createAdmission({ verify, rateLimit, metrics });
  const routes = restRoutesOf(publicServices);
  const redisTarget = new URL(config.REDIS_URL).host;
  const checkHealth = createProbes({ backends, redis, redisTarget, timeoutMs: 1_000 });
  const shutdown = new AbortController();
  // Every call in progress listens for the shutdown: far more than Node's default of 10.
  setMaxListeners(0, shutdown.signal);
  const hub = createWebSocketHub({
    backends,
    admit,
    metrics,
    logger,
    heartbeatMs: config.GATEWAY_WS_HEARTBEAT_MS,
    maxBufferedBytes: config.GATEWAY_WS_MAX_BUFFERED_BYTES,
    maxMessageBytes: 64 * 1024,
  });
  const handler = createGatewayHandler({
    services: publicServices,
    backends,
    restRouter: createRestRouter(routes),
    admit,
    verify,
    checkHealth,
    openApi: generateOpenApi(routes, { title: "HFT platform API", version: "v1" }),
    registry,
    metrics,
    logger,
    corsOrigins: config.GATEWAY_CORS_ORIGINS,
    consoleDir: config.GATEWAY_CONSOLE_DIR,
    maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    maxTimeoutMs: config.GATEWAY_MAX_TIMEOUT_MS,
    shutdownSignal: shutdown.signal,
  });
  const tls = serverTlsOf(config);
  if (config.GATEWAY_HEADERS_TIMEOUT_MS > config.GATEWAY_REQUEST_TIMEOUT_MS) {
    throw new Error(`GATEWAY_HEADERS_TIMEOUT_MS (${config.GATEWAY_HEADERS_TIMEOUT_MS}) must not be longer than GATEWAY_REQUEST_TIMEOUT_MS (${config.GATEWAY_REQUEST_TIMEOUT_MS})`);
  }
  const server = await startOnePortServer({
    listen: config.GATEWAY_LISTEN,
    handler,
    onUpgrade: hub.handleUpgrade,
    tls,
    timeouts: { headersMs: config.GATEWAY_HEADERS_TIMEOUT_MS, requestMs: config.GATEWAY_REQUEST_TIMEOUT_MS, keepAliveMs: config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS },
    streamsRequestBody: isRequestStreamPath,
  });
  return {
    address: server.address,
    tls: tls !== undefined,
    registry,
    async close() {
      shutdown.abort();
      await hub.close();
      await server.close();
      backends.close();
      redis.disconnect();
    },
  };
}
